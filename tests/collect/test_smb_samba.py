"""kbscan's SMB collector against a real SMB server nobody here wrote: Samba.

Stock Samba answers its own CurrentVersion (only CurrentVersion "6.1" and SystemRoot),
knows only its own services, rejects BaseRegQueryInfoKey from impacket and faults
srvsvc's statistics call: what it can show is tested here. Skipped, saying why, where
smbd is absent or the tests do not run as root; .ci/run installs it.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator

import pytest

from kbscan.collect.plan import plan_for
from kbscan.collect.smb import SmbCollector, SmbSettings
from kbscan.evaluate import evaluate
from kbscan.kb.directory import default_source
from kbscan.limits import HostDeadline
from kbscan.model import FailureCategory, HostFacts, Status, Target
from tests.helpers import FIXTURES
from tests.samba_server import ADMIN, PASSWORD, USER, Samba, samba, why_not

pytestmark = [pytest.mark.samba, pytest.mark.skipif(why_not() is not None, reason=str(why_not()))]

FULLSIZE = FIXTURES / "pe" / "aqueue-x86-6.0.3790.4094-qfe-fullsize.dll"


@pytest.fixture(scope="module")
def server() -> Iterator[Samba]:
    logging.getLogger("impacket").setLevel(logging.CRITICAL)
    with samba() as running:
        inetsrv = running.root / "windows" / "system32" / "inetsrv"
        inetsrv.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FULLSIZE, inetsrv / "aqueue.dll")
        yield running


def _collect(server: Samba, user: str, password: str = PASSWORD) -> tuple[HostFacts, int]:
    source = default_source()
    plan = plan_for([source.load("KB934709"), source.load("KB981506")])
    settings = SmbSettings(username=user, password=password, read_timeout=5)
    target = Target(host="sambatest", address="127.0.0.1", smb_port=server.port)
    collected = SmbCollector(plan, settings).collect(target, HostDeadline.from_now(20))
    return collected.facts, collected.round_trips


@pytest.mark.parametrize("dialect", ["smb1", "smb2"])
def test_ntlm_logon_over_smb1_and_smb2(server: Samba, dialect: str) -> None:
    from impacket.smb import SMB_DIALECT
    from impacket.smb3structs import SMB2_DIALECT_002
    from impacket.smbconnection import SMBConnection

    wanted = SMB_DIALECT if dialect == "smb1" else SMB2_DIALECT_002
    conn = SMBConnection("SAMBATEST", "127.0.0.1", sess_port=server.port, preferredDialect=wanted)
    conn.login(ADMIN, PASSWORD, "")
    assert conn.getDialect() == wanted
    assert "ADMIN$" in [s["shi1_netname"][:-1] for s in conn.listShares()]
    conn.logoff()


def test_refused_credentials(server: Samba) -> None:
    facts, _ = _collect(server, ADMIN, "not-the-password")
    assert facts.failure is not None
    assert facts.failure.category is FailureCategory.REFUSED_CREDENTIALS
    assert "not-the-password" not in facts.failure.message


def test_a_plain_user_is_no_administrator_and_keeps_what_was_read(server: Samba) -> None:
    facts, _ = _collect(server, USER)
    assert facts.failure is not None
    assert facts.failure.category is FailureCategory.REFUSED_CREDENTIALS
    assert "not an administrator" in facts.failure.message
    assert facts.os is not None and facts.os.product_type == 3  # ServerNT, read before ADMIN$
    assert facts.system_root == "c:\\Windows"


def test_the_host_is_judged_with_what_samba_shows(server: Samba) -> None:
    """QueryInfoKey is rejected and srvsvc faults; the registry is still enumerated, the
    services read, the file's version read in ranges, and the blind spot says srvsvc."""
    facts, trips = _collect(server, ADMIN)
    assert facts.failure is None, facts.failure
    assert facts.os is not None and facts.os.product_type == 3
    assert dict(facts.services or ()) == {"SMTPSVC": ""}  # Samba lists its own services only
    (blind,) = facts.blind_spots
    assert "the Server service's start could not be read (DCE/RPC" in blind
    aqueue = next(f for f in facts.files if f.path.lower().endswith("inetsrv\\aqueue.dll"))
    assert aqueue.present and aqueue.binary is not None
    assert str(aqueue.binary.file_version) == "6.0.3790.4094"
    source = default_source()
    finding = evaluate(facts, source.load("KB981506"))
    assert finding.status is Status.UNKNOWN  # no CurrentBuildNumber: Samba is no Windows
    assert "operating system version not collected" in finding.reason
    assert trips > 0


def test_ranged_reads_read_what_smbd_served(server: Samba) -> None:
    facts, _ = _collect(server, ADMIN)
    aqueue = next(f for f in facts.files if f.path.lower().endswith("inetsrv\\aqueue.dll"))
    assert aqueue.binary is not None and aqueue.binary.bytes_read is not None
    served = sum(
        int(m.group(1))
        for m in re.finditer(r"file system32/inetsrv/aqueue\.dll, length=\d+ offset=\d+ read=(\d+)",
                             server.log())
    )  # fmt: skip
    runs = max(1, len(re.findall(r"aqueue\.dll, length=\d+ offset=0 ", server.log())))
    assert served == aqueue.binary.bytes_read * runs  # every scan of the module reads alike
    assert aqueue.binary.bytes_read < FULLSIZE.stat().st_size // 10


def test_registry_enumeration_without_query_info_key(server: Samba) -> None:
    from impacket.smbconnection import SMBConnection

    from kbscan.collect import smb_reads as reads

    conn = SMBConnection("SAMBATEST", "127.0.0.1", sess_port=server.port)
    conn.login(ADMIN, PASSWORD, "")
    with reads.pipe(conn, server.port, "winreg", conn.connectTree("IPC$")) as dce:
        registry = reads.Registry(dce)
        assert "Microsoft" in registry.subkeys("SOFTWARE")
        assert "RemoteRegistry" in registry.subkeys("SYSTEM\\CurrentControlSet\\Services")
    conn.logoff()


def test_samba_answers_pipe_transactions_and_batched_registry_reads(server: Samba) -> None:
    """Each call one exchange (TransactNamedPipe), several values in one call where Samba
    has them, and the same values one by one where it does not."""
    from impacket.smbconnection import SMBConnection

    from kbscan.collect import smb_reads as reads
    from kbscan.collect.smb import CURRENT_VERSION

    conn = SMBConnection("SAMBATEST", "127.0.0.1", sess_port=server.port)
    conn.login(ADMIN, PASSWORD, "")
    with reads.pipe(conn, server.port, "winreg", conn.connectTree("IPC$")) as dce:
        registry = reads.Registry(dce)
        batched = registry.values(CURRENT_VERSION, ("CurrentVersion", "SystemRoot"))
        one_by_one = {
            name: registry.value(CURRENT_VERSION, name) for name in ("CurrentVersion", "SystemRoot")
        }
        assert dce.get_rpc_transport().transact  # Samba took the transactions
    conn.logoff()
    assert batched == one_by_one and batched["CurrentVersion"] == "6.1"


def test_admin_share_missing() -> None:
    logging.getLogger("impacket").setLevel(logging.CRITICAL)
    with samba(admin_share=False) as bare:
        facts, _ = _collect(bare, ADMIN)
    assert facts.failure is not None
    assert "ADMIN$" in facts.failure.message
    assert facts.os is not None  # what the registry said is kept
