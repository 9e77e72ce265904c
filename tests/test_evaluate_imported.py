"""The judge on KBs imported from article texts: several files, GDR/QFE rows, restarts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kbscan.evaluate import evaluate
from kbscan.kb.article import import_article, read_article
from kbscan.kb.directory import default_source
from kbscan.model import FileFacts, HostFacts, KbDefinition, Status
from kbscan.versions import FileVersion, parse_version_text
from tests.helpers import FIXTURES, make_facts

INETSRV = "C:\\WINDOWS\\system32\\inetsrv\\"


def _kb(name: str) -> KbDefinition:
    path = FIXTURES / "articles" / name
    return import_article(read_article(path), str(path), default_source().platforms()).definition


def _with_files(facts: HostFacts, **versions: str) -> HostFacts:
    files = tuple(
        FileFacts(path=INETSRV + name, present=True, version_text=parse_version_text(text))
        for name, text in versions.items()
    )
    return replace(facts, files=files)


@pytest.fixture(scope="module")
def kb941001() -> KbDefinition:
    return _kb("KB941001-smtp-multi.txt")


@pytest.mark.parametrize(
    ("tag", "version", "status", "required"),
    [
        ("srv03_sp2_gdr.070715-1020", "6.0.3790.4105", Status.COMPLIANT, "6.0.3790.4105"),
        ("srv03_sp2_qfe.070715-1025", "6.0.3790.4105", Status.NEEDS_HOTFIX, "6.0.3790.4106"),
        ("srv03_sp2_qfe.070715-1025", "6.0.3790.4106", Status.COMPLIANT, "6.0.3790.4106"),
        (None, "6.0.3790.4105", Status.NEEDS_HOTFIX, "6.0.3790.4106"),
    ],
)
def test_gdr_and_qfe_rows_follow_the_installed_branch(
    kb941001: KbDefinition, tag: str | None, version: str, status: Status, required: str
) -> None:
    text = f"{version} ({tag})" if tag else version
    facts = _with_files(make_facts(sp=2), **{"mailmsg.dll": text, "smtpsvc.dll": text})
    f = evaluate(facts, kb941001)
    assert f.status is status, f.reason
    assert f.required_version == FileVersion.parse(required)
    assert len(f.files) == 2


def test_the_worst_file_decides(kb941001: KbDefinition) -> None:
    facts = _with_files(
        make_facts(sp=1), **{"mailmsg.dll": "6.0.3790.2961", "smtpsvc.dll": "6.0.3790.1830"}
    )
    f = evaluate(facts, kb941001)
    assert f.status is Status.NEEDS_HOTFIX
    assert f.row is not None and f.row.name == "Smtpsvc.dll"
    assert [j.status for j in f.files] == [Status.COMPLIANT, Status.NEEDS_HOTFIX]


def test_exchange_2003_exclusion_from_the_article(kb941001: KbDefinition) -> None:
    assert evaluate(make_facts(exchange="2003"), kb941001).status is Status.NOT_APPLICABLE


def test_computer_restart_is_the_action() -> None:
    kb = _kb("KB942002-driver-nodate.txt")
    facts = replace(
        make_facts(sp=2, arch="x64"),
        files=(
            FileFacts("C:\\WINDOWS\\system32\\drivers\\storport.sys", True,
                      parse_version_text("5.2.3790.3959")),
            FileFacts("C:\\WINDOWS\\system32\\drivers\\classpnp.sys", True,
                      parse_version_text("5.2.3790.4173")),
        ),
    )  # fmt: skip
    f = evaluate(facts, kb)
    assert f.status is Status.NEEDS_HOTFIX
    assert f.action.endswith("then restart the server.")
