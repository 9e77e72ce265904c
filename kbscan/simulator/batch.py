"""cmd.exe running a batch file on a simulated host: what the probe script
(collect/probe_script.py) meets when an administrator runs it there.

A batch file differs from a command line in ways the script relies on and a test must
see: ``%%`` is one ``%``, an undefined ``%VAR%`` is empty, ``%~dp0`` and ``%~1`` name the
script's folder and argument, a parenthesised block spans lines, ``set`` and ``exit /b``
work, output redirected to a file is appended there (and wmic then writes UTF-16 with a
byte-order mark), ``copy`` and ``mkdir`` write files, and a 32-bit cmd on x64 can run
the script again in the native cmd through Sysnative. Written files are kept in memory,
by the Windows path they were written to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from kbscan.simulator.profile import SimHost
from kbscan.simulator.shell import Result, Shell, _closing

_FILE_REDIRECT = re.compile(
    r'^(?P<command>.*?)\s*(?P<op>>>?)\s*"(?P<path>[^"]+)"(?P<err>\s+2>&1)?\s*$'
)
_NATIVE_CMD = re.compile(r'(?i)^"(?P<cmd>[^"]*\\sysnative\\cmd\.exe)"\s+/c\s+"(?P<line>.*)"\s*$')


class _ExitBatch(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class BatchRun:
    """What a run left: the files it wrote, and what it printed on the console."""

    files: dict[str, bytes] = field(default_factory=dict)  # Windows path -> content
    dirs: set[str] = field(default_factory=set)  # lower-case Windows paths
    console: bytearray = field(default_factory=bytearray)
    code: int = 0

    def written(self, path: str) -> bytes | None:
        for name, data in self.files.items():
            if name.lower() == path.lower():
                return data
        return None


def run_batch(
    host: SimHost,
    text: str,
    script_path: str,
    args: tuple[str, ...] = (),
    *,
    run: BatchRun | None = None,
    env: dict[str, str] | None = None,
) -> BatchRun:
    """Run ``text`` as ``script_path`` (a Windows path) with ``args``, as cmd would."""
    run = run or BatchRun()
    shell = BatchShell(host, run, script_path, args, text)
    for name, value in (env or {}).items():
        shell.env[name.upper()] = (name, value)
    try:
        for line in _logical_lines(text):
            shell.line(line)
    except _ExitBatch as done:
        run.code = done.code
    return run


def _logical_lines(text: str) -> list[str]:
    """Lines, with a parenthesised block that spans lines joined into one: its lines are
    commands in sequence, as cmd runs them (``a (`` + ``b`` + ``)`` is ``a (b)``,
    ``a (`` + ``b`` + ``c`` + ``)`` is ``a (b & c)``)."""
    out: list[str] = []
    block: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        block.append(line)
        if _depth(" ".join(block)) > 0:
            continue
        if len(block) == 1:
            out.append(block[0])
        else:
            out.append(block[0] + " & ".join(block[1:-1]) + block[-1])
        block = []
    if block:
        out.append(" & ".join(block))
    return out


def _depth(text: str) -> int:
    depth, quoted = 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            depth += {"(": 1, ")": -1}.get(ch, 0)
    return depth


class BatchShell(Shell):
    def __init__(
        self, host: SimHost, run: BatchRun, script: str, args: tuple[str, ...], text: str
    ) -> None:
        super().__init__(host)
        self.run_state = run
        self.script = script
        self.text = text
        self.args = args
        self.to_file = False

    def line(self, line: str) -> None:
        expanded = self.expand_batch(line).lstrip("@ ")
        lowered = expanded.lower()
        if lowered in ("echo off", "setlocal", "endlocal") or lowered.startswith("rem"):
            return
        result = Result(code=self.run_state.code)  # ERRORLEVEL lasts from line to line
        try:
            self.chain(expanded, result)
        finally:  # exit /b ends the script, not what the line printed before it
            self.run_state.console += result.stdout + result.stderr
            self.run_state.code = result.code

    def expand_batch(self, line: str) -> str:
        folder = self.script.rsplit("\\", 1)[0] + "\\"

        def sub(m: re.Match[str]) -> str:
            token = m.group(0)
            if token == "%%":
                return "%"
            if token == "%~dp0":
                return folder
            if token in ("%~f0", "%0"):
                return self.script if token == "%~f0" else f'"{self.script}"'
            if token == "%*":
                return " ".join(self.args)
            if m.group("arg"):
                index = int(m.group("arg"))
                value = self.args[index - 1] if 0 < index <= len(self.args) else ""
                return value.strip('"') if token.startswith("%~") else value
            found = self.env.get(m.group("var").upper())
            return found[1] if found else ""  # a batch file expands an unknown variable to ""

        pattern = r"%%|%~dp0|%~f0|%~?(?P<arg>[0-9])|%\*|%(?P<var>[A-Za-z0-9_()]+)%"
        return re.sub(pattern, sub, line)

    def handlers(self) -> dict[str, Callable[[str, Result], None]]:
        found = super().handlers()
        found.update(set=self.set_command, mkdir=self.mkdir, md=self.mkdir, copy=self.copy)
        found["exit"] = self.exit
        if self.host.extra.get("no_tools"):  # Windows 2000 as shipped: cmd, no wmic/reg/sc
            for tool in ("wmic", "reg", "sc"):
                del found[tool]
        return found

    def execute(self, command: str, result: Result) -> None:
        command = command.strip().lstrip("@ ")
        native = _NATIVE_CMD.match(command)
        if native is not None:
            return self.run_native(native.group("line"), result)
        target = _FILE_REDIRECT.match(command)
        if target is not None and _closing_at_end(target.group("command")):
            return self.to_file_redirect(target, result)
        super().execute(command, result)

    def to_file_redirect(self, target: re.Match[str], result: Result) -> None:
        out = Result()
        was, self.to_file = self.to_file, True
        try:
            super().execute(target.group("command"), out)
        finally:
            self.to_file = was
        data = bytes(out.stdout) + (bytes(out.stderr) if target.group("err") else b"")
        if not target.group("err"):
            result.stderr += out.stderr
        path = target.group("path")
        old = self.run_state.written(path) if target.group("op") == ">>" else None
        self.run_state.files = {
            k: v for k, v in self.run_state.files.items() if k.lower() != path.lower()
        }
        self.run_state.files[path] = (old or b"") + data
        result.code = out.code

    def run_native(self, line: str, result: Result) -> None:
        """``Sysnative\\cmd.exe /c ""script" args"``: the script again, as a 64-bit process."""
        m = re.match(r'"(?P<script>[^"]+)"\s*(?P<args>.*)$', line)
        if m is None or not self.exists(m.group("script")):
            result.stderr += b"The system cannot find the path specified.\r\n"
            result.code = 1
            return
        text = self.text if m.group("script").lower() == self.script.lower() else ""
        native = replace(self.host, shell_32bit=False)
        env = {name: value for name, value in self.env.values()}
        env.pop("PROCESSOR_ARCHITEW6432", None)
        env["PROCESSOR_ARCHITECTURE"] = native.env.get("PROCESSOR_ARCHITECTURE", "AMD64")
        args = tuple(a for a in re.findall(r'"[^"]*"|\S+', m.group("args")))
        before = len(self.run_state.console)
        run_batch(native, text, m.group("script"), args, run=self.run_state, env=env)
        result.stdout += self.run_state.console[before:]
        del self.run_state.console[before:]
        result.code = self.run_state.code

    def exists(self, path: str) -> bool:
        lowered = path.lower().rstrip("\\")
        root = self.env["SYSTEMROOT"][1].lower()
        if lowered == self.script.lower():
            return True
        if lowered == root + "\\sysnative\\cmd.exe":
            return self.host.shell_32bit and self.host.sysnative
        tools = ("cmd.exe", "wbem\\wmic.exe", "reg.exe", "sc.exe")
        if lowered in {f"{root}\\system32\\{tool}" for tool in tools}:
            return lowered.endswith("\\cmd.exe") or not self.host.extra.get("no_tools")
        if lowered in self.run_state.dirs or self.run_state.written(path) is not None:
            return True
        return super().exists(path)

    def set_command(self, rest: str, out: Result) -> None:
        text = rest.strip()
        if text.startswith('"') and text.endswith('"'):
            text = text[1:-1]
        name, sep, value = text.rstrip().partition("=")
        if sep and name:
            self.env[name.upper()] = (name, value)

    def mkdir(self, rest: str, out: Result) -> None:
        self.run_state.dirs.add(rest.strip().strip('"').lower().rstrip("\\"))

    def copy(self, rest: str, out: Result) -> None:
        paths = [p.strip('"') for p in re.findall(r'"[^"]*"|\S+', rest) if not p.startswith("/")]
        data = self.read_file(paths[0]) if len(paths) == 2 else None
        if data is None or self.host.extra.get("deny_read"):
            out.stderr += b"The system cannot find the file specified.\r\n"
            out.code = 1
            return
        self.run_state.files[paths[1]] = data
        out.stdout += b"        1 file(s) copied.\r\n"

    def exit(self, rest: str, out: Result) -> None:
        words = rest.split()
        code = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
        out.code = code
        raise _ExitBatch(code)

    def wmic(self, rest: str, out: Result) -> None:
        """Redirected to a file, wmic writes UTF-16 (little-endian, with its mark) and
        plain CR LF line ends."""
        if not self.to_file:
            return super().wmic(rest, out)
        mine = Result()
        super().wmic(rest, mine)
        for stream in ("stdout", "stderr"):
            data = bytes(getattr(mine, stream)).replace(b"\r\r\n", b"\r\n")
            if data:
                getattr(out, stream).extend(
                    b"\xff\xfe" + data.decode(self.codec).encode("utf-16-le")
                )
        out.code = mine.code

    def instances(self, cls: str) -> list[dict[str, object]]:
        found = super().instances(cls)
        if cls == "Win32_OperatingSystem":
            now = datetime.now(UTC).strftime("%Y%m%d%H%M%S.000000+000")
            found = [{"LocalDateTime": now, **i} for i in found]
        return found


def _closing_at_end(command: str) -> bool:
    """The redirect follows a whole block (``(...) >>file``) or a plain command."""
    command = command.strip()
    if not command.startswith("("):
        return True
    return _closing(command) == len(command) - 1
