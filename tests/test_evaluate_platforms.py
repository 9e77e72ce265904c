"""The judge picks the host's own platform among those a v2 KB covers (the import issue's
schema through the house); deeper branch rules are the multi-platform judge's work."""

from __future__ import annotations

from datetime import UTC, datetime

from kbscan.evaluate import evaluate
from kbscan.kb.article import import_article, read_article
from kbscan.kb.directory import default_source
from kbscan.model import Arch, FileFacts, HostFacts, KbDefinition, OsFacts, Status
from kbscan.versions import parse_version_text
from tests.helpers import FIXTURES

FILES = ("Cng.sys", "Ksecdd.sys", "Ksecpkg.sys", "Lsasrv.dll", "Lsass.exe", "Secur32.dll",
         "Sspicli.dll", "Sspisrv.dll")  # fmt: skip


def _kb() -> KbDefinition:
    path = FIXTURES / "articles" / "real" / "KB981506.md"
    return import_article(read_article(path), str(path), default_source().platforms()).definition


def _host(product_type: int, arch: Arch, lsasrv: str, version: str = "6.1.7600") -> HostFacts:
    kb = _kb()
    files = []
    for row in kb.files:
        if not row.checkable or row.architecture is not arch:
            continue
        text = lsasrv if row.name == "Lsasrv.dll" else str(row.version)
        files.append(FileFacts(path=row.path, present=True, version_text=parse_version_text(text)))
    unique = {f.path.lower(): f for f in files}
    return HostFacts(
        host="h",
        collected_at=datetime(2026, 11, 24, tzinfo=UTC),
        system_root="C:\\Windows",
        os=OsFacts("Windows", version, None, 0, product_type),
        architecture=arch,
        services=(),
        products=(),
        hotfixes=(),
        pending_renames=(),
        files=tuple(unique.values()),
    )


def test_the_hosts_platform_row_and_status() -> None:
    kb = _kb()
    r2_old = evaluate(_host(3, Arch.X64, "6.1.7600.16385"), kb)
    assert r2_old.platform is not None and r2_old.platform.id == "windows-server-2008-r2"
    assert r2_old.status is Status.NEEDS_HOTFIX
    assert "Lsasrv.dll 6.1.7600.16385 is older than 6.1.7600.20667" in r2_old.reason
    assert "Windows Server 2008 R2 SP0 x64 LDR" in r2_old.action
    assert evaluate(_host(3, Arch.X64, "6.1.7600.20667"), kb).status is Status.COMPLIANT
    win7 = evaluate(_host(1, Arch.X86, "6.1.7600.20667"), kb)
    assert win7.platform is not None and win7.platform.id == "windows-7"
    assert win7.status is Status.COMPLIANT
    no_x86 = evaluate(_host(3, Arch.X86, "6.1.7600.20667"), kb)
    assert no_x86.status is Status.NOT_APPLICABLE
    assert no_x86.reason == "Windows Server 2008 R2 has no x86 edition"
    vista = evaluate(_host(1, Arch.X86, "6.0.6002.18000", version="6.0.6002"), kb)
    assert vista.status is Status.NOT_APPLICABLE
    assert vista.reason.startswith("runs Windows (6.0.6002), not Windows 7, Windows Server 2008 R2")
