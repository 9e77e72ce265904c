"""Secrets and transport safety: a canary password goes nowhere, HTTPS is validated by
default, and basic authentication over plain HTTP is refused unless allowed."""

from __future__ import annotations

import base64
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from kbscan import app
from kbscan.collect.plan import plan_for
from kbscan.collect.winrm import WinrmCollector, WinrmSettings
from kbscan.kb.directory import default_source
from kbscan.limits import HostDeadline, Limits
from kbscan.model import FailureCategory, Status, Target
from kbscan.report.formats import OutputFormat
from tests.servers import self_signed
from tests.simfleet import PASSWORD, USER, fleet, inventory, variant


def _secret_forms(password: str) -> list[bytes]:
    forms = [password.encode(), base64.b64encode(f"{USER}:{password}".encode())]
    forms.append(base64.b64encode(password.encode()).rstrip(b"="))
    return forms


def test_canary_password_reaches_no_output_log_or_file(tmp_path: Path) -> None:
    hosts = [
        variant("lon-smtp01", "ok"),
        variant("lon-smtp01", "refuse", behaviour="refuse"),
        variant("lon-smtp01", "down", behaviour="down"),
        variant("lon-smtp01", "reset", behaviour="reset"),
        variant("lon-smtp01", "fault", behaviour="fault"),
        variant("lon-smtp01", "garbage", behaviour="garbage"),
    ]
    out = tmp_path / "out"
    with fleet(hosts) as f:
        inv = inventory(f, tmp_path)
        env = {**os.environ, "KBSCAN_PASSWORD": PASSWORD}
        done = subprocess.run(
            [sys.executable, "-m", "kbscan", "-vv", "scan", str(inv), "--kb", "KB934709",
             "-o", str(out), "--transport", "basic", "--allow-basic-over-http",
             "--username", USER, "--fetch-files", "--deadline", "3", "--retries", "1",
             "--no-progress"],
            env=env, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"DEBUG" in done.stderr and b"refused credentials" in done.stderr  # it did log
    produced = [done.stdout, done.stderr] + [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    for blob in produced:
        for form in _secret_forms(PASSWORD):
            assert form not in blob


def test_password_is_not_in_repr_or_failure_messages(kb: object) -> None:
    settings = WinrmSettings(
        username=USER,
        password=PASSWORD,
        transport="basic",
        allow_basic_over_http=True,
        read_timeout=2,
        operation_timeout=1,
    )
    assert PASSWORD not in repr(settings)
    collector = WinrmCollector(plan_for([default_source().load("KB934709")]), settings)
    # A URL that carries the password, as a careless inventory might: scrubbed.
    result = collector.collect(Target("x", address="127.0.0.1", port=1), HostDeadline.from_now(5))
    assert result.facts.failure is not None
    assert PASSWORD not in result.facts.failure.message


@pytest.mark.parametrize(
    ("verify", "bundle", "expected"),
    [(True, False, "refused"), (True, True, "ok"), (False, False, "ok")],
)
def test_https_certificates_are_validated_by_default(
    tmp_path: Path, verify: bool, bundle: bool, expected: str
) -> None:
    cert, key = self_signed(tmp_path, "kbscan-test-host")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    settings = WinrmSettings(username=USER, password=PASSWORD, transport="basic",
                             ca_bundle=str(cert) if bundle else None, verify_certificates=verify,
                             read_timeout=3, operation_timeout=1)  # fmt: skip
    with fleet([variant("lon-smtp01", "tls-host")], tls=context) as f:
        outcome = app.scan_fleet(inventory(f, tmp_path), "KB934709", tmp_path / "out", settings,
                                 limits=Limits(deadline=3.0),
                                 formats=[OutputFormat.JSON])  # fmt: skip
    (finding,) = outcome.evaluation.findings
    if expected == "ok":
        assert finding.status is Status.COMPLIANT
    else:
        failure = finding.facts.failure
        assert failure is not None and failure.category is FailureCategory.UNREACHABLE
        assert "certificate verify failed" in failure.message


def _cli_scan(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    with fleet([variant("lon-smtp01", "h")]) as f:
        inv = inventory(f, tmp_path)
        env = {**os.environ, "KBSCAN_PASSWORD": PASSWORD}
        return subprocess.run(
            [sys.executable, "-m", "kbscan", "scan", str(inv), "--kb", "KB934709",
             "-o", str(tmp_path / "o"), "--username", USER, "--no-progress",
             "--format", "json", *extra],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip


def test_cli_warns_when_certificate_validation_is_off(tmp_path: Path) -> None:
    done = _cli_scan(tmp_path, "--transport", "basic", "--allow-basic-over-http",
                     "--insecure-skip-cert-validation")  # fmt: skip
    assert done.returncode == 0
    assert "HTTPS certificates are not validated" in done.stderr


def test_cli_refuses_basic_over_plain_http(tmp_path: Path) -> None:
    done = _cli_scan(tmp_path, "--transport", "basic")
    assert done.returncode == 2
    assert "would send the password in clear text" in done.stderr
    assert not (tmp_path / "o" / "facts.jsonl").exists()


def test_inventory_basic_over_http_is_refused_per_host(tmp_path: Path) -> None:
    settings = WinrmSettings(username=USER, password=PASSWORD, transport="ntlm")
    with fleet([variant("lon-smtp01", "h")]) as f:
        outcome = app.scan_fleet(inventory(f, tmp_path), "KB934709", tmp_path / "o", settings,
                                 limits=Limits(deadline=3.0),
                                 formats=[OutputFormat.JSON])  # fmt: skip
    failure = outcome.evaluation.findings[0].facts.failure
    assert failure is not None and "clear text" in failure.message


def test_no_password_anywhere_is_an_error(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.txt"
    inv.write_text("lon-smtp01\n")
    env = {k: v for k, v in os.environ.items() if k != "KBSCAN_PASSWORD"}
    done = subprocess.run(
        [sys.executable, "-m", "kbscan", "scan", str(inv), "--kb", "KB934709", "-o",
         str(tmp_path / "o"), "--username", USER],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no password: set KBSCAN_PASSWORD" in done.stderr


def test_a_transport_without_its_library_is_a_clear_error(tmp_path: Path) -> None:
    from winrm import transport as pywinrm_transport

    if pywinrm_transport.HAVE_CREDSSP:
        pytest.skip("requests-credssp is installed here")
    inv = tmp_path / "hosts.txt"
    inv.write_text("lon-smtp01\n")
    done = subprocess.run(
        [sys.executable, "-m", "kbscan", "scan", str(inv), "--kb", "KB934709", "-o",
         str(tmp_path / "o"), "--transport", "credssp", "--https", "--username", USER],
        env={**os.environ, "KBSCAN_PASSWORD": PASSWORD}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "pip install 'kbscan[credssp]'" in done.stderr
