"""NTLM, kbscan's default transport, with WinRM message encryption: pywinrm against the
simulator's pyspnego acceptor."""

from __future__ import annotations

from pathlib import Path

from kbscan import app
from kbscan.collect.winrm import WinrmSettings
from kbscan.limits import Limits
from kbscan.model import FailureCategory, Status
from kbscan.report.formats import OutputFormat
from tests.simfleet import PASSWORD, USER, fleet, variant


def _scan(tmp: Path, password: str, hosts: list) -> tuple[dict, object]:
    settings = WinrmSettings(
        username=USER,
        password=password,
        transport="ntlm",
        fetch_files=True,
        read_timeout=3,
        operation_timeout=1,
    )
    tmp.mkdir(exist_ok=True)
    with fleet(hosts) as f:
        inv = f.write_inventory(tmp / "inventory.csv", transport="ntlm")
        outcome = app.scan_fleet(
            inv, "KB934709", tmp / "out", settings, limits=Limits(deadline=3.0, workers=4),
            formats=[OutputFormat.JSON],
        )
        sealed = sum(sim.state.sealed_requests for sim in f.running.values())
    return {x.host: x for x in outcome.evaluation.findings}, sealed


def test_ntlm_with_message_encryption(tmp_path: Path) -> None:
    found, sealed = _scan(
        tmp_path, PASSWORD, [variant("lon-smtp01", "n1"), variant("lon-smtp02", "n2")]
    )
    assert found["n1"].status is Status.COMPLIANT
    assert found["n2"].status is Status.NEEDS_HOTFIX
    assert sealed == 2 * 5  # every WS-Management request of both hosts arrived encrypted


def test_wrong_password_and_a_refusing_host_do_not_stop_the_scan(tmp_path: Path) -> None:
    """A host that answers NTLM with no challenge made requests_ntlm raise PermissionError,
    which escaped and ended the whole scan."""
    found, _ = _scan(
        tmp_path,
        PASSWORD,
        [variant("lon-smtp01", "ok"), variant("lon-smtp01", "nope", behaviour="refuse")],
    )
    assert found["ok"].status is Status.COMPLIANT
    failure = found["nope"].facts.failure
    assert failure is not None and failure.category is FailureCategory.REFUSED_CREDENTIALS
    found, _ = _scan(tmp_path / "again", "wrong-password", [variant("lon-smtp01", "h")])
    failure = found["h"].facts.failure
    assert failure is not None and failure.category is FailureCategory.REFUSED_CREDENTIALS
