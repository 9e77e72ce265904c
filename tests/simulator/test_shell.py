"""The simulator's cmd: what Windows prints, including where it surprises."""

from __future__ import annotations

from datetime import UTC, datetime

from kbscan.collect.plan import plan_for
from kbscan.simulator.shell import Shell
from tests.simfleet import variant

WHEN = datetime(2026, 11, 25, tzinfo=UTC)


def _run(line: str, **changes: object) -> tuple[bytes, bytes]:
    result = Shell(variant("lon-smtp01", "h", **changes)).run(line)
    return bytes(result.stdout), bytes(result.stderr)


def test_echo_keeps_the_space_before_an_ampersand() -> None:
    assert _run("echo a & echo b&echo c")[0] == b"a \r\nb\r\nc\r\n"


def test_undefined_variables_stay_as_typed() -> None:
    assert _run("echo %PROCESSOR_ARCHITEW6432%|%SystemRoot%")[0] == (
        b"%PROCESSOR_ARCHITEW6432%|C:\\WINDOWS\r\n"
    )


def test_wmic_list_format_and_errors() -> None:
    out, err = _run("wmic os get Version,Caption /format:list <NUL")
    assert out.startswith(b"\r\r\n\r\r\nCaption=") and b"\r\r\nVersion=5.2.3790\r\r\n" in out
    out, err = _run("wmic datafile where \"name='C:\\WINDOWS\\system32'\" get Version /format:list")
    assert out == b"" and b"Invalid query" in err
    out, err = _run("wmic datafile where \"name='C:\\\\nothing.dll'\" get Version /format:list")
    assert err == b"No Instance(s) Available.\r\r\n"
    out, _ = _run("wmic datafile where \"name='C:\\\\nothing.dll'\" get Version 2>&1")
    assert out == b"No Instance(s) Available.\r\r\n"


def test_for_f_splits_system_root_and_runs_the_rest_of_the_line() -> None:
    out, _ = _run(
        'for /f "tokens=1,* delims=\\" %a in ("C:\\WINDOWS") do (echo [%a][%b]) & echo after'
    )
    assert out == b"[C:][WINDOWS]\r\nafter\r\n"


def test_reg_query_2003_format_and_missing_key() -> None:
    out, err = _run('reg query "HKLM\\SOFTWARE\\Microsoft\\Exchange\\Setup"')
    assert out == b"" and b"unable to find the specified registry key" in err
    out, _ = _run(
        'reg query "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager" '
        "/v PendingFileRenameOperations",
        registry={"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager": {
            "PendingFileRenameOperations": ["REG_MULTI_SZ", "a\\0b\\0\\0"]}},
    )  # fmt: skip
    assert out.startswith(b"\r\n! REG.EXE VERSION 3.0\r\n\r\nHKEY_LOCAL_MACHINE\\SYSTEM")
    assert b"    PendingFileRenameOperations\tREG_MULTI_SZ\ta\\0b\\0\\0\r\n" in out


def test_sc_query_missing_service() -> None:
    out, _ = _run("sc query NOSUCH")
    assert b"FAILED 1060" in out


def test_wow64_redirection_and_sysnative() -> None:
    native = "%SystemRoot%\\system32\\inetsrv\\aqueue.dll"
    x64 = {
        "content": "aqueue-x64-6.0.3790.4094-qfe.dll",
        "last_modified": "20070606020100.000000+000",
    }
    files = {"C:\\WINDOWS\\system32\\inetsrv\\aqueue.dll": x64}
    out, err = _run(f'type "{native}"', shell_32bit=True, files=files)
    assert out == b"" and b"cannot find the file" in err  # redirected to SysWOW64
    out, _ = _run(
        'type "%SystemRoot%\\Sysnative\\inetsrv\\aqueue.dll"', shell_32bit=True, files=files
    )
    assert out.startswith(b"MZ")
    out, err = _run('type "%SystemRoot%\\Sysnative\\inetsrv\\aqueue.dll"', files=files)
    assert out == b""  # a 64-bit process has no Sysnative


def test_unknown_command() -> None:
    _, err = _run("powershell -c Get-HotFix")
    assert b"'powershell' is not recognized" in err


def test_a_probe_of_several_files_reads_every_file() -> None:
    """cmd makes the rest of a line a FOR loop's body: each file's loop must be closed in
    parentheses, or the next file's %a and %b are replaced and its wmic never runs."""
    from kbscan.collect.probe import build_probe, parse_probe_output
    from kbscan.kb.directory import default_source
    from kbscan.model import Target
    from kbscan.paths import data_dir
    from kbscan.simulator.profile import load_profile

    kb = default_source().load("KB981506")
    fleet = data_dir() / "demo" / "fleet"
    host = load_profile(fleet / "lon-fs02.json", fleet / "files")
    result = Shell(host).run(build_probe(plan_for([kb])))
    facts = parse_probe_output(bytes(result.stdout), plan_for([kb]), Target("lon-fs02"), WHEN)
    assert facts.failure is None, facts.failure
    assert len(facts.files) == 10 and all(f.present for f in facts.files)
