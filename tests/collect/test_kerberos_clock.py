"""Clock skew against a real MIT KDC whose clock runs an hour ahead (faketime): a module
of its own, since impacket and Windows ask a KDC on port 88 only and this one needs the
port while no other realm holds it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kbscan.model import FailureCategory, Protocol
from tests import kdc_server
from tests.collect.test_kerberos import HOST, _scan, pytestmark  # noqa: F401  (the same skips)


@pytest.mark.skipif(
    not Path(kdc_server.FAKETIME).exists(),
    reason="faketime not installed (apt-get install faketime)",
)
def test_a_clock_skew_with_the_domain_is_named_as_such(tmp_path: Path) -> None:
    with kdc_server.realm([HOST], clock_ahead="+1h") as ahead:
        os.environ["KRB5_CONFIG"] = str(ahead.krb5_conf)
        try:
            outcome = _scan(tmp_path, Protocol.WINRM, password=ahead.password)
        finally:
            del os.environ["KRB5_CONFIG"]
    # MIT's library follows the KDC's clock for its own logon; the service ticket's
    # exchange is where the skew shows, and the host says so, by Kerberos' number
    (failure,) = {f.facts.failure for f in outcome.evaluation.findings}
    assert failure is not None
    assert failure.category is FailureCategory.REFUSED_CREDENTIALS
    assert "clocks differ" in failure.message and "NTP" in failure.message
