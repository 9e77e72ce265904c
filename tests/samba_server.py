"""A real SMB server for the tests: Debian's Samba, on 127.0.0.1, with its own config.

Nobody here wrote it, which is the point: it answers impacket (and so kbscan) as a
server does, refusals included. It is started per test module in a 0755 tree (Samba's
RPC workers run as the logged-on user and must enter it), bound to loopback only, with
NetBIOS off, so no packet leaves the machine; Debian's own daemons are never started.
An administrator is a user mapped into BUILTIN\\Administrators (net groupmap); a plain
user is not. Needs root (to add the two local users) and smbd; the tests skip otherwise.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, stop_group

ADMIN = "kbscan-admin"
USER = "kbscan-user"
GROUP = "kbscan-admins"
PASSWORD = "Samba-Test-1!"  # a test account on loopback only


def why_not() -> str | None:
    """Why Samba cannot run here, or None."""
    if shutil.which("smbd") is None:
        return "smbd is not installed (Debian's samba package; .ci/run installs it)"
    if os.geteuid() != 0:
        return "Samba's test users are added with useradd, which needs root"
    return None


@dataclass(frozen=True)
class Samba:
    port: int
    root: Path
    config: Path

    def log(self) -> str:
        logs = sorted(p for p in (self.root / "log").glob("*") if p.is_file())
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in logs)


def _run(*args: str, stdin: str | None = None) -> None:
    subprocess.run(args, input=stdin, text=True, check=True, capture_output=True, timeout=60)


def _users(config: Path) -> None:
    with contextlib.suppress(subprocess.CalledProcessError):
        _run("groupadd", "--force", GROUP)
    for user in (ADMIN, USER):
        with contextlib.suppress(subprocess.CalledProcessError):
            _run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user)
        _run("smbpasswd", "-c", str(config), "-s", "-a", user, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    _run("usermod", "-a", "-G", GROUP, ADMIN)
    with contextlib.suppress(subprocess.CalledProcessError):
        _run("net", "-s", str(config), "groupmap", "add", "sid=S-1-5-32-544",
             f"unixgroup={GROUP}", "type=builtin")  # fmt: skip


def _config(root: Path, port: int, admin_share: bool) -> Path:
    for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log", "windows"):
        (root / sub).mkdir(mode=0o755, parents=True, exist_ok=True)
    text = f"""[global]
    server role = standalone server
    workgroup = KBTEST
    netbios name = SAMBATEST
    interfaces = 127.0.0.1
    bind interfaces only = yes
    smb ports = {port}
    disable netbios = yes
    server min protocol = NT1
    ntlm auth = yes
    map to guest = never
    private dir = {root}/private
    lock directory = {root}/lock
    state directory = {root}/state
    cache directory = {root}/cache
    pid directory = {root}/pid
    ncalrpc dir = {root}/ncalrpc
    log file = {root}/log/log.%m
    passdb backend = tdbsam:{root}/private/passdb.tdb
    load printers = no
    printcap name = /dev/null
    disable spoolss = yes
    log level = 1 smb:3 smb2:3
"""
    if admin_share:
        text += f"""
[ADMIN$]
    path = {root}/windows
    read only = yes
    valid users = {ADMIN}
"""
    config = root / "smb.conf"
    config.write_text(text)
    return config


@contextlib.contextmanager
def samba(*, admin_share: bool = True) -> Iterator[Samba]:
    """A running smbd in a tree of its own; stopped, with every child, and its tree
    removed when the block ends. The tree hangs off /tmp, 0755 all the way: pytest's
    own temporary folders are 0700, which Samba's workers cannot enter (winreg then
    answers WERR_NOT_ENOUGH_MEMORY)."""
    root = Path(tempfile.mkdtemp(prefix="kbscan-samba-", dir="/tmp"))
    os.chmod(root, 0o755)
    port = free_port()
    config = _config(root, port, admin_share)
    _users(config)
    process = subprocess.Popen(
        ["smbd", "--foreground", "--no-process-group", f"--configfile={config}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    server = Samba(port, root, config)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None:
                raise RuntimeError(f"smbd ended at once:\n{server.log()}")
            time.sleep(0.1)
        else:
            raise RuntimeError(f"smbd did not listen within 20 s:\n{server.log()}")
        yield server
    finally:
        stop_group(process)
        shutil.rmtree(root, ignore_errors=True)
