"""Kerberos logons proven against a real MIT KDC on 127.0.0.1 (tests/kdc_server.py).

The simulated hosts accept tickets as domain members do: WinRM through MIT's GSS-API
acceptor with the realm's keytab (pyspnego), with WinRM message encryption under the
Kerberos session key; SMB through impacket's server with the host's AES key. kbscan's
clients are the real ones: pywinrm's Kerberos (pykerberos) and impacket's SMB, both on the
scan's one ticket. Nothing of Kerberos is mocked.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kbscan import app
from kbscan.collect.kerberos import KerberosLogonError
from kbscan.collect.winrm import WinrmSettings
from kbscan.inventory_ldap import DirectoryQuery, read_directory
from kbscan.limits import Limits
from kbscan.model import Protocol, Status
from kbscan.simulator.fleet import SimulatedFleet
from tests import kdc_server, ldap_server
from tests.simfleet import variant

_MISSING = [
    m for m in ("gssapi", "kerberos", "krb5", "impacket") if not importlib.util.find_spec(m)
]
pytestmark = [
    pytest.mark.kerberos,
    pytest.mark.skipif(bool(kdc_server.why_not()), reason=kdc_server.why_not() or ""),
    pytest.mark.skipif(
        bool(_MISSING),
        reason=f"the kerberos extra is not installed ({', '.join(_MISSING)}): apt-get install "
        "libkrb5-dev, pip install '.[kerberos]'",
    ),
]

HOST = "srv01.kbscan.test"  # Windows Server 2008 R2: SMB2, as impacket's server needs
USER = f"{kdc_server.REALM}\\{kdc_server.USER}"
KBS = ("KB2492386", "KB981506", "KB934709")


@pytest.fixture(scope="module")
def kdc() -> Iterator[kdc_server.Kdc]:
    with kdc_server.realm([HOST]) as running:
        yield running


@pytest.fixture(autouse=True)
def realm_config(kdc: kdc_server.Kdc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRB5_CONFIG", str(kdc.krb5_conf))
    monkeypatch.delenv("KRB5CCNAME", raising=False)


def _scan(
    folder: Path,
    protocol: Protocol,
    *,
    password: str | None,
    username: str = USER,
    host: str = HOST,
    keytab: Path | None = None,
) -> app.ScanOutcome:
    sim = variant("lon-fs01", host)
    with SimulatedFleet([sim], USER, "the NTLM password, unused", smb=True, keytab=keytab) as f:
        inventory = f.write_inventory(folder / "inventory.csv", transport="kerberos")
        settings = WinrmSettings(
            username=username, password=password, transport="kerberos", kdc="127.0.0.1",
            read_timeout=4, operation_timeout=2,
        )  # fmt: skip
        return app.scan_fleet(
            inventory, KBS, folder / "out", settings, protocol=protocol,
            limits=Limits(deadline=20, workers=1, retries=0, processes=1),
        )  # fmt: skip


@pytest.mark.parametrize("protocol", [Protocol.WINRM, Protocol.SMB])
def test_a_scan_logs_on_with_a_password_and_reads_the_host(
    tmp_path: Path, kdc: kdc_server.Kdc, protocol: Protocol
) -> None:
    outcome = _scan(tmp_path, protocol, password=kdc.password, keytab=kdc.keytab)
    statuses = {f.kb_id: f.status for f in outcome.evaluation.findings}
    assert statuses["KB981506"] is Status.NEEDS_HOTFIX  # Ksecdd.sys read from the host
    assert {f.facts.collector for f in outcome.evaluation.findings} == {protocol.value}
    assert "KRB5CCNAME" not in os.environ  # the scan's ticket cache is gone with the scan
    for written in (tmp_path / "out").iterdir():
        assert kdc.password.encode() not in written.read_bytes()


def test_an_existing_ticket_cache_is_used_without_a_password(
    tmp_path: Path, kdc: kdc_server.Kdc, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gssapi
    import gssapi.raw

    cache = tmp_path / "operator.ccache"  # what kinit leaves for the operator
    name = gssapi.Name(f"{kdc_server.USER}@{kdc_server.REALM}", gssapi.NameType.user)
    creds = gssapi.raw.acquire_cred_with_password(name, kdc.password.encode()).creds
    gssapi.raw.store_cred_into({b"ccache": f"FILE:{cache}".encode()}, creds, overwrite=True)
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")
    outcome = _scan(tmp_path, Protocol.WINRM, password=None, keytab=kdc.keytab)
    assert {f.status for f in outcome.evaluation.findings} != {Status.UNKNOWN}
    assert os.environ["KRB5CCNAME"] == f"FILE:{cache}"  # the operator's own, left as it was


@pytest.mark.parametrize(
    ("username", "password", "said"),
    [
        (f"{kdc_server.REALM}\\nobody", "whatever", "not known to the KDC"),
        (USER, "not-the-password", "the password is wrong"),
        ("ELSEWHERE.TEST\\scanner", "whatever", "no KDC is known for this realm"),
        (USER, None, "there is no Kerberos ticket"),
    ],
)
def test_each_logon_failure_says_what_it_is_and_what_to_fix(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    username: str,
    password: str | None,
    said: str,
) -> None:
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'no-such-cache'}")
    with pytest.raises(KerberosLogonError) as raised:
        _scan(tmp_path, Protocol.WINRM, username=username, password=password)
    message = str(raised.value)
    assert said in message
    assert "GSS minor code" in message
    if password:
        assert password not in message


def test_a_host_without_a_service_principal_is_told_apart(
    tmp_path: Path, kdc: kdc_server.Kdc
) -> None:
    outcome = _scan(
        tmp_path, Protocol.SMB, password=kdc.password, host="alias.kbscan.test", keytab=None
    )
    (failure,) = {f.facts.failure for f in outcome.evaluation.findings}
    assert failure is not None
    assert "no service principal" in failure.message
    assert "setspn" in (failure.message + (failure.advice or ""))


@pytest.mark.directory
@pytest.mark.skipif(bool(ldap_server.gssapi_why_not()), reason=ldap_server.gssapi_why_not() or "")
def test_the_fleet_from_the_directory_with_a_gssapi_bind_then_scanned_with_kerberos(
    tmp_path: Path, kdc: kdc_server.Kdc
) -> None:
    """Where NTLM is off, the directory is read with the scan's ticket too: slapd takes
    only a GSSAPI bind (anonymous reads nothing), then the computer it lists is scanned."""
    ldap_keytab = tmp_path / "ldap.keytab"
    kdc.kadmin("addprinc -randkey ldap/127.0.0.1")
    kdc.kadmin(f"ktadd -k {ldap_keytab} ldap/127.0.0.1")
    kdc.kadmin("addprinc -randkey HTTP/localhost")
    kdc.kadmin(f"ktadd -k {kdc.keytab} HTTP/localhost")
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    computers = [ldap_server.Computer("LOCAL01", "Lab", dns="localhost", last_logon=recent)]
    sim = variant("lon-fs01", "localhost")
    with (
        ldap_server.directory(computers, kerberos=(kdc.krb5_conf, ldap_keytab)) as served,
        SimulatedFleet([sim], USER, "unused", keytab=kdc.keytab) as fleet,
    ):
        settings = WinrmSettings(
            username=USER, password=kdc.password, transport="kerberos",
            port=fleet.endpoints["localhost"][1], read_timeout=4, operation_timeout=2,
        )  # fmt: skip
        url = served.url(f"OU=Lab,OU=Servers,{ldap_server.BASE}")
        outcome = app.scan_fleet(
            url, KBS, tmp_path / "out", settings,
            limits=Limits(deadline=20, workers=1, retries=0, processes=1),
        )  # fmt: skip
        anonymous = read_directory(DirectoryQuery(url), None, None)
    assert not anonymous.targets and not anonymous.skipped  # anonymous reads see nothing
    statuses = {f.kb_id: f.status for f in outcome.evaluation.findings}
    assert {f.host for f in outcome.evaluation.findings} == {"localhost"}
    assert statuses["KB981506"] is Status.NEEDS_HOTFIX
