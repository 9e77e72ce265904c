"""A real MIT Kerberos KDC for the tests: Debian's krb5kdc on 127.0.0.1, a realm of its
own made for the run, a user, a principal per simulated host and their keytab.

Nothing of the machine's own Kerberos is used or changed: the realm's database, its
kdc.conf and krb5.conf live in a temporary folder, and KRB5_CONFIG / KRB5_KDC_PROFILE
point there for the KDC and for the test process. Skipped where krb5kdc is absent.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.servers import stop_group, wait_listening

REALM = "KBSCAN.TEST"
DOMAIN = "kbscan.test"
USER = "scanner"
KRB5KDC = "/usr/sbin/krb5kdc"
KDB5_UTIL = "/usr/sbin/kdb5_util"
KADMIN_LOCAL = "/usr/sbin/kadmin.local"
FAKETIME = "/usr/bin/faketime"


KDC_PORT = 88  # impacket asks a KDC on 88 only, as Windows clients do


def why_not() -> str | None:
    missing = [p for p in (KRB5KDC, KDB5_UTIL, KADMIN_LOCAL) if not Path(p).exists()]
    if missing:
        return (
            f"MIT Kerberos KDC not installed ({', '.join(missing)}; "
            "apt-get install krb5-kdc krb5-admin-server)"
        )
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as krb5kdc binds
        try:
            probe.bind(("127.0.0.1", KDC_PORT))
        except OSError as exc:
            return f"a KDC needs 127.0.0.1:{KDC_PORT}, which this user cannot bind ({exc})"
    return None


@dataclass(frozen=True)
class Kdc:
    """A running realm: where it listens, the user's password and the hosts' keytab."""

    port: int
    password: str
    keytab: Path
    krb5_conf: Path
    root: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kadmin(self, query: str) -> str:
        """One kadmin.local command against the realm's database (as root, no network)."""
        done = subprocess.run(
            [KADMIN_LOCAL, "-r", REALM, "-q", query],
            env=_env(self.root), capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        return done.stdout


def _env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KRB5_CONFIG": str(root / "krb5.conf"),
        "KRB5_KDC_PROFILE": str(root / "kdc.conf"),
    }


def _configs(root: Path, port: int) -> None:
    (root / "krb5.conf").write_text(
        f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    default_ccache_name = MEMORY:kbscan-tests
[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{port}
    }}
[domain_realm]
    .{DOMAIN} = {REALM}
    {DOMAIN} = {REALM}
"""
    )
    (root / "kdc.conf").write_text(
        f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}
[realms]
    {REALM} = {{
        database_name = {root}/principal
        key_stash_file = {root}/stash
        acl_file = {root}/kadm5.acl
        max_life = 10h
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}
[logging]
    kdc = FILE:{root}/kdc.log
"""
    )


@contextlib.contextmanager
def realm(
    hosts: Sequence[str], clock_ahead: str | None = None, services: Sequence[str] = ("HTTP", "cifs")
) -> Iterator[Kdc]:
    """A KDC for ``hosts`` (a principal per service, HTTP/ and cifs/ by default, keys in
    one keytab) and USER.
    ``clock_ahead`` ("+1h"): the KDC's clock runs ahead of ours (faketime), as a domain
    controller's does when NTP is broken."""
    root = Path(tempfile.mkdtemp(prefix="kbscan-kdc-"))
    port = KDC_PORT
    _configs(root, port)
    env = _env(root)
    run = {"env": env, "capture_output": True, "timeout": 60, "check": True}
    master = secrets.token_hex(16)
    subprocess.run([KDB5_UTIL, "-r", REALM, "-P", master, "create", "-s"], **run)  # type: ignore[call-overload]
    password = "Kdc-" + secrets.token_hex(8)
    kdc = Kdc(port, password, root / "hosts.keytab", root / "krb5.conf", root)
    kdc.kadmin(f"addprinc -pw {password} {USER}")
    for host in hosts:
        for service in services:
            kdc.kadmin(f"addprinc -randkey {service}/{host}")
            kdc.kadmin(f"ktadd -k {kdc.keytab} -norandkey {service}/{host}")
    command = [KRB5KDC, "-n", "-r", REALM]
    if clock_ahead is not None:
        command = [FAKETIME, "-f", clock_ahead, *command]
    process = subprocess.Popen(
        command, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_listening(process, port, "krb5kdc")
        yield kdc
    finally:
        stop_group(process)
        shutil.rmtree(root, ignore_errors=True)
