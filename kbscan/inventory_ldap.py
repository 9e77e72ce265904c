"""The fleet from the directory: computer objects of an Active Directory OU over LDAP.

A Windows fleet is a domain; its administrators keep no CSV of their servers. Every
computer account carries its DNS name, the OS and service pack it last reported,
when it last logged on to the domain and whether it is disabled; ``managedBy`` names
its owner and its OU says where it sits. A disabled account, or one that has not
logged on for ``stale_days`` (lastLogonTimestamp replicates only every 9 to 14 days,
hence the default of 90), is listed as skipped with the reason, never dropped; so is
an account with no DNS name (pre-staged, never joined). Entries are read in pages, so
a directory of many thousands of computers is read whole.

The bind uses the scan's own account: NTLM for ``DOMAIN\\user`` (no password on the
wire), a simple bind for a DN or ``user@domain`` only over TLS (``ldaps://`` or
StartTLS) unless plain LDAP is allowed expressly, a GSSAPI bind with the scan's Kerberos
ticket where the scan logs on with Kerberos (hardened domains refuse NTLM to the DC too),
and an anonymous bind without an account. Directory entries are hostile input like any
other: a value that cannot be a host name is an error naming the entry, and the other
computers are still scanned.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from kbscan.collect.kerberos import refusal
from kbscan.errors import InputError
from kbscan.inventory import Inventory, InventoryError, Skipped
from kbscan.model import BELIEVED_SERVICE_PACK, Target

ACCOUNTDISABLE = 0x2  # userAccountControl
ATTRIBUTES = (
    "cn", "dNSHostName", "operatingSystem", "operatingSystemServicePack",
    "operatingSystemVersion", "lastLogonTimestamp", "userAccountControl", "managedBy",
)  # fmt: skip
_HOST_RE = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
_SCOPES = ("sub", "one", "base")
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


class DirectoryError(InputError):
    """The directory could not be read at all: its URL, the bind, the search."""


@dataclass(frozen=True)
class DirectoryQuery:
    url: str  # ldap://dc.example.com/OU=Servers,DC=example,DC=com (or ldaps://)
    filter: str = "(objectClass=computer)"
    scope: str = "sub"
    starttls: bool = False
    stale_days: int = 90
    site_from: str = "ou"  # "ou": the entry's first OU; else an attribute to read it from
    ca_bundle: str | None = None
    allow_plain: bool = False  # a simple bind over plain LDAP sends the password in clear
    page_size: int = 500
    timeout: float = 30.0
    user: str | None = None  # the bind's account when not the scan's (a DN, user@domain)
    kerberos: bool = False  # a GSSAPI bind with the scan's Kerberos ticket (--transport)


def is_directory(source: str) -> bool:
    return source.lower().startswith(("ldap://", "ldaps://"))


def read_directory(
    query: DirectoryQuery, username: str | None, password: str | None, now: datetime | None = None
) -> Inventory:
    """The enabled, fresh computers under the URL's base as targets; the rest skipped."""
    import ldap3

    server, base = _server(query)
    conn = ldap3.Connection(
        server, **_bind(query, username, password), receive_timeout=int(query.timeout)
    )
    try:
        _open(conn, query)
        entries = conn.extend.standard.paged_search(
            base, query.filter, search_scope=_scope(query.scope), attributes=_wanted(query),
            paged_size=query.page_size, generator=True,
        )  # fmt: skip
        return _inventory(entries, query, now or datetime.now(UTC))
    except ldap3.core.exceptions.LDAPException as exc:
        raise DirectoryError(_said(exc, password), path=_shown(query.url)) from None
    except Exception as exc:  # GSS-API's own errors, from a Kerberos bind
        if (said := refusal(exc)) is None:
            raise
        raise DirectoryError(f"the Kerberos bind failed: {said}", path=_shown(query.url)) from None
    finally:
        conn.unbind()


def _server(query: DirectoryQuery) -> tuple[Any, str]:
    import ldap3

    parts = urlsplit(query.url)
    if parts.scheme.lower() not in ("ldap", "ldaps") or not parts.hostname:
        raise DirectoryError("not an ldap:// or ldaps:// URL with a host", path=_shown(query.url))
    if query.scope not in _SCOPES:
        raise DirectoryError(f"scope {query.scope!r} is not one of {', '.join(_SCOPES)}")
    tls = None
    if parts.scheme.lower() == "ldaps" or query.starttls:
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=query.ca_bundle)
    server = ldap3.Server(
        parts.hostname, port=parts.port, use_ssl=parts.scheme.lower() == "ldaps", tls=tls,
        connect_timeout=int(query.timeout), get_info=ldap3.NONE,
    )  # fmt: skip
    return server, unquote(parts.path.lstrip("/"))


def _bind(query: DirectoryQuery, username: str | None, password: str | None) -> dict[str, Any]:
    import ldap3

    if query.kerberos:  # the scan's ticket: ldap/<the URL's host> from the KDC, no password
        return {"authentication": ldap3.SASL, "sasl_mechanism": ldap3.KERBEROS}
    if not username:
        return {"authentication": ldap3.ANONYMOUS}
    if "\\" in username and "=" not in username:
        return {"user": username, "password": password or "", "authentication": ldap3.NTLM}
    encrypted = query.url.lower().startswith("ldaps://") or query.starttls
    if not encrypted and not query.allow_plain:
        raise DirectoryError(
            "a simple bind over plain LDAP would send the password in clear text: use "
            "ldaps://, --ldap-starttls, an NTLM account (DOMAIN\\user), or "
            "--allow-ldap-plain-bind",
            path=_shown(query.url),
        )
    return {"user": username, "password": password or "", "authentication": ldap3.SIMPLE}


def _open(conn: Any, query: DirectoryQuery) -> None:
    conn.open()
    if query.starttls and not conn.start_tls():
        raise DirectoryError("the server refused StartTLS", path=_shown(query.url))
    if not conn.bind():
        result = conn.result or {}
        raise DirectoryError(
            f"the directory refused the bind: {result.get('description', 'refused')}"
            + (f" ({result['message']})" if result.get("message") else ""),
            path=_shown(query.url),
        )


def _scope(scope: str) -> Any:
    import ldap3

    return {"sub": ldap3.SUBTREE, "one": ldap3.LEVEL, "base": ldap3.BASE}[scope]


def _wanted(query: DirectoryQuery) -> list[str]:
    extra = [] if query.site_from == "ou" else [query.site_from]
    return [*ATTRIBUTES, *extra]


def _inventory(entries: Any, query: DirectoryQuery, now: datetime) -> Inventory:
    targets: dict[str, Target] = {}
    skipped: list[Skipped] = []
    problems: list[InventoryError] = []
    stale_before = now - timedelta(days=query.stale_days)
    for entry in entries:
        if entry.get("type") != "searchResEntry":
            continue  # referrals: another domain's, not this OU's
        dn, values = str(entry["dn"]), entry.get("attributes") or {}
        host = _one(values, "dNSHostName")
        name = host or _one(values, "cn") or dn
        reason = _skip_reason(values, host, stale_before)
        if reason is not None:
            skipped.append(Skipped(name.lower(), dn, reason))
            continue
        assert host is not None
        if not _HOST_RE.match(host):
            message = f"{dn}: dNSHostName {host[:80]!r} is not a host name"
            problems.append(InventoryError(message, path=_shown(query.url)))
            continue
        target = _target(host.lower(), dn, values, query)
        targets.setdefault(target.host, target)
    return Inventory(tuple(targets.values()), tuple(problems), _shown(query.url), tuple(skipped))


def _skip_reason(values: dict[str, Any], host: str | None, stale_before: datetime) -> str | None:
    control = _integer(values.get("userAccountControl"))
    if control is not None and control & ACCOUNTDISABLE:
        return "the computer account is disabled"
    if not host:
        return "the account has no dNSHostName (pre-staged, never joined)"
    last = _logon(values.get("lastLogonTimestamp"))
    if last is None:
        return "the directory records no logon (lastLogonTimestamp absent)"
    if last < stale_before:
        return f"no logon to the domain since {last:%Y-%m-%d} (lastLogonTimestamp)"
    return None


def _integer(value: Any) -> int | None:
    """An integer attribute: ldap3 gives an int where it knows the schema, its text
    where it does not (it reads none here: every server answers alike)."""
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _logon(value: Any) -> datetime | None:
    """lastLogonTimestamp: a FILETIME (100 ns ticks since 1601); a datetime where ldap3
    was given AD's schema."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    ticks = _integer(value)
    if ticks is None or ticks <= 0:
        return None
    return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def _target(host: str, dn: str, values: dict[str, Any], query: DirectoryQuery) -> Target:
    site = _first_ou(dn) if query.site_from == "ou" else _one(values, query.site_from)
    owner_dn = _one(values, "managedBy")
    extra = tuple(
        (column, text)
        for column, attribute in (
            ("ad_os", "operatingSystem"),
            (BELIEVED_SERVICE_PACK, "operatingSystemServicePack"),
            ("ad_os_version", "operatingSystemVersion"),
        )
        if (text := _one(values, attribute))
    )
    if _one(values, "operatingSystem") and not _one(values, "operatingSystemServicePack"):
        extra += ((BELIEVED_SERVICE_PACK, "none"),)  # AD holds no service pack: it believes none
    return Target(
        host=host, site=site or None, owner=_first_rdn(owner_dn) if owner_dn else None, extra=extra
    )


def _one(values: dict[str, Any], name: str) -> str | None:
    value = values.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    text = "".join(c for c in str(value) if c.isprintable()).strip()
    return text[:255] or None


def _first_ou(dn: str) -> str | None:
    for rdn in _rdns(dn):
        if rdn[0].lower() == "ou":
            return rdn[1]
    return None


def _first_rdn(dn: str) -> str | None:
    rdns = _rdns(dn)
    return rdns[0][1] if rdns else None


def _rdns(dn: str) -> list[tuple[str, str]]:
    from ldap3.utils.dn import parse_dn

    try:
        return [(kind, value) for kind, value, _ in parse_dn(dn)]
    except Exception:
        return []


def _shown(url: str) -> str:
    """The URL as reports show it: no credentials even if someone typed them in."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        return url.replace(parts.netloc, parts.hostname or "", 1)
    return url


def _said(exc: Exception, password: str | None) -> str:
    message = f"{type(exc).__name__}: {exc}"
    if password:
        message = message.replace(password, "********")
    return message[:300]
