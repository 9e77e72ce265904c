"""Test helpers: real fixture DLLs and a HostFacts builder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kbscan.collect.pe import read_pe_file
from kbscan.model import (
    Arch,
    BinaryInfo,
    FileFacts,
    HostFacts,
    OsFacts,
    PendingRename,
    Target,
)
from kbscan.versions import parse_version_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PE_DIR = FIXTURES / "pe"
AQUEUE = "C:\\WINDOWS\\system32\\inetsrv\\aqueue.dll"
CAPTION = "Microsoft(R) Windows(R) Server 2003, Standard Edition"
UTC = UTC


FULL_SIZE_DLL = PE_DIR / "aqueue-x86-6.0.3790.4094-qfe-fullsize.dll"  # 501,760 bytes, as shipped


def fixture_dll(arch: str, version: str) -> Path:
    matches = [
        p
        for p in sorted(PE_DIR.glob(f"aqueue-{arch}-{version}-*.dll"))
        if not p.stem.endswith("-fullsize")
    ]
    assert len(matches) == 1, f"no single fixture for {arch} {version}: {matches}"
    return matches[0]


_BINARIES: dict[Path, BinaryInfo] = {}


def binary_of(arch: str, version: str) -> tuple[BinaryInfo, str]:
    path = fixture_dll(arch, version)
    if path not in _BINARIES:
        _BINARIES[path] = read_pe_file(path)
    return _BINARIES[path], str(path)


def make_facts(
    *,
    host: str = "smtp01",
    sp: int = 2,
    arch: str = "x86",
    version: str | None = "6.0.3790.4094",
    wmi_version: str | None = "same",
    binary: bool = True,
    binary_arch: str | None = None,
    os_version: str = "5.2.3790",
    caption: str = CAPTION,
    product_type: int = 3,
    smtp: bool = True,
    exchange: str | None = None,
    hotfix: bool = False,
    pending: bool = False,
    modified: datetime | None = datetime(2007, 6, 6, 16, 32, tzinfo=UTC),
    inetinfo_start: datetime | None = datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
) -> HostFacts:
    """Facts as a collector would report them for one Windows Server 2003 host."""
    files: tuple[FileFacts, ...]
    if version is None:
        files = (FileFacts(path=AQUEUE, present=False),)
    else:
        info, source = binary_of(binary_arch or arch, version) if binary else (None, None)
        wmi = version if wmi_version == "same" else wmi_version
        files = (
            FileFacts(
                path=AQUEUE,
                present=True,
                version_text=parse_version_text(wmi) if wmi else None,
                size=info.size if info else 501760,
                modified=modified,
                binary=info,
                binary_source=source,
            ),
        )
    services = (("IISADMIN", "RUNNING"),) + ((("SMTPSVC", "RUNNING"),) if smtp else ())
    return HostFacts(
        host=host,
        collected_at=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        target=Target(host=host, site="London", owner="mail-team"),
        computer_name=host.upper(),
        system_root="C:\\WINDOWS",
        os=OsFacts(
            caption=caption,
            version=os_version,
            csd_version=f"Service Pack {sp}" if sp else None,
            service_pack=sp,
            product_type=product_type,
        ),
        architecture=Arch(arch),
        services=services,
        products=(("Exchange Server", exchange),) if exchange else (),
        hotfixes=("KB934709",) if hotfix else (),
        pending_renames=(
            (PendingRename("\\??\\C:\\WINDOWS\\system32\\inetsrv\\SET3F.tmp", "!\\??\\" + AQUEUE),)
            if pending
            else ()
        ),
        process_starts=(("inetinfo.exe", inetinfo_start),) if inetinfo_start else (),
        files=files,
    )
