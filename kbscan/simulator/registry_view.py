"""The registry a simulated host's profile implies, as the remote registry serves it.

A profile states WMI records (Win32_OperatingSystem, Win32_Processor) and a few registry
keys (update records, PendingFileRenameOperations, Exchange). Windows keeps the same
facts in the registry too, where an SMB scanner reads them: CurrentVersion holds the
product name, version, build and CSD version; ProductOptions the product type; the
Session Manager's Environment the native processor architecture. This view derives
those keys from the profile (a key the profile states itself wins), so that the WinRM
simulator and the SMB endpoint answer from the one description of the host.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from kbscan.simulator.profile import SimHost

HKLM = "HKEY_LOCAL_MACHINE"
CURRENT_VERSION = HKLM + r"\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
PRODUCT_OPTIONS = HKLM + r"\SYSTEM\CurrentControlSet\Control\ProductOptions"
SESSION_MANAGER = HKLM + r"\SYSTEM\CurrentControlSet\Control\Session Manager"
ENVIRONMENT = SESSION_MANAGER + r"\Environment"
COMPUTER_NAME = HKLM + r"\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName"
CBS_PACKAGES = (
    HKLM + r"\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages"
)

REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_QWORD = 1, 2, 3, 4, 7, 11
_TYPES = {
    "REG_SZ": REG_SZ,
    "REG_EXPAND_SZ": REG_EXPAND_SZ,
    "REG_BINARY": REG_BINARY,
    "REG_DWORD": REG_DWORD,
    "REG_MULTI_SZ": REG_MULTI_SZ,
    "REG_QWORD": REG_QWORD,
}
_PRODUCT_TYPES = {1: "WinNT", 2: "LanmanNT", 3: "ServerNT"}
_ARCHITECTURES = {0: "x86", 9: "AMD64", 6: "IA64"}


@dataclass(frozen=True)
class RegValue:
    kind: int
    data: bytes  # as the registry stores it: UTF-16LE strings with their terminators


def encode_value(kind: str, text: str) -> RegValue:
    """A value written as reg.exe prints it (the profiles' form) in registry bytes."""
    code = _TYPES.get(kind.upper())
    if code is None:
        raise ValueError(f"unknown registry type {kind!r}")
    if code in (REG_SZ, REG_EXPAND_SZ):
        return RegValue(code, (text + "\0").encode("utf-16-le"))
    if code == REG_MULTI_SZ:
        items = [item for item in text.split("\\0") if item]
        return RegValue(code, "".join(item + "\0" for item in items).encode("utf-16-le") + b"\0\0")
    if code == REG_DWORD:
        return RegValue(code, struct.pack("<I", int(text, 0)))
    if code == REG_QWORD:
        return RegValue(code, struct.pack("<Q", int(text, 0)))
    return RegValue(code, bytes.fromhex(text))


class RegistryView:
    """HKLM of one host: keys by upper-case path, each with its values and subkeys."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, tuple[str, RegValue]]] = {}
        self._children: dict[str, dict[str, str]] = {}

    def add_key(self, path: str) -> None:
        parts = path.split("\\")
        for depth in range(1, len(parts) + 1):
            key = "\\".join(parts[:depth]).upper()
            self._values.setdefault(key, {})
            if depth > 1:
                parent = "\\".join(parts[: depth - 1]).upper()
                self._children.setdefault(parent, {}).setdefault(
                    parts[depth - 1].upper(), parts[depth - 1]
                )

    def set(self, path: str, name: str, value: RegValue) -> None:
        self.add_key(path)
        self._values[path.upper()][name.upper()] = (name, value)

    def exists(self, path: str) -> bool:
        return path.upper() in self._values

    def value(self, path: str, name: str) -> RegValue | None:
        found = self._values.get(path.upper(), {}).get(name.upper())
        return found[1] if found else None

    def subkeys(self, path: str) -> list[str]:
        return sorted(self._children.get(path.upper(), {}).values(), key=str.upper)

    def values(self, path: str) -> list[tuple[str, RegValue]]:
        return sorted(self._values.get(path.upper(), {}).values(), key=lambda v: v[0].upper())


def registry_of(host: SimHost) -> RegistryView:
    view = RegistryView()
    os_record = _first(host.wmi.get("Win32_OperatingSystem"))
    cpu = _first(host.wmi.get("Win32_Processor"))
    system_root = host.env.get("SystemRoot") or os_record.get("WindowsDirectory") or "C:\\WINDOWS"
    version = str(os_record.get("Version") or "")
    major_minor, _, build = version.rpartition(".")
    strings = {
        "ProductName": _product_name(str(os_record.get("Caption") or "")),
        "CurrentVersion": major_minor,
        "CurrentBuildNumber": build,
        "CSDVersion": str(os_record.get("CSDVersion") or ""),
        "SystemRoot": system_root,
    }
    for name, text in strings.items():
        if text:
            view.set(CURRENT_VERSION, name, encode_value("REG_SZ", text))
    product_type = _PRODUCT_TYPES.get(_int(os_record.get("ProductType")))
    if product_type:
        view.set(PRODUCT_OPTIONS, "ProductType", encode_value("REG_SZ", product_type))
    native = _ARCHITECTURES.get(_int(cpu.get("Architecture")))
    if native is None:
        env = host.env.get("PROCESSOR_ARCHITEW6432") or host.env.get("PROCESSOR_ARCHITECTURE")
        native = env or None
    if native:
        view.set(ENVIRONMENT, "PROCESSOR_ARCHITECTURE", encode_value("REG_SZ", native))
    view.set(COMPUTER_NAME, "ComputerName", encode_value("REG_SZ", host.computer_name))
    if not version.startswith(("4.", "5.")):
        # Vista and later list installed updates as component-store packages, which is
        # where WMI's Win32_QuickFixEngineering finds them
        package_arch = {"x86": "x86", "AMD64": "amd64", "IA64": "ia64"}.get(native or "", "x86")
        for record in host.wmi.get("Win32_QuickFixEngineering") or []:
            hotfix = str(record.get("HotFixID") or "")
            if hotfix.upper().startswith("KB"):
                name = f"Package_for_{hotfix}~31bf3856ad364e35~{package_arch}~~{major_minor}.1.0"
                view.set(
                    CBS_PACKAGES + "\\" + name, "CurrentState", encode_value("REG_DWORD", "0x70")
                )
    view.add_key(SESSION_MANAGER)
    for key, values in host.registry.items():  # what the profile states wins
        view.add_key(key)
        for name, (kind, text) in values.items():
            view.set(key, name, encode_value(kind, text))
    return view


def _product_name(caption: str) -> str:
    """Win32_OperatingSystem.Caption without WMI's (R) marks: close to ProductName."""
    return caption.replace("(R)", "").replace("  ", " ").strip()


def _first(records: list[dict[str, Any]] | None) -> dict[str, Any]:
    return records[0] if records else {}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
