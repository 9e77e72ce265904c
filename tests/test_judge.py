"""judge(kbs, facts): every host against every KB of a set, the scope applied once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from kbscan.gate.model import Scope
from kbscan.judge import judge
from kbscan.kb.baseline import KbSet
from kbscan.kb.directory import default_source
from kbscan.model import Status, Target
from tests.helpers import make_facts

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_one_finding_per_host_and_kb_in_order() -> None:
    source = default_source()
    kbs = KbSet("two", (source.load("KB934709"), source.load("KB2492386")), "baseline.toml")
    facts = [make_facts(host="smtp02"), make_facts(host="SMTP01"), make_facts(host="smtp03")]
    evaluation = judge(kbs, facts, "inventory.csv", NOW)
    assert [(f.host, f.kb_id) for f in evaluation.findings] == [
        (h, k) for h in ("SMTP01", "smtp02", "smtp03") for k in ("KB934709", "KB2492386")
    ]
    assert (evaluation.source, evaluation.generated_at, evaluation.name) == (
        "inventory.csv",
        NOW,
        "two",
    )


def test_a_host_outside_the_scope_is_reported_not_applicable_and_says_why() -> None:
    kb = default_source().load("KB934709")
    kbs = KbSet("london", (kb,), "london.toml", Scope(sites=("london",)))
    inside = make_facts(host="lon01", version="6.0.3790.3959")  # site London: needs the fix
    outside = replace(make_facts(host="nyc01", version="6.0.3790.3959"),
                      target=Target(host="nyc01", site="New York"))  # fmt: skip
    by_host = {f.host: f for f in judge(kbs, [inside, outside], "inv", NOW).findings}
    assert by_host["lon01"].status is Status.NEEDS_HOTFIX
    assert by_host["nyc01"].status is Status.NOT_APPLICABLE
    assert by_host["nyc01"].reason == "outside the scope of london (london.toml)"


def test_a_single_kb_from_the_command_line_is_named_by_its_kb() -> None:
    kb = default_source().load("KB934709")
    evaluation = judge(KbSet("KB934709", (kb,), "command line"), [make_facts()], "inv", NOW)
    assert evaluation.name == "" and evaluation.set_source == ""
