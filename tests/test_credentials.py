"""Where the scan's password comes from, and where it never comes from."""

from __future__ import annotations

import pytest

from kbscan.credentials import PASSWORD_ENV, CredentialError, obtain_password


def test_the_environment_gives_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    assert obtain_password("ntlm", "CORP\\scanner", None) == "s3cret"


def test_kerberos_takes_a_password_when_given_and_the_ticket_cache_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    assert obtain_password("kerberos", "CORP\\scanner", None) == "s3cret"
    monkeypatch.delenv(PASSWORD_ENV)
    assert obtain_password("kerberos", "CORP\\scanner", None) is None  # never a prompt


def test_a_certificate_needs_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    assert obtain_password("certificate", None, None) is None


def test_without_a_terminal_or_a_source_it_says_where_to_put_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(CredentialError, match=PASSWORD_ENV):
        obtain_password("ntlm", "CORP\\scanner", None)
