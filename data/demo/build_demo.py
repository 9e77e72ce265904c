"""Write the demo fleet twice from one list of fictional hosts:

- ``fleet/<host>.json``: simulator profiles (what the Windows host holds: WMI classes,
  files, services, registry, and how it misbehaves), with the DLLs in ``fleet/files``.
  ``kbscan demo`` serves them on loopback and scans them over real WinRM.
- ``collected/<host>/facts.json`` (+ aqueue.dll): the same hosts as stored evidence, for
  ``kbscan evaluate`` on a folder.

``python data/demo/build_demo.py`` rewrites both. The fleet covers each status of
DESIGN.md and all six rows of KB934709, and carries the files of two real multi-platform
KBs: KB2492386 (aclayers.dll on every Server 2003 / XP x64 host, under SysWOW64 on 64-bit
ones) and KB981506 (Windows 7 / Server 2008 R2 hosts on the RTM, GDR and LDR branches).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent.parent / "tests" / "fixtures" / "pe"
OUT = HERE / "collected"
FLEET_DIR = HERE / "fleet"
COLLECTED_AT = "2026-11-24T08:00:00+00:00"
AQUEUE = "C:\\WINDOWS\\system32\\inetsrv\\aqueue.dll"

CAPTIONS = {
    "x86": "Microsoft(R) Windows(R) Server 2003, Standard Edition",
    "x64": "Microsoft(R) Windows(R) Server 2003 Standard x64 Edition",
    "ia64": "Microsoft(R) Windows(R) Server 2003, Enterprise Edition for Itanium-based Systems",
    "r2": "Microsoft(R) Windows(R) Server 2003 R2, Enterprise Edition",
}
TAGS = {
    "1830": "srv03_sp1_rtm.050324-1447",
    "2950": "srv03_sp1_qfe.070606-1226",
    "3959": "srv03_sp2_rtm.070216-1710",
    "4094": "srv03_sp2_qfe.070606-1234",
    "4186": "srv03_sp2_gdr.071102-1401",
    "4300": "srv03_sp2_qfe.080501-0900",
}
FILE_DATES = {
    "0": "2003-03-25T12:00:00+00:00",
    "1830": "2005-03-25T12:00:00+00:00",
    "2950": "2007-06-06T16:07:00+00:00",
    "3959": "2007-02-17T12:00:00+00:00",
    "4094": "2007-06-06T16:32:00+00:00",
    "4186": "2007-11-02T14:01:00+00:00",
    "4300": "2008-05-01T09:00:00+00:00",
    "4844": "2011-03-12T05:57:00+00:00",
    "16385": "2009-07-14T01:17:00+00:00",
    "16617": "2010-06-18T16:21:00+00:00",
    "20667": "2010-03-13T07:16:00+00:00",
    "17514": "2010-11-20T18:50:00+00:00",
}
INETINFO_START = "2026-11-01T06:00:00+00:00"


def host(
    name: str,
    site: str,
    owner: str,
    *,
    sp: int = 2,
    arch: str = "x86",
    rev: str | None = "4094",
    caption: str | None = None,
    version: str = "5.2.3790",
    product_type: int = 3,
    fetched: bool = True,
    binary_arch: str | None = None,
    smtp: bool = True,
    exchange: str | None = None,
    hotfix: bool | None = None,
    pending: bool = False,
    modified: str | None = None,
    failure: tuple[str, str] | None = None,
    aclayers: str | None = "3959",
) -> dict:
    """One Windows Server 2003 (or XP x64) host's facts, as a scan would have stored them."""
    facts: dict = {
        "schema": "kbscan.facts/1",
        "host": name,
        "collected_at": COLLECTED_AT,
        "collector": "offline",
        "target": {"site": site, "owner": owner, "extra": {}},
    }
    if failure is not None:
        facts["failure"] = {"category": failure[0], "message": failure[1]}
        return facts
    if hotfix is None:
        hotfix = rev is not None and rev in ("2950", "4094")
    services = {"IISADMIN": "RUNNING"}
    if smtp:
        services["SMTPSVC"] = "RUNNING"
    if exchange:
        services.update({"MSEXCHANGEIS": "RUNNING", "MSEXCHANGESA": "RUNNING"})
    facts.update(
        {
            "computer_name": name.upper(),
            "system_root": "C:\\WINDOWS",
            "os": {
                "caption": caption or CAPTIONS[arch],
                "version": version,
                "csd_version": f"Service Pack {sp}" if sp else None,
                "service_pack": sp,
                "product_type": product_type,
            },
            "architecture": arch,
            "services": services,
            "products": [{"name": "Exchange Server", "version": exchange}] if exchange else [],
            "hotfixes": ["KB934709"] if hotfix else [],
            "pending_renames": (
                [
                    {
                        "source": "\\??\\C:\\WINDOWS\\system32\\inetsrv\\SET3F.tmp",
                        "destination": "!\\??\\" + AQUEUE,
                    }
                ]
                if pending
                else []
            ),
            "process_starts": {"inetinfo.exe": INETINFO_START},
            "files": [],
        }
    )
    if rev is None:
        facts["files"] = [{"path": AQUEUE, "present": False}]
        facts["files"] += aclayers_entries(arch, version, aclayers, fetched)
        return facts
    file_version = f"6.0.3790.{rev}"
    entry: dict = {
        "path": AQUEUE,
        "present": True,
        "version": file_version,
        "size": 501760,
        "modified": modified or FILE_DATES[rev],
    }
    fixture_arch = binary_arch or arch
    fixture = next(FIXTURES.glob(f"aqueue-{fixture_arch}-{file_version}-*.dll"), None)
    entry["_fixture"] = fixture
    if fetched and fixture is not None:
        entry["size"] = fixture.stat().st_size
        entry["collected"] = "aqueue.dll"
        entry["_copy_from"] = fixture
    entry["_fetched"] = fetched
    facts["files"] = [entry, *aclayers_entries(arch, version, aclayers, fetched)]
    return facts


def aclayers_entries(arch: str, version: str, aclayers: str | None, fetched: bool) -> list[dict]:
    """KB2492386's file: native on x86, the WOW64 copy on x64 and IA-64 (its table lists
    only the 32-bit one for them)."""
    if aclayers is None or version != "5.2.3790":
        return []
    folder = "system32" if arch == "x86" else "SysWOW64"
    return [
        file_entry(f"C:\\WINDOWS\\{folder}\\aclayers.dll", "aclayers", "x86",
                   f"5.2.3790.{aclayers}", fetched, folder)
    ]  # fmt: skip


def file_entry(
    path: str, stem: str, arch: str, version: str, fetched: bool, folder: str
) -> dict:
    """A file as the facts hold it, and the fixture the simulated host serves for it."""
    fixture = next(FIXTURES.glob(f"{stem}-{arch}-{version}-*.dll"))
    entry: dict = {
        "path": path,
        "present": True,
        "version": version,
        "size": fixture.stat().st_size,
        "modified": FILE_DATES[version.rsplit(".", 1)[1]],
        "_fixture": fixture,
        "_fetched": fetched,
    }
    if fetched:
        entry["collected"] = f"{folder}-{path.rsplit(chr(92), 1)[1]}"
        entry["_copy_from"] = fixture
    return entry


# KB981506's files of Windows 7 / Server 2008 R2, as its tables place them.
WIN7_FILES = {
    "drivers\\cng.sys": "cng", "drivers\\ksecdd.sys": "ksecdd", "drivers\\ksecpkg.sys": "ksecpkg",
    "lsasrv.dll": "lsasrv", "lsass.exe": "lsass", "secur32.dll": "secur32",
    "sspicli.dll": "sspicli", "sspisrv.dll": "sspisrv",
}  # fmt: skip
WOW_FILES = ("secur32.dll", "sspicli.dll")
WIN7_CAPTIONS = {
    3: "Microsoft Windows Server 2008 R2 Enterprise ",
    1: "Microsoft Windows 7 Enterprise ",
}


def host6(
    name: str,
    site: str,
    owner: str,
    *,
    arch: str = "x64",
    product_type: int = 3,
    build: str = "7600",
    versions: dict[str, str] | None = None,
    wow: str | None = None,
    hotfix: bool = False,
) -> dict:
    """A Windows 7 / Server 2008 R2 host: KB981506's files at the revisions given (RTM
    16385, GDR 16617, LDR 20667 on build 7600; 17514 on SP1's build 7601)."""
    sp = 1 if build == "7601" else 0
    default = "17514" if build == "7601" else "16385"
    versions = versions or {}
    files = []
    for rel, short in WIN7_FILES.items():
        rev = versions.get(short, default)
        files.append(
            file_entry(f"C:\\Windows\\System32\\{rel}", "component", arch,
                       f"6.1.{build}.{rev}", True, "System32")
        )  # fmt: skip
    if arch == "x64":
        for wow_file in WOW_FILES:
            files.append(
                file_entry(f"C:\\Windows\\SysWOW64\\{wow_file}", "component", "x86",
                           f"6.1.{build}.{wow or default}", True, "SysWOW64")
            )  # fmt: skip
    return {
        "schema": "kbscan.facts/1",
        "host": name,
        "collected_at": COLLECTED_AT,
        "collector": "offline",
        "target": {"site": site, "owner": owner, "extra": {}},
        "computer_name": name.upper(),
        "system_root": "C:\\Windows",
        "os": {
            "caption": WIN7_CAPTIONS[product_type],
            "version": f"6.1.{build}",
            "csd_version": "Service Pack 1" if sp else None,
            "service_pack": sp,
            "product_type": product_type,
        },
        "architecture": arch,
        "services": {},
        "products": [],
        "hotfixes": ["KB981506"] if hotfix else [],
        "pending_renames": [],
        "process_starts": {},
        "files": files,
    }


ARCH_CODES = {"x86": 0, "x64": 9, "ia64": 6}
ENV_ARCH = {"x86": "x86", "x64": "AMD64", "ia64": "IA64"}
BEHAVIOURS = {"unreachable": "down", "refused credentials": "refuse", "timeout": "timeout",
              "WinRM fault": "fault"}  # fmt: skip
EXCHANGE_VERSIONS = {"2000": ("0x6", "0x0"), "2003": ("0x6", "0x5")}


def cim(iso: str) -> str:
    """ISO 8601 (UTC) as a CIM datetime, as WMI prints it."""
    day, time_ = iso[:10].replace("-", ""), iso[11:19].replace(":", "")
    return f"{day}{time_}.000000+000"


# Hosts whose commands print in another display language and code page (the simulator's
# kbscan/simulator/languages.py): a fleet outside the English-speaking world.
LANGUAGES = {
    "fra-smtp01": "de-DE", "fra-fs01": "de-DE", "fra-smtp02": "fr-FR", "fra-smtp03": "es-ES",
    "lon-ws02": "pt-BR", "nyc-fs02": "ja-JP", "lon-smtp04": "ru-RU", "nyc-smtp02": "zh-CN",
}  # fmt: skip


def profile(facts: dict) -> dict:
    """What the host of these facts holds, as the simulator serves it."""
    target = facts["target"]
    out: dict = {
        "schema": "kbscan.simhost/1",
        "host": facts["host"],
        "computer_name": facts["host"].upper(),
        "extra": {"site": target["site"], "owner": target["owner"]},
    }
    if facts["host"] in LANGUAGES:
        out = {**dict(list(out.items())[:3]), "language": LANGUAGES[facts["host"]],
               **dict(list(out.items())[3:])}  # fmt: skip
    if "failure" in facts:
        out["behaviour"] = BEHAVIOURS[facts["failure"]["category"]]
        facts = host(facts["host"], target["site"], target["owner"])  # a normal host behind it
    os_ = facts["os"]
    arch = facts["architecture"]
    out["env"] = {"SystemRoot": facts["system_root"], "PROCESSOR_ARCHITECTURE": ENV_ARCH[arch]}
    qfe = [{"HotFixID": h} for h in facts["hotfixes"]]
    out["wmi"] = {
        "Win32_OperatingSystem": [{
            "Caption": os_["caption"], "CSDVersion": os_["csd_version"] or "",
            "ProductType": os_["product_type"], "ServicePackMajorVersion": os_["service_pack"],
            "Version": os_["version"], "WindowsDirectory": facts["system_root"],
        }],
        "Win32_Processor": [{"Architecture": ARCH_CODES[arch]}],
        "Win32_QuickFixEngineering": qfe,
        "Win32_Process": [
            {"Name": name, "CreationDate": cim(start)}
            for name, start in facts["process_starts"].items()
        ],
    }  # fmt: skip
    out["services"] = facts["services"]
    registry: dict = {}
    next_sp = "SP3" if os_["service_pack"] >= 2 else "SP2"
    for hotfix in facts["hotfixes"] if os_["version"].startswith("5.") else ():
        key = f"HKLM\\SOFTWARE\\Microsoft\\Updates\\Windows Server 2003\\{next_sp}\\{hotfix}"
        registry[key] = {"Description": ["REG_SZ", f"Hotfix for Windows Server 2003 ({hotfix})"]}
    for product in facts["products"]:
        major, minor = EXCHANGE_VERSIONS[product["version"]]
        registry["HKLM\\SOFTWARE\\Microsoft\\Exchange\\Setup"] = {
            "Services": ["REG_SZ", "C:\\Program Files\\Exchsrvr"],
            "MsiProductMajor": ["REG_DWORD", major],
            "MsiProductMinor": ["REG_DWORD", minor],
        }
    if facts["pending_renames"]:
        items = []
        for rename in facts["pending_renames"]:
            items += [rename["source"], rename["destination"]]
        registry["HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager"] = {
            "PendingFileRenameOperations": ["REG_MULTI_SZ", "\\0".join(items) + "\\0\\0"]
        }
    out["registry"] = registry
    out["files"] = {}
    for entry in facts["files"]:
        if not entry.get("present"):
            continue
        fixture = entry["_fixture"]
        if fixture is None:
            continue
        out["files"][entry["path"]] = {
            "content": fixture.name,
            "last_modified": cim(entry["modified"]),
        }
        if not entry["_fetched"]:
            out["extra"]["deny_read"] = True  # the copy cannot be fetched: WMI evidence only
    return out


FLEET = [
    # The six rows of KB934709, at, below and above the fixed version.
    host("lon-smtp01", "London", "mail-team", sp=2, arch="x86", rev="4094"),
    host("lon-smtp02", "London", "mail-team", sp=2, arch="x86", rev="3959"),
    host("lon-smtp03", "London", "mail-team", sp=2, arch="x86", rev="4300", hotfix=True),
    host("lon-smtp04", "London", "web-team", sp=1, arch="x86", rev="2950"),
    host("lon-smtp05", "London", "web-team", sp=1, arch="x86", rev="1830"),
    host("nyc-smtp01", "New York", "mail-team", sp=1, arch="ia64", rev="2950"),
    host("nyc-smtp02", "New York", "mail-team", sp=1, arch="ia64", rev="1830"),
    host("nyc-smtp03", "New York", "mail-team", sp=2, arch="ia64", rev="4094"),
    host("nyc-smtp04", "New York", "mail-team", sp=2, arch="ia64", rev="3959"),
    host("fra-smtp01", "Frankfurt", "infra", sp=1, arch="x64", rev="2950"),
    host("fra-smtp02", "Frankfurt", "infra", sp=0, arch="x64", rev="1830"),
    host("fra-smtp03", "Frankfurt", "infra", sp=2, arch="x64", rev="4094"),
    host("fra-smtp04", "Frankfurt", "infra", sp=2, arch="x64", rev="3959"),
    # Below the prerequisite.
    host("lon-relay01", "London", "infra", sp=0, arch="x86", rev=None, fetched=False),
    host("nyc-relay01", "New York", "infra", sp=0, arch="ia64", rev=None, fetched=False),
    # R2 is judged as its service pack.
    host("lon-r2-01", "London", "web-team", sp=2, arch="x86", rev="3959", caption=CAPTIONS["r2"]),
    host("fra-r2-02", "Frankfurt", "web-team", sp=2, arch="x64", rev="4094",
         caption="Microsoft(R) Windows(R) Server 2003 R2, Enterprise x64 Edition"),
    # Not applicable.
    host("lon-exch01", "London", "mail-team", exchange="2003", rev="3959"),
    host("nyc-exch02", "New York", "mail-team", exchange="2000", rev="3959", fetched=False),
    host("lon-web01", "London", "web-team", smtp=False, rev="3959", fetched=False),
    host("fra-dc01", "Frankfurt", "infra", version="6.0.6001", rev=None,
         caption="Microsoft(R) Windows(R) Server 2008 Standard", fetched=False),
    host("lon-ws01", "London", "infra", sp=2, arch="x64", product_type=1, rev="3959",
         caption="Microsoft(R) Windows(R) XP Professional x64 Edition", fetched=False),
    # Restart pending.
    host("nyc-smtp05", "New York", "mail-team", sp=2, rev="3959", hotfix=True, pending=True),
    host("fra-smtp05", "Frankfurt", "infra", sp=2, arch="x64", rev="4094",
         modified="2026-11-20T22:14:00+00:00"),
    # Suspect: evidence disagrees.
    host("lon-smtp06", "London", "mail-team", sp=2, arch="x86", rev="4094", binary_arch="x64"),
    host("lon-smtp07", "London", "mail-team", sp=2, arch="x86", rev="2950"),
    host("nyc-smtp06", "New York", "web-team", sp=1, arch="x86", rev="1830", hotfix=True),
    host("fra-smtp06", "Frankfurt", "infra", sp=2, arch="x86", rev="4186", hotfix=False),
    host("lon-smtp09", "London", "mail-team", sp=2, arch="x86", rev=None),
    # WMI evidence only (no copy fetched).
    host("nyc-smtp08", "New York", "mail-team", sp=2, arch="x86", rev="4094", fetched=False),
    host("fra-smtp09", "Frankfurt", "infra", sp=1, arch="x64", rev="1830", fetched=False),
    # Could not collect.
    host("lon-smtp08", "London", "mail-team",
         failure=("unreachable", "connection refused by 10.20.1.18:5985")),
    host("nyc-smtp07", "New York", "mail-team",
         failure=("refused credentials", "the server rejected the credentials (HTTP 401)")),
    host("fra-smtp07", "Frankfurt", "infra",
         failure=("timeout", "no answer within the 120 s per-host deadline")),
    host("fra-smtp08", "Frankfurt", "infra",
         failure=("WinRM fault", "w:QuotaLimit: the WS-Management service cannot process the "
                  "request because the maximum number of concurrent shells is reached")),
    # KB2492386 (aclayers.dll 5.2.3790.4844, GDR and QFE rows): at the fix on the GDR
    # branch, and an XP x64 workstation whose WOW64 copy is older.
    host("lon-smtp12", "London", "mail-team", sp=2, arch="x86", rev="4094", aclayers="4844"),
    host("lon-ws03", "London", "infra", sp=2, arch="x64", product_type=1, rev="3959",
         caption="Microsoft(R) Windows(R) XP Professional x64 Edition", fetched=False),
    # Windows 7 / Server 2008 R2 (KB981506: LDR-only fix, GDR rows for unchanged files).
    host6("lon-fs01", "London", "infra"),  # everything at RTM: needs the LDR package
    host6("lon-fs02", "London", "infra", hotfix=True, wow="20667",  # LDR, and an LDR Cng.sys
          versions={"cng": "20667", "ksecdd": "20667", "ksecpkg": "20667", "lsasrv": "20667",
                    "sspicli": "20667", "sspisrv": "20667"}),
    host6("nyc-fs01", "New York", "infra", hotfix=True, wow="16385",  # WOW64 copies behind
          versions={"ksecdd": "20667", "ksecpkg": "20667", "lsasrv": "20667",
                    "sspicli": "20667", "sspisrv": "20667"}),
    host6("fra-fs01", "Frankfurt", "infra", versions={"lsasrv": "16617", "cng": "16617"}),
    host6("nyc-fs02", "New York", "infra", build="7601"),  # SP1: the RTM hotfix is not for it
    host6("lon-ws02", "London", "infra", arch="x86", product_type=1,
          versions={"ksecdd": "20667", "ksecpkg": "20667", "lsasrv": "20667",
                    "sspicli": "20667", "sspisrv": "20667"}, hotfix=True),
]  # fmt: skip


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    if FLEET_DIR.exists():
        shutil.rmtree(FLEET_DIR)
    (FLEET_DIR / "files").mkdir(parents=True)
    for facts in FLEET:
        sim = profile(facts)
        for spec in sim["files"].values():
            shutil.copyfile(FIXTURES / spec["content"], FLEET_DIR / "files" / spec["content"])
        (FLEET_DIR / f"{facts['host']}.json").write_text(json.dumps(sim, indent=2) + "\n")
    for facts in FLEET:
        folder = OUT / facts["host"]
        folder.mkdir(parents=True)
        for entry in facts.get("files", []):
            entry.pop("_fixture", None)
            entry.pop("_fetched", None)
            source = entry.pop("_copy_from", None)
            if source is not None:
                shutil.copyfile(source, folder / entry["collected"])
        (folder / "facts.json").write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(FLEET)} hosts under {OUT}")


if __name__ == "__main__":
    main()
