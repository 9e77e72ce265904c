"""The simulator's cmd running a batch file: the semantics the probe script relies on,
each as cmd has it."""

from __future__ import annotations

from kbscan.simulator.batch import run_batch
from tests.simfleet import variant

SCRIPT = "C:\\kit\\t.cmd"


def _run(text: str, *args: str, **changes: object) -> object:
    host = variant("lon-smtp01", "batch01", **changes)
    return run_batch(host, text.replace("\n", "\r\n"), SCRIPT, args)


def test_percent_signs_arguments_and_the_scripts_folder() -> None:
    run = _run('@echo off\necho 100%% of %~dp0 for "%~1" and %1 and %UNDEFINED%.\n', '"x y"')
    assert run.console == b'100% of C:\\kit\\ for "x y" and "x y" and .\r\n'  # type: ignore[attr-defined]


def test_set_blocks_and_exit_b() -> None:
    text = '@echo off\nset "A=one"\nif defined A (\n  echo inside %A%\n  exit /b 3\n)\necho never\n'
    run = _run(text)
    assert run.console == b"inside one\r\n" and run.code == 3  # type: ignore[attr-defined]


def test_redirects_append_and_wmic_writes_utf16_to_a_file() -> None:
    text = (
        '@echo off\n(echo first) >"C:\\out\\x.txt"\n'
        '(echo ==M==& wmic os get Version /format:list <NUL 2>&1) >>"C:\\out\\x.txt" 2>&1\n'
    )
    written = _run(text).written("C:\\out\\x.txt")  # type: ignore[attr-defined]
    assert written is not None and written.startswith(b"first\r\n==M==\r\n\xff\xfe")
    assert "Version=5.2.3790" in written.split(b"\xff\xfe", 1)[1].decode("utf-16-le")


def test_copy_mkdir_exist_and_errorlevel() -> None:
    text = (
        '@echo off\nif not exist "C:\\out\\f" mkdir "C:\\out\\f"\n'
        'copy /b /y "%SystemRoot%\\system32\\inetsrv\\aqueue.dll" "C:\\out\\f\\a.dll" >NUL\n'
        "if errorlevel 1 (echo failed) else (echo copied)\n"
        'copy /b /y "C:\\nowhere.dll" "C:\\out\\f\\b.dll" >NUL 2>&1\n'
        "if errorlevel 1 (echo failed) else (echo copied)\n"
        'if exist "C:\\out\\f\\" echo folder\n'
    )
    run = _run(text)
    assert run.console == b"copied\r\nfailed\r\nfolder\r\n"  # type: ignore[attr-defined]
    assert (run.written("C:\\out\\f\\a.dll") or b"")[:2] == b"MZ"  # type: ignore[attr-defined]


def test_a_32bit_cmd_runs_the_script_again_natively_through_sysnative() -> None:
    text = (
        "@echo off\nif not defined AGAIN if defined PROCESSOR_ARCHITEW6432 "
        'if exist "%SystemRoot%\\Sysnative\\cmd.exe" (\n  set AGAIN=1\n'
        '  "%SystemRoot%\\Sysnative\\cmd.exe" /c ""%~f0" %*"\n  exit /b\n)\n'
        "echo arch=%PROCESSOR_ARCHITECTURE% wow=%PROCESSOR_ARCHITEW6432%\n"
    )
    env = {"SystemRoot": "C:\\WINDOWS", "PROCESSOR_ARCHITECTURE": "AMD64"}
    native = _run(text, shell_32bit=True, env=env)
    assert native.console == b"arch=AMD64 wow=\r\n"  # type: ignore[attr-defined]
    stuck = _run(text, shell_32bit=True, sysnative=False, env=env)  # 2003 x64, no KB942589
    assert stuck.console == b"arch=x86 wow=AMD64\r\n"  # type: ignore[attr-defined]
