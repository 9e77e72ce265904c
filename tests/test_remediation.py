"""The remediation's wording, decided beside the judge and put on every finding."""

from __future__ import annotations

from kbscan.evaluate import evaluate
from kbscan.kb.directory import default_source
from kbscan.model import Status
from kbscan.remediation import prerequisite, restart_impact, restart_phrase
from tests.helpers import make_facts

KB = default_source().load("KB934709")


def test_a_host_needing_the_fix_is_told_its_own_package_and_that_the_prerequisite_is_met() -> None:
    finding = evaluate(make_facts(sp=2, arch="x64", version="6.0.3790.3959"), KB)
    assert finding.status is Status.NEEDS_HOTFIX
    assert finding.package is not None
    assert finding.package.startswith("KB934709 for Windows Server 2003 SP2 x64 (")
    assert "aqueue.dll 6.0.3790." in finding.package.lower()
    assert finding.prerequisite == "SP1 or SP2 (met)"


def test_a_host_below_the_prerequisite_is_told_to_install_the_service_pack_first() -> None:
    finding = evaluate(make_facts(sp=0, version="6.0.3790.0", binary=False), KB)
    assert finding.status is Status.NEEDS_SERVICE_PACK
    assert finding.prerequisite == "Install Windows Server 2003 SP2 first"  # the latest it names
    assert prerequisite(KB, Status.NEEDS_SERVICE_PACK, None) == "None stated"


def test_a_suspect_host_is_offered_no_package() -> None:
    finding = evaluate(make_facts(version=None), KB)  # aqueue.dll missing, SMTP installed
    assert finding.status is Status.SUSPECT
    assert finding.row is not None and finding.package is None


def test_the_restart_is_said_the_same_way_in_the_column_and_the_action() -> None:
    assert restart_impact(KB, staged=True) == (
        "Server restart (the file replacement completes at boot)"
    )
    column, phrase = restart_impact(KB, staged=False), restart_phrase(KB)
    assert column.startswith("IIS Admin")
    assert phrase.startswith("restart the IIS Admin")
    assert "IISADMIN" in column and "IISADMIN" in phrase
