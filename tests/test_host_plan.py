"""A host's window across a set of KBs: service pack first, packages at its new level."""

from __future__ import annotations

from kbscan.host_plan import host_plans, worst
from kbscan.judge import judge_hosts
from kbscan.kb.baseline import KbSet
from kbscan.kb.directory import default_source
from kbscan.model import Status
from tests.helpers import make_facts

SOURCE = default_source()
KBS = KbSet("two", (SOURCE.load("KB934709"), SOURCE.load("KB2492386")), "baseline.toml")
BY_ID = {kb.id: kb for kb in KBS.kbs}


def test_worst_ignores_kbs_that_do_not_apply_unless_none_applies() -> None:
    assert worst([Status.NOT_APPLICABLE, Status.COMPLIANT]) is Status.COMPLIANT
    assert worst([Status.COMPLIANT, Status.NEEDS_HOTFIX, Status.UNKNOWN]) is Status.NEEDS_HOTFIX
    assert worst([Status.NOT_APPLICABLE]) is Status.NOT_APPLICABLE


def test_a_host_below_the_service_pack_installs_it_first_then_the_package_for_the_new_level() -> (
    None
):
    findings = judge_hosts([make_facts(host="old", sp=0, version="6.0.3790.0", binary=False)], KBS)
    (plan,) = host_plans(findings, BY_ID)
    assert plan.worst_action is Status.NEEDS_SERVICE_PACK
    assert plan.steps[0] == "Windows Server 2003 Service Pack 2"  # the higher of the two KBs' needs
    assert any(s.startswith("KB934709 for Windows Server 2003 SP2 x86") for s in plan.steps[1:])
    assert plan.restart_window


def test_a_compliant_host_has_no_steps_and_no_window() -> None:
    findings = judge_hosts([make_facts(host="done")], KbSet("one", KBS.kbs[:1], "b.toml"))
    (plan,) = host_plans(findings, BY_ID)
    assert (plan.worst, plan.worst_action, plan.steps, plan.restart_window) == (
        Status.COMPLIANT,
        None,
        (),
        "",
    )
