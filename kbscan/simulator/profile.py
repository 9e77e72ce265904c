"""A simulated host: what Windows would hold (WMI classes, files, services, registry)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pefile

PROFILE_SCHEMA = "kbscan.simhost/1"
BEHAVIOURS = (
    "normal",
    "down",
    "refuse",
    "timeout",
    "reset",
    "fault",
    "garbage",
    "garbage-output",
    "slow",
    "huge-output",
    "truncated-output",
    "never-done",  # Receive answers at once, Running, with no output, for ever
    "wrong-relates-to",  # replies name another request's MessageID
    "bad-base64",  # a stream whose content is not base64
    "absent",  # no WinRM listener (Server 2003 as shipped); the host answers over SMB
)


@dataclass
class SimFile:
    content: bytes
    last_modified: str  # CIM datetime
    version: str | None  # what WMI reports; from the binary when not given


@dataclass
class SimHost:
    host: str
    computer_name: str
    env: dict[str, str]
    wmi: dict[str, list[dict[str, Any]]]
    files: dict[str, SimFile]  # lower-case native path -> file
    services: dict[str, str]
    registry: dict[str, dict[str, tuple[str, str]]]  # upper-case key -> values
    behaviour: str = "normal"
    delay: float = 0.0  # seconds added to every request ("slow")
    shell_32bit: bool = False  # the WinRM shell runs as a 32-bit process on x64
    sysnative: bool = True  # KB942589 installed (Sysnative alias exists)
    smb_behaviour: str | None = None  # the SMB endpoint's fault; None: the WinRM one's twin
    language: str = "en-US"  # the display language its commands print in (languages.py)
    extra: dict[str, Any] = field(default_factory=dict)


def _file_version(content: bytes) -> str | None:
    try:
        pe = pefile.PE(data=content)
    except pefile.PEFormatError:
        return None
    fixed = getattr(pe, "VS_FIXEDFILEINFO", None)
    if not fixed:
        return None
    ms, ls = fixed[0].FileVersionMS, fixed[0].FileVersionLS
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def load_profile(path: Path, files_dir: Path) -> SimHost:
    """Read ``<host>.json``; file contents are named relative to ``files_dir``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != PROFILE_SCHEMA:
        raise ValueError(f"{path}: not a {PROFILE_SCHEMA} profile")
    return profile_from_json(data, files_dir)


def profile_from_json(data: dict[str, Any], files_dir: Path) -> SimHost:
    files: dict[str, SimFile] = {}
    for file_path, spec in (data.get("files") or {}).items():
        if "content" in spec:
            content = (files_dir / spec["content"]).read_bytes()
        else:
            content = bytes.fromhex(spec.get("content_hex", ""))
        version = spec.get("wmi_version") or _file_version(content)
        files[file_path.lower()] = SimFile(content, spec["last_modified"], version)
    registry = {
        key.upper().replace("HKLM\\", "HKEY_LOCAL_MACHINE\\"): {
            name: (value[0], value[1]) for name, value in values.items()
        }
        for key, values in (data.get("registry") or {}).items()
    }
    behaviour = data.get("behaviour", "normal")
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}")
    return SimHost(
        host=data["host"],
        computer_name=data.get("computer_name", data["host"].upper()),
        env=dict(data.get("env") or {}),
        wmi={k: list(v) for k, v in (data.get("wmi") or {}).items()},
        files=files,
        services={k.upper(): v for k, v in (data.get("services") or {}).items()},
        registry=registry,
        behaviour=behaviour,
        delay=float(data.get("delay", 0.0)),
        shell_32bit=bool(data.get("shell_32bit", False)),
        sysnative=bool(data.get("sysnative", True)),
        smb_behaviour=(data.get("smb") or {}).get("behaviour"),
        language=str(data.get("language", "en-US")),
        extra=dict(data.get("extra") or {}),
    )
