"""The probe's parser on Windows output as Windows prints it (written out by hand here,
not produced by kbscan's simulator), and the probe's command line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kbscan.collect.plan import plan_for
from kbscan.collect.probe import (
    build_probe,
    parse_probe_output,
    parse_reg_query,
    parse_sc_query,
    parse_wmi_datetime,
    parse_wmic_list,
)
from kbscan.model import Arch, FailureCategory, KbDefinition, Target

WMIC_OS = (
    b"\r\r\n\r\r\nCaption=Microsoft(R) Windows(R) Server 2003, Enterprise Edition\r\r\n"
    b"CSDVersion=Service Pack 2\r\r\nProductType=3\r\r\nServicePackMajorVersion=2\r\r\n"
    b"Version=5.2.3790\r\r\nWindowsDirectory=C:\\WINDOWS\r\r\n\r\r\n\r\r\n"
)
SC_RUNNING = (
    b"\r\nSERVICE_NAME: SMTPSVC\r\n        TYPE               : 20  WIN32_SHARE_PROCESS \r\n"
    b"        STATE              : 4  RUNNING \r\n"
    b"                                (STOPPABLE, PAUSABLE, ACCEPTS_SHUTDOWN)\r\n"
    b"        WIN32_EXIT_CODE    : 0  (0x0)\r\n        SERVICE_EXIT_CODE  : 0  (0x0)\r\n"
    b"        CHECKPOINT         : 0x0\r\n        WAIT_HINT          : 0x0\r\n\r\n"
)
SC_MISSING = (
    b"[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\n"
    b"The specified service does not exist as an installed service.\r\n\r\n"
)
REG_MISSING = b"\r\nError:  The system was unable to find the specified registry key or value\r\n"


NO_INSTANCES = b"No Instance(s) Available.\r\r\n"


def _output(
    *,
    os_block: bytes = WMIC_OS,
    cpu: bytes = b"Architecture=9",
    smtp: bytes = SC_RUNNING,
    file_block: bytes | None = None,
    pending: bytes = REG_MISSING,
    exchange: bytes = REG_MISSING,
    qfe: bytes = NO_INSTANCES,
    updates: bytes = REG_MISSING,
    hotfix: bytes = REG_MISSING,
) -> bytes:
    if file_block is None:
        file_block = (
            b"\r\r\n\r\r\nFileSize=773632\r\r\nLastModified=20070606020100.000000-420\r\r\n"
            b"Version=6.0.3790.4094\r\r\n\r\r\n\r\r\n"
        )
    return b"".join(
        [
            b"==KBSCAN:host== \r\nSMTP-GW01\r\n",
            b"==KBSCAN:os== \r\nPlease wait while WMIC is being installed.\r\n" + os_block,
            b"==KBSCAN:cpu== \r\n\r\r\n\r\r\n" + cpu + b"\r\r\n\r\r\n\r\r\n",
            b"==KBSCAN:env== \r\nSystemRoot=C:\\WINDOWS\r\nPROCESSOR_ARCHITECTURE=x86\r\n"
            b"PROCESSOR_ARCHITEW6432=AMD64 \r\n",
            b"==KBSCAN:file:f0== \r\n" + file_block,
            b"==KBSCAN:service:SMTPSVC== \r\n" + smtp,
            b"==KBSCAN:service:IISADMIN== \r\n" + SC_RUNNING.replace(b"SMTPSVC", b"IISADMIN"),
            b"==KBSCAN:exchange== \r\n" + exchange,
            b"==KBSCAN:qfe== \r\n" + qfe,
            b"==KBSCAN:updates== \r\n" + updates,
            b"==KBSCAN:hotfix== \r\n" + hotfix,
            b"==KBSCAN:pending== \r\n" + pending,
            b"==KBSCAN:process== \r\n\r\r\n\r\r\nCreationDate=20261120061500.500000-420\r\r\n"
            b"Name=inetinfo.exe\r\r\n\r\r\n\r\r\n",
            b"==KBSCAN:end== \r\n",
        ]
    )


WHEN = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_a_32_bit_shell_on_x64_is_still_x64(kb: KbDefinition) -> None:
    facts = parse_probe_output(_output(), plan_for([kb]), Target("gw01"), WHEN)
    assert facts.failure is None
    assert facts.architecture is Arch.X64
    assert facts.computer_name == "SMTP-GW01" and facts.system_root == "C:\\WINDOWS"
    assert facts.os is not None and facts.os.service_pack == 2 and facts.os.product_type == 3
    assert facts.services == (("SMTPSVC", "RUNNING"),)  # a part the plan did not ask: ignored
    assert facts.products == () and facts.hotfixes == () and facts.pending_renames == ()
    (f,) = facts.files
    assert f.path == "C:\\WINDOWS\\system32\\inetsrv\\aqueue.dll" and f.present is True
    assert str(f.version_text) == "6.0.3790.4094" and f.size == 773632
    # -420: seven hours west of UTC
    assert f.modified == datetime(2007, 6, 6, 9, 1, tzinfo=UTC)
    assert facts.process_starts == (
        ("inetinfo.exe", datetime(2026, 11, 20, 13, 15, 0, tzinfo=UTC)),
    )


def test_cpu_missing_falls_back_to_the_native_environment(kb: KbDefinition) -> None:
    facts = parse_probe_output(_output(cpu=b""), plan_for([kb]), Target("gw01"), WHEN)
    assert facts.architecture is Arch.X64  # PROCESSOR_ARCHITEW6432, never the x86 process


def test_localized_caption_and_empty_values(kb: KbDefinition) -> None:
    german = (
        "\r\r\n\r\r\nCaption=Microsoft(R) Windows(R) Server 2003, Standard Edition f\u00fcr "
        "Itanium-basierte Systeme\r\r\nCSDVersion=\r\r\nProductType=2\r\r\n"
        "ServicePackMajorVersion=0\r\r\nVersion=5.2.3790\r\r\nWindowsDirectory=C:\\WINNT\r\r\n"
    ).encode("cp437")
    facts = parse_probe_output(
        _output(os_block=german, cpu=b"Architecture=6"), plan_for([kb]), Target("h"), WHEN
    )
    assert facts.os is not None
    assert facts.os.caption is not None and "f\u00fcr Itanium" in facts.os.caption
    assert facts.os.csd_version is None and facts.os.service_pack == 0
    assert facts.architecture is Arch.IA64


def test_service_absent_file_absent_and_exchange(kb: KbDefinition) -> None:
    exchange = (
        b"\r\n! REG.EXE VERSION 3.0\r\n\r\n"
        b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Exchange\\Setup\r\n"
        b"    Services\tREG_SZ\tC:\\Program Files\\Exchsrvr\r\n"
        b"    MsiProductMajor\tREG_DWORD\t0x6\r\n    MsiProductMinor\tREG_DWORD\t0x5\r\n\r\n"
    )
    facts = parse_probe_output(
        _output(smtp=SC_MISSING, file_block=b"No Instance(s) Available.\r\r\n", exchange=exchange),
        plan_for([kb]), Target("h"), WHEN,
    )  # fmt: skip
    assert dict(facts.services or ())["SMTPSVC"] == ""
    assert facts.files[0].present is False
    assert facts.products == (("Exchange Server", "2003"),)


def test_pending_renames_and_hotfix_records(kb: KbDefinition) -> None:
    pending = (
        b"\r\n! REG.EXE VERSION 3.0\r\n\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\"
        b"Session Manager\r\n    PendingFileRenameOperations\tREG_MULTI_SZ\t"
        b"\\??\\C:\\WINDOWS\\system32\\inetsrv\\SET4.tmp\\0!\\??\\C:\\WINDOWS\\system32\\inetsrv\\"
        b"aqueue.dll\\0\\??\\C:\\old.log\\0\\0\\0\r\n\r\n"
    )
    qfe = b"\r\r\n\r\r\nHotFixID=KB934709\r\r\n\r\r\n\r\r\nHotFixID=Q147222\r\r\n\r\r\n\r\r\n"
    facts = parse_probe_output(_output(pending=pending, qfe=qfe), plan_for([kb]), Target("h"), WHEN)
    assert facts.hotfixes == ("KB934709", "Q147222")
    assert [(r.source, r.destination) for r in facts.pending_renames or ()] == [
        ("\\??\\C:\\WINDOWS\\system32\\inetsrv\\SET4.tmp",
         "!\\??\\C:\\WINDOWS\\system32\\inetsrv\\aqueue.dll"),
        ("\\??\\C:\\old.log", ""),
    ]  # fmt: skip


def test_newer_reg_exe_format_is_read_too() -> None:
    text = (
        "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Exchange\\Setup\r\n"
        "    MsiProductMajor    REG_DWORD    0x8\r\n\r\n"
    )
    assert parse_reg_query(text) == {"MsiProductMajor": ("REG_DWORD", "0x8")}


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (b"", "incomplete or not the probe's"),
        (b"\x1b[31m=cmd|' /C calc'!A0\x00\xff" * 50, "incomplete or not the probe's"),
        (_output()[:400], "incomplete or not the probe's"),
        (_output(os_block=b"Node - H\r\r\nERROR:\r\r\nDescription = Invalid query\r\r\n"),
         "wmic failed"),
        (_output(smtp=b"[SC] QueryServiceStatus: the answer was cut off\r\n"),
         "sc query printed no state"),
        (_output(file_block=b"\r\r\n\r\r\nFileSize=1\r\r\nVersion=6.0.3790\r\r\n"),
         "is not a Windows file version"),
    ],
)  # fmt: skip
def test_output_that_is_not_the_probes_is_unparseable(
    kb: KbDefinition, output: bytes, message: str
) -> None:
    facts = parse_probe_output(output, plan_for([kb]), Target("h"), WHEN)
    assert facts.failure is not None
    assert facts.failure.category is FailureCategory.UNPARSEABLE_OUTPUT
    assert message in facts.failure.message
    assert "\x1b" not in facts.failure.message and "\x00" not in facts.failure.message


def test_small_parsers() -> None:
    assert parse_sc_query(SC_MISSING.decode()) == ""
    assert parse_wmic_list("\r\r\n\r\r\nA=1\r\r\nB=\r\r\n\r\r\n\r\r\nA=2\r\r\n") == [
        {"A": "1", "B": ""},
        {"A": "2"},
    ]
    assert parse_wmi_datetime("20070606163200.000000+060") == datetime(
        2007, 6, 6, 15, 32, tzinfo=UTC
    )
    assert parse_wmi_datetime("garbage") is None


def test_probe_only_reads(kb: KbDefinition) -> None:
    line = build_probe(plan_for([kb]), fetch=True).lower()
    for verb in ("reg add", "reg delete", "sc stop", "sc start", "sc config", "net stop",
                 "net start", "del ", "copy ", "move ", "msiexec", " > ", ">>"):  # fmt: skip
        assert verb not in line
    assert "powershell" not in line
    assert line.count("==kbscan:") >= 12


# reg.exe 3.0 (XP, 2003) of the Updates key, as it prints a subtree: one key per line.
UPDATES_REG3 = (
    b"\r\n! REG.EXE VERSION 3.0\r\n\r\n"
    b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Updates\r\n\r\n"
    b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Updates\\Windows Server 2003\r\n\r\n"
    b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Updates\\Windows Server 2003\\SP3\r\n\r\n"
    b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Updates\\Windows Server 2003\\SP3\\KB934709\r\n"
    b"    Description\tREG_SZ\tHotfix for Windows Server 2003 (KB934709)\r\n"
    b"    InstalledDate\tREG_SZ\t11/20/2026\r\n\r\n"
    b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Updates\\Windows XP\\SP4\\KB2492386\r\n"
    b"    Description\tREG_SZ\tUpdate for Windows XP (KB2492386)\r\n\r\n"
)
# reg.exe of Vista and later: no version line, four spaces between name, type and data.
PENDING_REG6 = (
    b"\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\r\n"
    b"    PendingFileRenameOperations    REG_MULTI_SZ    \\??\\C:\\Windows\\system32\\"
    b"SET1.tmp\\0!\\??\\C:\\Windows\\system32\\inetsrv\\aqueue.dll\\0\\0\r\n\r\n"
)


def test_update_records_under_any_product_key(kb: KbDefinition) -> None:
    facts = parse_probe_output(_output(updates=UPDATES_REG3), plan_for([kb]), Target("gw01"), WHEN)
    assert facts.hotfixes == ("KB934709",)  # only the KB's own ids are kept


def test_later_reg_exe_and_no_updates_key(kb: KbDefinition) -> None:
    facts = parse_probe_output(_output(pending=PENDING_REG6), plan_for([kb]), Target("gw01"), WHEN)
    assert facts.failure is None and facts.hotfixes == ()
    (rename,) = facts.pending_renames or ()
    assert rename.destination == "!\\??\\C:\\Windows\\system32\\inetsrv\\aqueue.dll"


def test_the_probe_reads_the_updates_key_once(kb: KbDefinition) -> None:
    probe = build_probe(plan_for([kb]))
    assert probe.count('reg query "HKLM\\SOFTWARE\\Microsoft\\Updates" /s') == 1


def _six_x_output(kb: KbDefinition) -> bytes:
    """Server 2008 R2 x64 answering KB981506's probe as 6.1 prints it: Windows in
    C:\\Windows, a 64-bit shell (PROCESSOR_ARCHITEW6432 unset), the package record in wmic
    qfe, no Updates key, reg.exe without a version line."""

    files = b"".join(
        f"==KBSCAN:file:{f.name}== \r\n".encode()
        + b"\r\r\n\r\r\nFileSize=1037312\r\r\nLastModified=20100313071600.000000+000\r\r\n"
        + b"Version=6.1.7600.20667\r\r\n\r\r\n\r\r\n"
        for f in plan_for([kb]).files
    )
    return b"".join(
        [
            b"==KBSCAN:host== \r\nFS01\r\n",
            b"==KBSCAN:os== \r\n\r\r\n\r\r\nCaption=Microsoft Windows Server 2008 R2 Enterprise "
            b"\r\r\nCSDVersion=\r\r\nProductType=3\r\r\nServicePackMajorVersion=0\r\r\n"
            b"Version=6.1.7600\r\r\nWindowsDirectory=C:\\Windows\r\r\n\r\r\n\r\r\n",
            b"==KBSCAN:cpu== \r\n\r\r\n\r\r\nArchitecture=9\r\r\n\r\r\n\r\r\n",
            b"==KBSCAN:env== \r\nSystemRoot=C:\\Windows\r\nPROCESSOR_ARCHITECTURE=AMD64\r\n"
            b"PROCESSOR_ARCHITEW6432=%PROCESSOR_ARCHITEW6432% \r\n",
            files,
            b"==KBSCAN:qfe== \r\n\r\r\n\r\r\nHotFixID=KB976902\r\r\n\r\r\n\r\r\n"
            b"HotFixID=KB981506\r\r\n\r\r\n\r\r\n",
            b"==KBSCAN:updates== \r\n" + REG_MISSING,
            b"==KBSCAN:hotfix== \r\n" + REG_MISSING,
            b"==KBSCAN:pending== \r\n" + REG_MISSING,
            b"==KBSCAN:end== \r\n",
        ]
    )


def test_server_2008_r2_output() -> None:
    from kbscan.kb.directory import default_source

    kb = default_source().load("KB981506")
    facts = parse_probe_output(_six_x_output(kb), plan_for([kb]), Target("fs01"), WHEN)
    assert facts.failure is None, facts.failure
    assert facts.os is not None and facts.os.version == "6.1.7600"
    assert facts.os.product_type == 3 and facts.os.service_pack == 0
    assert facts.architecture is Arch.X64 and facts.system_root == "C:\\Windows"
    assert facts.hotfixes is not None and "KB981506" in facts.hotfixes  # a package record
    assert {f.path.lower() for f in facts.files} >= {
        "c:\\windows\\system32\\drivers\\cng.sys",
        "c:\\windows\\syswow64\\secur32.dll",
    }
    assert all(str(f.version_text) == "6.1.7600.20667" for f in facts.files)


@pytest.mark.parametrize(
    ("updates", "hotfix", "recorded"),
    [
        (b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Updates\\Windows Server 2003\\SP3\\KB934709-v2\r\n", REG_MISSING, "KB934709-V2"),
        (b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Updates\\Windows Server 2003\\SP3\\KB934709v2\r\n", REG_MISSING, "KB934709V2"),
        (REG_MISSING, b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Hotfix\r\n"
         b"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Hotfix\\Q934709\r\n", "Q934709"),
    ],
)  # fmt: skip
def test_every_spelling_of_an_installed_update_record(
    kb: KbDefinition, updates: bytes, hotfix: bytes, recorded: str
) -> None:
    from kbscan.evaluate import hotfix_recorded

    facts = parse_probe_output(
        _output(updates=updates, hotfix=hotfix), plan_for([kb]), Target("gw01"), WHEN
    )
    assert facts.failure is None
    assert facts.hotfixes == (recorded,)
    assert hotfix_recorded(facts, kb) is True


@pytest.mark.parametrize(
    "qfe",
    [
        b"\r\r\n\r\r\nHotFixID=KB934709\r\r\n\r\r\n\r\r\nHotFixID=KB911111\r\r\n\r\r\n",
        b"HotFixID   \r\r\nKB934709   \r\r\nKB911111   \r\r\n\r\r\n",
        b"Please wait while WMIC is being installed.\r\nHotFixID   \r\r\nKB934709   \r\r\nKB911111   \r\r\n",
        b"\r\r\nNode,HotFixID\r\r\nGW01,KB934709\r\r\nGW01,KB911111\r\r\n",
    ],
)
def test_wmic_qfe_in_every_output_format(kb: KbDefinition, qfe: bytes) -> None:
    facts = parse_probe_output(_output(qfe=qfe), plan_for([kb]), Target("gw01"), WHEN)
    assert facts.failure is None
    assert facts.hotfixes == ("KB911111", "KB934709")


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("[SC] OpenSCManager FAILED 5:\r\n\r\nAccess is denied.\r\n", "UNKNOWN"),
        ("[SC] OpenService FEHLER 5:\r\n\r\nZugriff verweigert\r\n", "UNKNOWN"),
        ("[SC] EnumQueryServicesStatus:OpenService ÉCHEC 1060 :\r\n\r\nLe service spécifié n'existe pas.\r\n", ""),
        ("[SC] EnumQueryServicesStatus:OpenService: ошибка: 1060:\r\n\r\nУказанная служба не установлена.\r\n", ""),
        ("\r\nSERVICE_NAME: SMTPSVC\r\n        TIPO               : 20  WIN32_SHARE_PROCESS\r\n        ESTADO             : 4  RUNNING\r\n", "RUNNING"),
        ("\r\nSERVICE_NAME: SMTPSVC\r\n        種類               : 20  WIN32_SHARE_PROCESS\r\n        状態               : 1  STOPPED\r\n", "STOPPED"),
    ],
)  # fmt: skip
def test_sc_captured_alone_is_read_by_its_numbers(text: str, state: str) -> None:
    """A capture of sc.exe without the probe's exit code (as an administrator pastes it):
    the code on its [SC] line and the state's number decide, in any language."""
    from kbscan.collect.probe import parse_sc_query

    assert parse_sc_query(text) == state


@pytest.mark.parametrize(
    "text",
    [
        "\r\nError:  The system was unable to find the specified registry key or value\r\n",
        "FEHLER: Der angegebene Registrierungsschlüssel bzw. Wert wurde nicht gefunden.\r\n",
        "ERREUR : le système n'a pas trouvé la clé ou la valeur de Registre spécifiée.\r\n",
        "ОШИБКА: Не удается найти указанный раздел или параметр в реестре.\r\n",
        "エラー: 指定されたレジストリ キーまたは値が見つかりませんでした\r\n",
    ],
)
def test_reg_captured_alone_reads_a_missing_key_in_any_language(text: str) -> None:
    from kbscan.collect.probe import parse_reg_keys, parse_reg_query

    assert parse_reg_query(text) is None
    assert parse_reg_keys(text) == []


def test_a_refused_fetch_is_said_for_every_file_it_costs() -> None:
    """A host that refuses ``type`` of its files (deny_read) answers each copy with an
    error on stderr and nothing on stdout: every present file says the copy was refused,
    and no fetched file swallows the next one's marker."""
    from kbscan.app import kb_set
    from kbscan.simulator.shell import Shell
    from tests.simfleet import demo_hosts

    plan = plan_for(kb_set("all").kbs)
    for name in ("lon-ws01", "lon-smtp01"):  # files refused; files fetched
        host = next(h for h in demo_hosts() if h.host == name)
        result = Shell(host).run(build_probe(plan, fetch=True))
        facts = parse_probe_output(bytes(result.stdout), plan, Target(name), WHEN)
        present = [f for f in facts.files if f.present]
        assert facts.failure is None and len(present) >= 2, name
        if host.extra.get("deny_read"):
            assert all("could not be copied" in (f.binary_error or "") for f in present)
            assert all(f.binary is None for f in present)
        else:
            assert all(f.binary is not None and f.binary_error is None for f in present)
