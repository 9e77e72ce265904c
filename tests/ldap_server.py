"""A real directory for the tests: Debian's OpenLDAP slapd on 127.0.0.1, with its own
config, an Active Directory-shaped computer schema and a generated OU of computers.

slapd knows nothing of AD, so the computer attributes AD carries are declared here
with AD's own OIDs and syntaxes (dNSHostName, operatingSystem*, lastLogonTimestamp as
an integer FILETIME, userAccountControl, managedBy as a DN). The directory listens on
127.0.0.1 only, plain LDAP (with StartTLS) and LDAPS on ports of its own, with a
certificate made for the run; Debian's own slapd is never started. The entries are
loaded with slapadd before slapd starts. Skipped where slapd is absent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, self_signed, stop_group, wait_listening

BASE = "dc=example,dc=com"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "Ldap-Test-1!"  # a test directory on loopback only
SLAPD = "/usr/sbin/slapd"
SCHEMA = """
attributetype ( 1.2.840.113556.1.4.619 NAME 'dNSHostName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.363 NAME 'operatingSystem'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.364 NAME 'operatingSystemVersion'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.365 NAME 'operatingSystemServicePack'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.1696 NAME 'lastLogonTimestamp'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.653 NAME 'managedBy'
  EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.3.30 NAME 'computer' SUP top STRUCTURAL MUST cn
  MAY ( dNSHostName $ operatingSystem $ operatingSystemVersion $
        operatingSystemServicePack $ lastLogonTimestamp $ userAccountControl $
        managedBy $ l $ description ) )
"""


def gssapi_why_not() -> str | None:
    """Why slapd cannot take GSSAPI binds here, or None."""
    if why_not() is not None:
        return why_not()
    if not list(Path("/usr/lib").glob("*/sasl2/libgssapiv2.so")):
        return (
            "slapd's GSSAPI module is not installed (apt-get install libsasl2-modules-gssapi-mit)"
        )
    return None


def why_not() -> str | None:
    if not Path(SLAPD).exists() or shutil.which("slapadd") is None:
        return "slapd is not installed (Debian's slapd package; .ci/run installs it)"
    return None


@dataclass(frozen=True)
class Computer:
    name: str  # the cn
    ou: str  # the OU it sits in, under OU=Servers
    dns: str | None = None  # None: no dNSHostName (pre-staged)
    os: str = "Windows Server 2003"
    service_pack: str | None = "Service Pack 2"
    last_logon: dt.datetime | None = None  # None: never logged on
    disabled: bool = False
    owner: str | None = None  # cn of a person under OU=People


@dataclass(frozen=True)
class Directory:
    ldap_port: int
    ldaps_port: int
    ca: Path
    root: Path

    def url(self, base: str = f"OU=Servers,{BASE}", tls: bool = False) -> str:
        if tls:
            return f"ldaps://127.0.0.1:{self.ldaps_port}/{base}"
        return f"ldap://127.0.0.1:{self.ldap_port}/{base}"


def filetime(when: dt.datetime) -> int:
    return int((when - dt.datetime(1601, 1, 1, tzinfo=dt.UTC)).total_seconds() * 10_000_000)


def _ldif(computers: Sequence[Computer]) -> str:
    ous = sorted({c.ou for c in computers})
    people = sorted({c.owner for c in computers if c.owner})
    out = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n",
        f"dn: ou=Servers,{BASE}\nobjectClass: organizationalUnit\nou: Servers\n",
        f"dn: ou=People,{BASE}\nobjectClass: organizationalUnit\nou: People\n",
    ]
    out += [
        f"dn: ou={ou},ou=Servers,{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n" for ou in ous
    ]
    out += [f"dn: cn={p},ou=People,{BASE}\nobjectClass: person\ncn: {p}\nsn: {p}\n" for p in people]
    for c in computers:
        lines = [
            f"dn: cn={c.name},ou={c.ou},ou=Servers,{BASE}",
            "objectClass: computer",
            f"cn: {c.name}",
        ]
        if c.dns:
            lines.append(f"dNSHostName: {c.dns}")
        lines.append(f"operatingSystem: {c.os}")
        if c.service_pack:
            lines.append(f"operatingSystemServicePack: {c.service_pack}")
        lines.append(f"userAccountControl: {4096 | (2 if c.disabled else 0)}")
        if c.last_logon:
            lines.append(f"lastLogonTimestamp: {filetime(c.last_logon)}")
        if c.owner:
            lines.append(f"managedBy: cn={c.owner},ou=People,{BASE}")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def _config(root: Path, cert: Path, key: Path, kerberos: bool = False) -> Path:
    (root / "db").mkdir()
    (root / "ad-computer.schema").write_text(SCHEMA)
    text = f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include {root}/ad-computer.schema
pidfile {root}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
sizelimit 500
{_KERBEROS if kerberos else ""}
database mdb
maxsize 104857600
suffix "{BASE}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {root}/db
index objectClass eq
{_AUTHENTICATED_ONLY if kerberos else ""}
"""
    config = root / "slapd.conf"
    config.write_text(text)
    return config


# GSSAPI binds as AD takes them: slapd's Cyrus SASL accepts tickets for ldap/127.0.0.1
# with the realm's keytab; the bound user is uid=NAME,cn=REALM,cn=gssapi,cn=auth.
_KERBEROS = """sasl-host 127.0.0.1
sasl-secprops noanonymous,minssf=0"""
# With Kerberos, only a bound user reads the directory: an anonymous search finds nothing.
_AUTHENTICATED_ONLY = """access to * by anonymous auth by users read"""


@contextlib.contextmanager
def directory(
    computers: Sequence[Computer], kerberos: tuple[Path, Path] | None = None
) -> Iterator[Directory]:
    """slapd serving ``computers`` until the block ends (``sizelimit 500``: a search
    returns more only through paged results, as AD's MaxPageSize of 1000 demands).
    ``kerberos``: (krb5.conf, keytab holding ldap/127.0.0.1) to take GSSAPI binds."""
    root = Path(tempfile.mkdtemp(prefix="kbscan-slapd-"))
    cert, key = self_signed(root)
    config = _config(root, cert, key, kerberos is not None)
    (root / "data.ldif").write_text(_ldif(computers))
    subprocess.run(
        ["slapadd", "-q", "-f", str(config), "-l", str(root / "data.ldif")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    ldap_port, ldaps_port = free_port(), free_port()
    urls = f"ldap://127.0.0.1:{ldap_port}/ ldaps://127.0.0.1:{ldaps_port}/"
    env = dict(os.environ)
    if kerberos is not None:
        env.update(KRB5_CONFIG=str(kerberos[0]), KRB5_KTNAME=str(kerberos[1]))
    process = subprocess.Popen(
        [SLAPD, "-f", str(config), "-h", urls, "-d", "0"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_listening(process, ldap_port, "slapd")
        wait_listening(process, ldaps_port, "slapd")
        yield Directory(ldap_port, ldaps_port, cert, root)
    finally:
        stop_group(process)
        shutil.rmtree(root, ignore_errors=True)
