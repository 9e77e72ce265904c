"""Kerberos logon for a scan: one ticket for the whole fleet, and Kerberos's failures
told apart by their numbers.

A scan logs on once, before any host: with the scan's password (no kinit needed) or from
the operator's existing ticket cache. The ticket-granting ticket goes into a private
cache file (a fresh 0700 folder, removed when the scan ends) that KRB5CCNAME names for the
scan's threads and worker processes: pywinrm's Kerberos (pykerberos) and impacket's SMB
both read it. The password itself is never written anywhere.

Failures are decided by the Kerberos error number (the KDC's error code, RFC 4120 7.5.9,
or MIT's library code), never by the sentence a library prints in the operator's
language.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kbscan.errors import KbscanError

# MIT's krb5 error table: a GSS minor code is this base plus the code below.
_KRB5_TABLE = 0x96C73A00
_TABLE_SIZE = 256


@dataclass(frozen=True)
class KerberosProblem:
    """What a Kerberos error number means, and what the operator does about it."""

    what: str
    fix: str


# KDC error codes (RFC 4120 7.5.9), as impacket reports them and as MIT's table holds them.
KDC_ERRORS = {
    6: KerberosProblem(
        "the account is not known to the KDC (unknown client principal)",
        "check the user name and its realm (user@REALM or DOMAIN\\user)",
    ),
    7: KerberosProblem(
        "the host has no service principal in the realm (unknown server principal)",
        "scan the host by its DNS name as registered in the domain (HTTP/ and cifs/ "
        "principals; setspn -L HOST), not by an address or an alias",
    ),
    18: KerberosProblem("the account is disabled or locked out", "unlock or enable the account"),
    23: KerberosProblem("the account's password has expired", "change the password"),
    24: KerberosProblem("the password is wrong (pre-authentication failed)", "check the password"),
    31: KerberosProblem("the password is wrong (integrity check failed)", "check the password"),
    32: KerberosProblem("the ticket has expired", "log on again (kinit, or give a password)"),
    37: KerberosProblem(
        "the clocks differ by more than Kerberos allows (clock skew, usually 5 minutes)",
        "synchronise this machine's and the host's clocks with the domain's time source (NTP)",
    ),
    41: KerberosProblem(
        "the host's key does not match its ticket (stale keytab or computer password)",
        "reset the host's computer account or keytab",
    ),
    68: KerberosProblem(
        "the realm is wrong for this account (KDC_ERR_WRONG_REALM)",
        "give the account's own realm (DOMAIN\\user with the domain's name)",
    ),
}
NO_TICKET = KerberosProblem(
    "there is no Kerberos ticket (no credentials cache found)",
    "log on first (kinit user@REALM) or give kbscan a password (KBSCAN_PASSWORD or --keyring)",
)
# MIT library errors (offsets in its table) a scan meets before any KDC answers.
LIBRARY_ERRORS = {
    141: NO_TICKET,  # KRB5_CC_NOTFOUND: no ticket for the principal in the cache
    195: NO_TICKET,  # KRB5_FCC_NOFILE: no cache file at all
    154: KerberosProblem(  # KRB5_REALM_UNKNOWN
        "no KDC is known for this realm (wrong or unknown realm)",
        "check the realm's name, or add it to krb5.conf ([realms], [domain_realm]); DNS SRV "
        "records _kerberos._tcp.REALM let clients find it",
    ),
    156: KerberosProblem(  # KRB5_KDC_UNREACH
        "no KDC of the realm answered (port 88 unreachable)",
        "check the network path to the domain controllers (TCP and UDP 88)",
    ),
}
UNEXPLAINED = KerberosProblem("Kerberos refused the logon", "read the Kerberos error above")


class KerberosLogonError(KbscanError):
    """The scan could not get a ticket: no host would be reachable with Kerberos."""


def problem_of_kdc_code(code: int) -> KerberosProblem:
    return KDC_ERRORS.get(code, UNEXPLAINED)


def problem_of_minor(minor: int) -> KerberosProblem:
    """A GSS-API minor status of MIT's krb5 mechanism, signed or not."""
    offset = (minor & 0xFFFFFFFF) - _KRB5_TABLE
    if 0 <= offset < 128:
        return KDC_ERRORS.get(offset, UNEXPLAINED)
    if 0 <= offset < _TABLE_SIZE:
        return LIBRARY_ERRORS.get(offset, UNEXPLAINED)
    return UNEXPLAINED


def principal_of(username: str | None) -> str | None:
    """user@REALM for DOMAIN\\user or user@domain; None leaves the cache's own."""
    if not username:
        return None
    if "\\" in username:
        domain, user = username.split("\\", 1)
        return f"{user}@{domain.upper()}"
    if "@" in username:
        user, realm = username.rsplit("@", 1)
        return f"{user}@{realm.upper()}"
    return username


@contextlib.contextmanager
def kerberos_logon(username: str | None, password: str | None) -> Iterator[Path]:
    """A ticket for the scan, in KRB5CCNAME (the path yielded) while the block runs,
    removed after it."""
    try:
        import gssapi
        import gssapi.raw
    except ImportError:
        raise KerberosLogonError(
            "Kerberos needs the kerberos extra and its system library: apt-get install "
            "libkrb5-dev, then pip install 'kbscan[kerberos]'"
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="kbscan-krb5-"))  # 0700, this user's alone
    cache = folder / "ccache"
    before = os.environ.get("KRB5CCNAME")
    try:
        creds = _credentials(principal_of(username), password)
        gssapi.raw.store_cred_into(
            {b"ccache": f"FILE:{cache}".encode()}, creds, usage="initiate", overwrite=True
        )
        os.environ["KRB5CCNAME"] = str(cache)  # a bare path: MIT and impacket read it
        yield cache
    finally:
        if before is None:
            os.environ.pop("KRB5CCNAME", None)
        else:
            os.environ["KRB5CCNAME"] = before
        shutil.rmtree(folder, ignore_errors=True)


def _credentials(principal: str | None, password: str | None) -> Any:
    """The ticket-granting credentials: from the password, else the operator's cache."""
    import gssapi
    import gssapi.raw

    name = gssapi.Name(principal, gssapi.NameType.user) if principal else None
    try:
        if password is not None:
            if name is None:
                raise KerberosLogonError("a Kerberos password needs a user name (--username)")
            return gssapi.raw.acquire_cred_with_password(
                name, password.encode(), usage="initiate"
            ).creds
        creds = gssapi.Credentials(name=name, usage="initiate")
        if not creds.lifetime:
            raise KerberosLogonError(
                f"the Kerberos ticket of {creds.name} has expired: {NO_TICKET.fix}"
            )
        return creds
    except gssapi.raw.GSSError as exc:
        who = principal or "the ticket cache's principal"
        said = _said(problem_of_minor(exc.min_code), f"GSS minor code {exc.min_code}")
        raise KerberosLogonError(f"Kerberos logon of {who} failed: {said}") from None


class KerberosRefused(Exception):
    """A host's service ticket was refused: the problem, and the number that said so."""

    def __init__(self, problem: KerberosProblem, code: str) -> None:
        super().__init__(f"Kerberos: {_said(problem, code)}")
        self.problem = problem


def _said(problem: KerberosProblem, code: str) -> str:
    """A problem as the operator reads it: what, what to fix, and the number it came as."""
    return f"{problem.what}; {problem.fix} ({code})"


# MIT's library writes the ticket cache file; impacket reads it without a lock
_CACHE = threading.Lock()


def fetch_service_ticket(service: str, host: str) -> None:
    """Ask the KDC (through MIT's library) for SERVICE/HOST and keep the ticket in the
    scan's cache, where impacket's SMB logon finds it: impacket's own TGS request is
    refused by MIT KDCs since 1.20 (no checksum in its authenticator)."""
    import gssapi
    import gssapi.raw

    name = gssapi.Name(f"{service}@{host}", gssapi.NameType.hostbased_service)
    with _CACHE:
        try:
            gssapi.SecurityContext(
                name=name, usage="initiate", mech=gssapi.MechType.kerberos
            ).step()
        except gssapi.raw.GSSError as exc:
            raise KerberosRefused(
                problem_of_minor(exc.min_code), f"GSS minor code {exc.min_code}"
            ) from None


def refusal(exc: BaseException) -> str | None:
    """What a Kerberos failure inside a collector means, by its number; None for others.

    Knows kbscan's own refusal, python-gssapi's GSSError (min_code), impacket's
    KerberosError (a KDC error code) and pykerberos' GSSError (MIT's minor status, the
    second pair of its arguments)."""
    for candidate in _chain(exc):
        kind = type(candidate).__name__
        minor = getattr(candidate, "min_code", None)  # python-gssapi's GSSError
        if isinstance(candidate, KerberosRefused):
            return str(candidate)
        if kind == "GSSError" and isinstance(minor, int):
            return f"Kerberos: {_said(problem_of_minor(minor), f'GSS minor code {minor}')}"
        if kind == "KerberosError" and callable(getattr(candidate, "getErrorCode", None)):
            code = int(candidate.getErrorCode())  # type: ignore[attr-defined]
            return f"Kerberos: {_said(problem_of_kdc_code(code), f'KDC error {code}')}"
        pair = candidate.args[1] if kind == "GSSError" and len(candidate.args) == 2 else None
        if isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], int):
            return f"Kerberos: {_said(problem_of_minor(pair[1]), f'GSS minor code {pair[1]}')}"
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 12:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo += [a for a in current.args if isinstance(a, BaseException)]
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return seen
