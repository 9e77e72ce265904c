"""cmd.exe as Windows Server 2003 runs a command line: the subset a read-only probe of a
server uses, printing exactly what Windows prints (CR LF, wmic's CR CR LF, reg.exe 3.0).

Supported: ``&`` chains, ``%VAR%`` expansion (an undefined variable stays as typed, as at
a cmd prompt), ``@``, parentheses, ``for /f "tokens=... delims=..." %x in ("text") do``,
``if [not] defined VAR (...) else (...)``, ``<NUL``, ``2>&1``, ``2>NUL``, and the commands
echo, hostname, wmic (os, cpu, datafile, qfe, process; ``where`` and ``get``), reg query,
sc query and type. Anything else answers as cmd does for an unknown command.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kbscan.model import SERVICE_STATES
from kbscan.simulator.languages import ENGLISH, LANGUAGES
from kbscan.simulator.profile import SimHost

CRLF = b"\r\n"
WMIC_EOL = b"\r\r\n"
_WMI_ALIASES = {
    "os": "Win32_OperatingSystem",
    "cpu": "Win32_Processor",
    "datafile": "CIM_DataFile",
    "qfe": "Win32_QuickFixEngineering",
    "process": "Win32_Process",
}
SC_STATES = {name: number for number, name in enumerate(SERVICE_STATES, start=1)}


@dataclass
class Result:
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    code: int = 0


_CHAIN_SPECIALS = re.compile(r'["()&]')


class Shell:
    def __init__(self, host: SimHost) -> None:
        self.host = host
        env = {
            "SystemRoot": "C:\\WINDOWS",
            "windir": "C:\\WINDOWS",
            "SystemDrive": "C:",
            "COMPUTERNAME": host.computer_name,
            "PROCESSOR_ARCHITECTURE": "x86",
        }
        env.update(host.env)
        if host.shell_32bit:
            env["PROCESSOR_ARCHITEW6432"] = env.get("PROCESSOR_ARCHITECTURE", "AMD64")
            env["PROCESSOR_ARCHITECTURE"] = "x86"
        self.env = {k.upper(): (k, v) for k, v in env.items()}
        self.lang = LANGUAGES.get(host.language, ENGLISH)
        self.wmic_ran = False
        self.codec = f"cp{self.lang.code_page}"

    # --- parsing -------------------------------------------------------------------

    def run(self, line: str) -> Result:
        result = Result()
        self.chain(self.expand(line), result)
        return result

    def expand(self, line: str) -> str:
        def sub(m: re.Match[str]) -> str:
            found = self.env.get(m.group(1).upper())
            return found[1] if found else m.group(0)

        return re.sub(r"%([A-Za-z0-9_()]+)%", sub, line)

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def split_chain(text: str) -> tuple[str, ...]:
        """Split at the ``&`` that are outside quotes and parentheses (not ``>&``),
        visiting only the characters that matter: a probe line is tens of kilobytes, and
        every simulated host is sent the same one (hence the cache)."""
        parts: list[str] = []
        depth, quoted, start = 0, False, 0
        for m in _CHAIN_SPECIALS.finditer(text):
            ch = m.group()
            if ch == '"':
                quoted = not quoted
            elif quoted:
                continue
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif depth == 0 and not (m.start() and text[m.start() - 1] == ">"):
                parts.append(text[start : m.start()])
                start = m.end()
        parts.append(text[start:])
        return tuple(parts)

    def chain(self, text: str, result: Result) -> None:
        parts = self.split_chain(text)
        for index, part in enumerate(parts):
            if part.lstrip("@ ").lower().startswith("for "):
                # cmd makes the rest of the line, '&' chains included, the loop's body.
                self.execute("&".join(parts[index:]).lstrip(), result)
                return
            self.execute(part.lstrip(), result)

    def execute(self, command: str, result: Result) -> None:
        command = command.lstrip("@ ")
        if not command.strip():
            return
        lowered = command.lower()
        if command.startswith("(") and command.rstrip().endswith(")"):
            return self.chain(command.rstrip()[1:-1], result)
        if lowered.startswith("for /f"):
            return self.for_f(command, result)
        if lowered.startswith("if "):
            return self.if_command(command, result)
        command, merge, drop = self.redirects(command)
        quiet = re.search(r"(?i)\s1?>\s*nul\b", command) is not None  # >NUL: stdout dropped
        to_err = re.search(r"\s1>&2\b", command) is not None
        command = re.sub(r"(?i)\s1?>\s*nul\b|\s1>&2\b", "", command)
        out = Result()
        name, _, rest = (
            command.strip().partition(" ")
            if not lowered.startswith("echo")
            else ("echo", "", command[4:])
        )
        handler = self.handlers().get(name.lower())
        if handler is None:
            out.stderr += (
                f"'{name}' is not recognized as an internal or external command,\r\n"
                "operable program or batch file.\r\n"
            ).encode(self.codec, "replace")
            out.code = 9009
        else:
            handler(rest, out)
        stdout = bytes(out.stdout) + (bytes(out.stderr) if merge else b"")
        stderr = b"" if merge or drop else bytes(out.stderr)
        if quiet:
            stdout = b""
        if to_err:
            stdout, stderr = b"", stdout + stderr
        result.stdout += stdout
        result.stderr += stderr
        if handler != self.echo:  # echo leaves ERRORLEVEL as it was
            result.code = out.code

    def handlers(self) -> dict[str, Callable[[str, Result], None]]:
        return {
            "chcp": self.chcp,
            "echo": self.echo,
            "hostname": self.hostname,
            "wmic": self.wmic,
            "reg": self.reg,
            "sc": self.sc,
            "type": self.type,
        }

    @staticmethod
    def redirects(command: str) -> tuple[str, bool, bool]:
        merge = bool(re.search(r"\s2>&1\b", command))
        drop = bool(re.search(r"\s2>\s*nul\b", command, re.I))
        command = re.sub(r"\s2>&1\b|\s2>\s*nul\b|\s?<\s*nul\b", "", command, flags=re.I)
        return command, merge, drop

    def for_f(self, command: str, result: Result) -> None:
        m = re.match(
            r'for /f "(?P<opts>[^"]*)" %(?P<var>[a-zA-Z]) in \("(?P<text>[^"]*)"\) '
            r"do (?P<body>.*)$",
            command,
            re.I | re.S,
        )
        if m is None:
            result.stderr += b"The syntax of the command is incorrect.\r\n"
            result.code = 1
            return
        opts = m.group("opts")
        delims_m = re.search(r"delims=(.*)$", opts)
        delims = delims_m.group(1) if delims_m else " \t"
        tokens_m = re.search(r"tokens=([0-9,*]+)", opts)
        spec = (tokens_m.group(1) if tokens_m else "1").split(",")
        pieces = [
            p
            for p in re.split(
                "|".join(map(re.escape, delims)) if delims else r"\s+", m.group("text")
            )
            if p
        ]
        values: list[str] = []
        for s in spec:
            if s == "*":
                taken = len(values)
                rest_text = m.group("text")
                for _ in range(taken):  # the remainder after the tokens already taken
                    rest_text = re.split("|".join(map(re.escape, delims)), rest_text, maxsplit=1)[
                        -1
                    ]
                values.append(rest_text)
            else:
                index = int(s) - 1
                values.append(pieces[index] if index < len(pieces) else "")
        body = m.group("body")
        first = ord(m.group("var"))
        for offset, value in enumerate(values):
            body = body.replace(f"%{chr(first + offset)}", value)
        self.chain(body, result)

    def if_command(self, command: str, result: Result) -> None:
        """``if [not] CONDITION COMMAND`` or ``(...) [else (...)]``; the conditions are
        ``defined VAR``, ``errorlevel N`` (true when the last command's code is N or more,
        decided when the ``if`` runs, unlike %ERRORLEVEL%, expanded with the line),
        ``exist PATH`` and ``"a"=="b"``."""
        rest = command[3:].lstrip()
        negate = rest[:4].lower() == "not "
        rest = rest[4:].lstrip() if negate else rest
        m = re.match(r'(?i)(defined|errorlevel|exist)\s+("[^"]*"|\S+)\s+', rest)
        compare = re.match(r'("[^"]*"|[^\s=]*)==("[^"]*"|\S*)\s+', rest)
        if m is not None:
            kind, operand = m.group(1).lower(), m.group(2)
            if kind == "errorlevel" and operand.isdigit():
                holds = result.code >= int(operand)
            elif kind == "defined":
                holds = operand.upper() in self.env
            elif kind == "exist":
                holds = self.exists(operand.strip('"'))
            else:
                holds = False
            rest = rest[m.end() :]
        elif compare is not None:
            holds = compare.group(1) == compare.group(2)
            rest = rest[compare.end() :]
        else:
            result.stderr += b"The syntax of the command is incorrect.\r\n"
            result.code = 1
            return
        then, otherwise = _if_bodies(rest)
        if holds != negate:
            self.chain(then, result)
        elif otherwise is not None:
            self.chain(otherwise, result)

    def exists(self, path: str) -> bool:
        return self.read_file(path) is not None

    # --- commands ------------------------------------------------------------------

    def echo(self, rest: str, out: Result) -> None:
        text = rest[1:] if rest[:1] in (" ", ".") else rest
        if not rest.strip():
            text = "ECHO is on."
        out.stdout += text.encode(self.codec, "replace") + CRLF

    def chcp(self, rest: str, out: Result) -> None:
        out.stdout += self.lang.encode(self.lang.chcp.format(cp=self.lang.code_page)) + CRLF

    def hostname(self, rest: str, out: Result) -> None:
        out.stdout += self.host.computer_name.encode(self.codec, "replace") + CRLF

    def type(self, rest: str, out: Result) -> None:
        path = rest.strip().strip('"')
        if self.host.extra.get("deny_read"):
            out.stderr += b"Access is denied.\r\n"
            out.code = 1
            return
        data = self.read_file(path)
        if data is None:
            out.stderr += b"The system cannot find the file specified.\r\n"
            out.code = 1
            return
        out.stdout += data

    def read_file(self, path: str) -> bytes | None:
        """A file as this process sees it: a 32-bit shell on x64 is redirected."""
        lowered = path.lower()
        root = self.env["SYSTEMROOT"][1].lower()
        if self.host.shell_32bit:
            if lowered.startswith(root + "\\sysnative\\"):
                if not self.host.sysnative:
                    return None
                lowered = root + "\\system32\\" + lowered[len(root + "\\sysnative\\") :]
            elif lowered.startswith(root + "\\system32\\"):
                lowered = root + "\\syswow64\\" + lowered[len(root + "\\system32\\") :]
        elif lowered.startswith(root + "\\sysnative\\"):
            return None  # a 64-bit process has no Sysnative alias
        found = self.host.files.get(lowered)
        return found.content if found else None

    def sc(self, rest: str, out: Result) -> None:
        args = rest.split()
        if len(args) != 2 or args[0].lower() != "query":
            out.stdout += (
                b"DESCRIPTION:\r\n        SC is a command line program used for "
                b"communicating with the\r\n"
            )
            out.code = 1
            return
        name = args[1]
        state = self.host.services.get(name.upper())
        if name.upper() in {s.upper() for s in self.host.extra.get("sc_denied", [])}:
            out.stdout += self.lang.encode(self.lang.sc_denied + "\r\n\r\n")
            out.code = 5
            return
        if state is None:
            out.stdout += self.lang.encode(self.lang.sc_missing + "\r\n\r\n")
            out.code = 1060
            return
        code = SC_STATES.get(state, 1)
        flags = (
            "(STOPPABLE, PAUSABLE, ACCEPTS_SHUTDOWN)"
            if state == "RUNNING"
            else ("(NOT_STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)")
        )
        text = (
            f"\r\nSERVICE_NAME: {name}\r\n"
            f"        TYPE               : 20  WIN32_SHARE_PROCESS \r\n"
            f"        {self.lang.state_label:<19}: {code}  {state} \r\n"
            f"                                {flags}\r\n"
            f"        WIN32_EXIT_CODE    : 0  (0x0)\r\n"
            f"        SERVICE_EXIT_CODE  : 0  (0x0)\r\n"
            f"        CHECKPOINT         : 0x0\r\n"
            f"        WAIT_HINT          : 0x0\r\n\r\n"
        )
        out.stdout += text.encode(self.codec, "replace")

    def reg(self, rest: str, out: Result) -> None:
        m = re.match(
            r'query\s+"?(?P<key>[^"]+?)"?(?:\s+/v\s+(?P<value>\S+)|\s+(?P<sub>/s))?\s*$',
            rest.strip(),
            re.I,
        )
        if m is None:
            out.stderr += b'\r\nError:  Invalid syntax.\r\nType "REG QUERY /?" for usage.\r\n'
            out.code = 1
            return
        key = m.group("key").upper()
        for short, full in (("HKLM\\", "HKEY_LOCAL_MACHINE\\"), ("HKCU\\", "HKEY_CURRENT_USER\\")):
            if key.startswith(short):
                key = full + key[len(short) :]
        key = key.rstrip("\\")
        if m.group("sub"):
            self.reg_tree(key, out)
            return
        values = self.host.registry.get(key)
        wanted = m.group("value")
        if values is None or (wanted is not None and wanted not in values):
            out.stderr += self.reg_missing()
            out.code = 1
            return
        shown = values if wanted is None else {wanted: values[wanted]}
        display_key = m.group("key").replace("HKLM\\", "HKEY_LOCAL_MACHINE\\")
        out.stdout += (self.reg_header() + self.reg_key(display_key, shown)).encode(
            self.codec, "replace"
        )

    def reg_missing(self) -> bytes:
        if self.lang is ENGLISH:  # reg.exe 3.0's own spelling, as before
            text = (
                "\r\nError:  The system was unable to find the specified registry key or value\r\n"
            )
            return text.encode("ascii")
        return self.lang.encode("\r\n" + self.lang.reg_missing + "\r\n")

    def reg_header(self) -> str:
        """reg.exe 3.0 (2000, XP, 2003) names its version; later reg.exe prints none."""
        return "" if self.modern_reg() else "\r\n! REG.EXE VERSION 3.0\r\n"

    def modern_reg(self) -> bool:
        os_ = (self.host.wmi.get("Win32_OperatingSystem") or [{}])[0]
        major = str(os_.get("Version", "5")).split(".")[0]
        return major.isdigit() and int(major) >= 6

    def reg_key(self, key: str, values: dict[str, tuple[str, str]]) -> str:
        sep = "    " if self.modern_reg() else "\t"
        text = f"\r\n{key}\r\n"
        for name, (kind, data) in values.items():
            text += f"    {name}{sep}{kind}{sep}{data}\r\n"
        return text + "\r\n"

    def reg_tree(self, key: str, out: Result) -> None:
        """``reg query KEY /s``: the key and every key below it, each with its values."""
        below = sorted(k for k in self.host.registry if k == key or k.startswith(key + "\\"))
        if not below:
            out.stderr += self.reg_missing()
            out.code = 1
            return
        text = self.reg_header()
        for k in below:
            text += self.reg_key(k, self.host.registry[k])
        out.stdout += text.encode(self.codec, "replace")

    def wmic(self, rest: str, out: Result) -> None:
        m = re.match(
            r'(?P<alias>\w+)(?:\s+where\s+(?:"(?P<q>[^"]*)"|(?P<u>\S+)))?\s+get\s+(?P<props>[\w,]+)'
            r"(?:\s+/format:(?P<fmt>\w+))?\s*$",
            rest.strip(),
            re.I,
        )
        node = f"Node - {self.host.computer_name}\r\r\n".encode(self.codec, "replace")
        if m is None or m.group("alias").lower() not in _WMI_ALIASES:
            out.stderr += node + b"ERROR:\r\r\nDescription = Invalid GET Expression.\r\r\n\r\r\n"
            out.code = 44135
            return
        alias = m.group("alias").lower()
        if self.host.extra.get("wmic_first_run") and not self.wmic_ran:
            out.stdout += self.lang.encode(self.lang.wmic_installing) + CRLF  # its first run
        self.wmic_ran = True
        if alias in self.host.extra.get("wmic_fail", []):  # a host whose WMI class fails
            out.stderr += node + self.lang.encode(self.lang.wmic_invalid) + b"\r\r\n\r\r\n"
            out.code = 44135
            return
        instances = self.instances(_WMI_ALIASES[alias])
        condition = m.group("q") or m.group("u")
        if condition:
            try:
                instances = [i for i in instances if _matches(i, condition)]
            except ValueError:
                out.stderr += node + self.lang.encode(self.lang.wmic_invalid) + b"\r\r\n\r\r\n"
                out.code = 44135
                return
        if not instances:
            out.stderr += self.lang.encode(self.lang.no_instances) + WMIC_EOL
            return
        props = sorted(m.group("props").split(","), key=str.lower)
        body = WMIC_EOL + WMIC_EOL
        for instance in instances:
            for prop in props:
                value = _lookup(instance, prop)
                body += (
                    f"{prop}={'' if value is None else value}".encode(self.codec, "replace")
                    + WMIC_EOL
                )
            body += WMIC_EOL + WMIC_EOL
        out.stdout += body

    def instances(self, cls: str) -> list[dict[str, object]]:
        if cls == "CIM_DataFile":
            return [
                {
                    "Name": path,
                    "FileSize": len(f.content),
                    "LastModified": f.last_modified,
                    "Version": f.version or "",
                }
                for path, f in self.host.files.items()
            ]
        return list(self.host.wmi.get(cls, []))


def _if_bodies(rest: str) -> tuple[str, str | None]:
    """An ``if``'s command and its ``else``: parenthesised blocks (matched with quotes
    respected), or the rest of the line as one command."""
    rest = rest.strip()
    if not rest.startswith("("):
        return rest, None
    end = _closing(rest)
    then, after = rest[1:end], rest[end + 1 :].strip()
    if after[:5].lower() == "else ":
        otherwise = after[5:].strip()
        if otherwise.startswith("(") and _closing(otherwise) == len(otherwise) - 1:
            otherwise = otherwise[1:-1]
        return then, otherwise
    return then, None


def _closing(text: str) -> int:
    depth, quoted = 0, False
    for index, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(text) - 1


def _lookup(instance: dict[str, object], prop: str) -> object:
    for key, value in instance.items():
        if key.lower() == prop.lower():
            return value
    return None


def _wql_string(literal: str) -> str:
    """A WQL string literal's value: ``\\\\`` is a backslash; any other escape is invalid."""
    out, i = [], 0
    while i < len(literal):
        ch = literal[i]
        if ch == "\\":
            if i + 1 >= len(literal) or literal[i + 1] not in "\\'\"":
                raise ValueError("invalid escape")
            out.append(literal[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _matches(instance: dict[str, object], condition: str) -> bool:
    for clause in re.split(r"\s+and\s+", condition.strip(), flags=re.I):
        m = re.fullmatch(r"\s*(\w+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*", clause)
        if m is None:
            raise ValueError("unsupported query")
        value = _lookup(instance, m.group(1))
        if value is None or str(value).lower() != _wql_string(m.group(2)).lower():
            return False
    return True
