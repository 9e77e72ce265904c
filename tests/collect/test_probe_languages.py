"""The probe on hosts that speak another display language, in their own code page.

Each host runs the probe line through the simulator's cmd interpreter, which prints
reg.exe's, sc.exe's, wmic's and chcp's messages and labels translated and encoded as
that Windows does (kbscan/simulator/languages.py); the facts must be those of the same
host in English. Then the whole demo fleet, each host in a language of its own, must
get the statuses it gets in English.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kbscan import app
from kbscan.collect.plan import plan_for
from kbscan.collect.probe import build_probe, code_page, parse_probe_output
from kbscan.collect.winrm import WinrmSettings
from kbscan.kb.baseline import KbSet
from kbscan.limits import Limits
from kbscan.model import SERVICE_UNREADABLE, Protocol, Status, Target
from kbscan.paths import data_dir
from kbscan.simulator.fleet import SimulatedFleet
from kbscan.simulator.languages import LANGUAGES
from kbscan.simulator.profile import SimHost
from kbscan.simulator.shell import Shell
from tests.simfleet import PASSWORD, USER, demo_hosts

WHEN = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
BASELINE = data_dir() / "demo" / "baseline.toml"
OTHERS = sorted(t for t in LANGUAGES if t != "en-US")


@pytest.fixture(scope="module")
def kbs() -> KbSet:
    return app.kb_set((), None, BASELINE)


def _facts(host: SimHost, kbs: KbSet, language: str, services: tuple[str, ...] = ()) -> object:
    speaking = dataclasses.replace(host, language=language)
    plan = plan_for(kbs.kbs)
    if services:  # a set whose KBs need these services installed
        plan = dataclasses.replace(plan, services=services)
    result = Shell(speaking).run(build_probe(plan))
    facts = parse_probe_output(bytes(result.stdout), plan, Target(host.host), WHEN)
    return dataclasses.replace(facts, collected_at=WHEN)


def _host(name: str) -> SimHost:
    return next(h for h in demo_hosts() if h.host == name)


def test_at_least_seven_display_languages() -> None:
    assert set(OTHERS) >= {"de-DE", "fr-FR", "es-ES", "pt-BR", "ru-RU", "ja-JP", "zh-CN"}


@pytest.mark.parametrize("language", OTHERS)
@pytest.mark.parametrize(
    "name",
    [
        "lon-smtp01",  # 2003 SP2: no pending renames (reg.exe's "not found"), SMTP running
        "nyc-smtp05",  # a staged replacement in PendingFileRenameOperations
        "lon-fs01",  # no SMTP service (sc's 1060), no inetinfo.exe (wmic's no instances)
        "lon-exch01",  # the Exchange setup key
        "fra-r2-02",  # x64, files under SysWOW64
    ],
)
def test_the_same_facts_in_every_language(name: str, language: str, kbs: KbSet) -> None:
    host = _host(name)
    host = dataclasses.replace(host, extra={**host.extra, "wmic_first_run": True})
    english = _facts(host, kbs, "en-US")
    assert english.failure is None  # type: ignore[attr-defined]
    assert _facts(host, kbs, language) == english


@pytest.mark.parametrize("language", OTHERS)
def test_a_refused_service_query_costs_that_service_alone(language: str, kbs: KbSet) -> None:
    host = _host("lon-smtp01")
    refused = dataclasses.replace(host, extra={**host.extra, "sc_denied": ["SMTPSVC"]})
    facts = _facts(refused, kbs, language, services=("SMTPSVC", "IISADMIN"))
    assert facts.failure is None  # type: ignore[attr-defined]
    assert facts.service_state("SMTPSVC") == SERVICE_UNREADABLE  # type: ignore[attr-defined]
    assert facts.service_state("IISADMIN") == "RUNNING"  # type: ignore[attr-defined]
    assert facts.os is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("answer", "codec"),
    [
        (b"Active code page: 437\r\n", "cp437"),
        ("Aktive Codepage: 850.\r\n".encode("cp850"), "cp850"),
        ("Текущая кодовая страница: 866\r\n".encode("cp866"), "cp866"),
        ("現在のコード ページ: 932\r\n".encode("cp932"), "cp932"),
        ("活动代码页: 936\r\n".encode("cp936"), "cp936"),
        (b"Active code page: 949\r\n", "cp949"),
        (b"Active code page: 950\r\n", "cp950"),
        (b"Active code page: 1251\r\n", "cp1251"),
        (b"Active code page: 65001\r\n", "cp65001"),
        (b"", "cp437"),
        (b"Active code page: 12345\r\n", "cp437"),
    ],
)
def test_the_code_page_is_read_as_a_number(answer: bytes, codec: str) -> None:
    assert code_page(answer) == codec


@pytest.mark.parametrize("language", ["de-DE", "fr-FR", "ru-RU", "ja-JP", "zh-CN"])
def test_non_ascii_captions_and_paths_survive(language: str, kbs: KbSet) -> None:
    host = _host("lon-smtp01")
    wmi = {k: [dict(r) for r in v] for k, v in host.wmi.items()}
    caption = {
        "de-DE": "Microsoft® Windows Server® 2003 für Small Business Server",
        "fr-FR": "Microsoft® Windows Server® 2003, Édition Standard",
        "ru-RU": "Microsoft Windows Server 2003, Стандартный выпуск",
        "ja-JP": "Microsoft Windows Server 2003, 標準エディション",
        "zh-CN": "Microsoft Windows Server 2003 标准版",
    }[language]
    wmi["Win32_OperatingSystem"][0]["Caption"] = caption
    facts = _facts(dataclasses.replace(host, wmi=wmi), kbs, language)
    assert facts.os.caption == caption  # type: ignore[attr-defined]


def test_the_demo_fleet_gets_the_same_statuses_in_every_language(tmp_path: Path) -> None:
    hosts = demo_hosts()
    localized = [
        dataclasses.replace(h, language=OTHERS[i % len(OTHERS)]) for i, h in enumerate(hosts)
    ]
    statuses = []
    for name, fleet_hosts in (("en", hosts), ("localized", localized)):
        with SimulatedFleet(fleet_hosts, USER, PASSWORD, operation_timeout=0.5) as fleet:
            inventory = fleet.write_inventory(tmp_path / f"{name}.csv", transport="ntlm")
            settings = WinrmSettings(
                username=USER, password=PASSWORD, transport="ntlm", fetch_files=True,
                read_timeout=4, operation_timeout=2,
            )  # fmt: skip
            outcome = app.scan_fleet(
                inventory, (), tmp_path / name, settings,
                limits=Limits(deadline=20, workers=8, retries=0, processes=1),
                baseline=BASELINE, protocol=Protocol.WINRM,
        )  # fmt: skip
        statuses.append(
            {(f.host, f.kb_id): (f.status, f.reason) for f in outcome.evaluation.findings}
        )
    english, other = statuses
    assert {k: s for k, (s, _) in english.items()} == {k: s for k, (s, _) in other.items()}
    # the reasons too, but for the host that never finishes: where its answer stood
    # when its deadline came is a matter of timing
    assert {k: v for k, v in english.items() if v[0] is not Status.UNKNOWN} == {
        k: v for k, v in other.items() if v[0] is not Status.UNKNOWN
    }
    assert len({lang for h in localized for lang in [h.language]}) == len(OTHERS)


@pytest.mark.parametrize("language", OTHERS)
def test_a_failed_wmic_file_query_is_a_file_not_collected_not_a_missing_one(
    language: str, kbs: KbSet
) -> None:
    host = _host("lon-smtp01")
    failing = dataclasses.replace(host, extra={**host.extra, "wmic_fail": ["datafile"]})
    facts = _facts(failing, kbs, language)
    assert facts.failure is None  # type: ignore[attr-defined]
    assert facts.files and all(f.present is None for f in facts.files)  # type: ignore[attr-defined]
