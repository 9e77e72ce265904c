"""The fleet from a real directory: kbscan's LDAP inventory against OpenLDAP's slapd on
127.0.0.1, with Active Directory's computer attributes, StartTLS and LDAPS, 1,200
computers read through paged results (slapd answers at most 500 a search), and the
accounts a scan must leave out (disabled, stale, never joined) listed with the reason.
Skipped, saying why, where slapd is absent; .ci/run installs it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from kbscan.cli import run
from kbscan.inventory_ldap import DirectoryError, DirectoryQuery, read_directory
from kbscan.simulator.fleet import SimulatedFleet
from tests.ldap_server import (
    ADMIN_DN,
    ADMIN_PASSWORD,
    BASE,
    Computer,
    Directory,
    directory,
    why_not,
)
from tests.simfleet import USER, demo_hosts

pytestmark = [
    pytest.mark.directory,
    pytest.mark.skipif(why_not() is not None, reason=str(why_not())),
]

NOW = dt.datetime.now(dt.UTC)
FRESH = NOW - dt.timedelta(days=3)
MANY = [
    Computer(f"srv{i:04d}", ("London", "Frankfurt", "New York")[i % 3], f"srv{i:04d}.example.com",
             last_logon=FRESH, owner="mail-team" if i % 4 == 0 else None)
    for i in range(1200)
]  # fmt: skip
LEFT_OUT = [
    Computer("old01", "London", "old01.example.com", last_logon=NOW - dt.timedelta(days=200)),
    Computer("dis01", "London", "dis01.example.com", last_logon=FRESH, disabled=True),
    Computer("stage01", "London", None),
    Computer("never01", "London", "never01.example.com", last_logon=None),
]
LAB = [
    Computer("lab01", "Lab", "localhost", last_logon=FRESH, service_pack="Service Pack 1",
             owner="lab-team"),
    Computer("lab02", "Lab", "lab02.example.com", last_logon=FRESH, disabled=True),
]  # fmt: skip


@pytest.fixture(scope="module")
def served() -> Iterator[Directory]:
    with directory([*MANY, *LEFT_OUT, *LAB]) as running:
        yield running


def _read(query: DirectoryQuery) -> object:
    return read_directory(query, ADMIN_DN, ADMIN_PASSWORD, now=NOW)


def test_starttls_reads_the_enabled_fresh_computers_through_pages(served: Directory) -> None:
    base = f"OU=Servers,{BASE}"
    inventory = _read(DirectoryQuery(served.url(base), starttls=True, ca_bundle=str(served.ca)))
    hosts = {t.host for t in inventory.targets}  # type: ignore[attr-defined]
    assert len(hosts) == 1201  # 1,200 servers and lab01: more than slapd's 500 a page
    assert {"srv0000.example.com", "srv1199.example.com", "localhost"} <= hosts
    skipped = {s.host: s.reason for s in inventory.skipped}  # type: ignore[attr-defined]
    assert skipped == {
        "old01.example.com": skipped["old01.example.com"],
        "dis01.example.com": "the computer account is disabled",
        "stage01": "the account has no dNSHostName (pre-staged, never joined)",
        "never01.example.com": "the directory records no logon (lastLogonTimestamp absent)",
        "lab02.example.com": "the computer account is disabled",
    }
    assert skipped["old01.example.com"].startswith("no logon to the domain since ")


def test_ldaps_gives_site_owner_and_what_the_directory_believes(served: Directory) -> None:
    inventory = _read(DirectoryQuery(served.url(f"OU=Lab,OU=Servers,{BASE}", tls=True),
                                     ca_bundle=str(served.ca)))  # fmt: skip
    (lab01,) = inventory.targets  # type: ignore[attr-defined]
    assert (lab01.host, lab01.site, lab01.owner) == ("localhost", "Lab", "lab-team")
    assert dict(lab01.extra) == {
        "ad_os": "Windows Server 2003",
        "ad_service_pack": "Service Pack 1",
    }


def test_a_filter_and_a_scope(served: Directory) -> None:
    one_level = _read(DirectoryQuery(served.url(), scope="one", starttls=True,
                                     ca_bundle=str(served.ca)))  # fmt: skip
    assert one_level.targets == ()  # type: ignore[attr-defined]  # computers sit in sub-OUs
    filtered = _read(DirectoryQuery(served.url(), filter="(cn=srv00*)", starttls=True,
                                    ca_bundle=str(served.ca)))  # fmt: skip
    assert len(filtered.targets) == 100  # type: ignore[attr-defined]


def test_a_simple_bind_in_clear_text_is_refused_unless_allowed(served: Directory) -> None:
    with pytest.raises(DirectoryError, match="send the password in clear text"):
        _read(DirectoryQuery(served.url()))
    allowed = _read(DirectoryQuery(served.url(f"OU=Lab,OU=Servers,{BASE}"), allow_plain=True))
    assert [t.host for t in allowed.targets] == ["localhost"]  # type: ignore[attr-defined]


def test_refused_bind_and_untrusted_certificate_say_so_without_the_password(
    served: Directory,
) -> None:
    with pytest.raises(DirectoryError) as refused:
        read_directory(DirectoryQuery(served.url(tls=True), ca_bundle=str(served.ca)),
                       ADMIN_DN, "Wrong-Password-7")  # fmt: skip
    assert "refused the bind: invalidCredentials" in str(refused.value)
    assert "Wrong-Password-7" not in str(refused.value)
    with pytest.raises(DirectoryError) as untrusted:
        _read(DirectoryQuery(served.url(tls=True)))  # the system's CAs do not know it
    assert "certificate" in str(untrusted.value).lower() or "ssl" in str(untrusted.value).lower()


def test_kbscan_scan_of_an_ou_scans_its_computers_and_lists_the_rest(
    served: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole road: the OU's one live computer (lab01, "localhost": a simulated
    Server 2003) is scanned over WinRM; its disabled neighbour is in skipped-hosts.csv."""
    host = next(h for h in demo_hosts() if h.host == "lon-smtp01")
    # one password for the host's account and the directory's, as in a domain
    with SimulatedFleet([host], USER, ADMIN_PASSWORD, operation_timeout=0.5) as fleet:
        port = fleet.endpoints["lon-smtp01"][1]
        monkeypatch.setenv("KBSCAN_PASSWORD", ADMIN_PASSWORD)
        out, err = io.StringIO(), io.StringIO()
        code = run(
            ["scan", served.url(f"OU=Lab,OU=Servers,{BASE}"), "--kb", "KB934709",
             "--username", USER, "--ldap-user", ADMIN_DN, "--port", str(port), "--ldap-starttls",
             "--ldap-ca-bundle", str(served.ca), "--allow-ldap-plain-bind",
             "-o", str(tmp_path), "--no-progress"],
            out, err,
        )  # fmt: skip
    assert code == 0, err.getvalue()
    assert "Skipped from the inventory: 1" in out.getvalue()
    with (tmp_path / "skipped-hosts.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["host"], r["reason"]) for r in rows] == [
        ("lab02.example.com", "the computer account is disabled")
    ]
    findings = (tmp_path / "KB934709-findings.csv").read_text(encoding="utf-8-sig")
    assert "localhost,KB934709,COMPLIANT" in findings and ",Lab,lab-team," in findings
    # AD believes Service Pack 1; the host (lon-smtp01) reports Service Pack 2
    book = openpyxl.load_workbook(tmp_path / "KB934709-remediation.xlsx")
    sheet = book["Hosts"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    row = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    cells = dict(zip(header, row, strict=True))
    assert cells["ad_service_pack"] == "Service Pack 1"
    assert cells["Inventory disagrees"] == (
        "the inventory says 'Service Pack 1'; the host reports Service Pack 2"
    )
