"""Kerberos' failures told apart by their numbers: runs everywhere, no KDC needed (the
real exchanges are in test_kerberos.py)."""

from __future__ import annotations

import importlib.util

import pytest

from kbscan.collect.kerberos import (
    KDC_ERRORS,
    UNEXPLAINED,
    principal_of,
    problem_of_kdc_code,
    problem_of_minor,
    refusal,
)

KRB5_TABLE = 0x96C73A00  # MIT's krb5 error table base


@pytest.mark.parametrize(
    ("minor", "what"),
    [
        (KRB5_TABLE + 37, "clocks differ"),  # KRB5KRB_AP_ERR_SKEW, unsigned
        (-1765328347, "clocks differ"),  # the same, as pykerberos reports it (signed)
        (KRB5_TABLE + 6, "not known to the KDC"),  # KDC_ERR_C_PRINCIPAL_UNKNOWN
        (KRB5_TABLE + 7, "no service principal"),  # KDC_ERR_S_PRINCIPAL_UNKNOWN
        (KRB5_TABLE + 24, "password is wrong"),  # KDC_ERR_PREAUTH_FAILED
        (KRB5_TABLE + 68, "realm is wrong"),  # KDC_ERR_WRONG_REALM
        (-1765328243, "no Kerberos ticket"),  # KRB5_CC_NOTFOUND
        (-1765328189, "no Kerberos ticket"),  # KRB5_FCC_NOFILE
        (-1765328230, "no KDC is known"),  # KRB5_REALM_UNKNOWN
        (-1765328228, "no KDC of the realm answered"),  # KRB5_KDC_UNREACH
    ],
)
def test_minor_codes_are_read_as_numbers(minor: int, what: str) -> None:
    assert what in problem_of_minor(minor).what


def test_numbers_it_does_not_know_say_so_rather_than_guess() -> None:
    assert problem_of_minor(12345) is UNEXPLAINED
    assert problem_of_kdc_code(99) is UNEXPLAINED
    assert problem_of_kdc_code(37) is KDC_ERRORS[37]


@pytest.mark.parametrize(
    ("given", "principal"),
    [
        ("CORP\\scanner", "scanner@CORP"),
        ("scanner@corp.example.com", "scanner@CORP.EXAMPLE.COM"),
        ("scanner", "scanner"),
        (None, None),
    ],
)
def test_the_account_as_a_kerberos_principal(given: str | None, principal: str | None) -> None:
    assert principal_of(given) == principal


@pytest.mark.skipif(not importlib.util.find_spec("impacket"), reason="impacket not installed")
def test_impacket_s_kerberos_error_is_read_by_its_kdc_code() -> None:
    from impacket.krb5.kerberosv5 import KerberosError

    said = refusal(RuntimeError("logon failed", KerberosError(error=37)))
    assert said is not None and "clocks differ" in said and "KDC error 37" in said


@pytest.mark.skipif(not importlib.util.find_spec("kerberos"), reason="pykerberos not installed")
def test_pykerberos_gss_error_is_read_by_its_minor_code() -> None:
    import kerberos

    error = kerberos.GSSError(
        ("Unspecified GSS failure", 851968), ("Server not found", -1765328377)
    )
    said = refusal(error)
    assert said is not None and "no service principal" in said


def test_other_errors_are_not_taken_for_kerberos() -> None:
    assert refusal(ConnectionRefusedError("refused")) is None
