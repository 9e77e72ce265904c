"""Facts collected earlier: a facts.jsonl journal, or a folder of per-host evidence.

A folder holds ``<host>/facts.json`` and the files copied off the host (aqueue.dll);
those copies are read with pefile here, so the binary version and machine type are
evidence even when the collection happened on another machine.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from kbscan.collect.interface import FactsBatch, FactsError, FactsSource
from kbscan.collect.pe import PeError, read_pe_file
from kbscan.errors import InputError
from kbscan.facts_codec import facts_from_json
from kbscan.jsonfields import FieldError
from kbscan.model import CollectionFailure, FailureCategory, FileFacts, HostFacts

MAX_LINE_BYTES = 4 * 1024 * 1024
MAX_FACTS_FILE_BYTES = 4 * 1024 * 1024


class JsonlFactsSource(FactsSource):
    """facts.jsonl: one host per line; for a host seen twice, the last line wins."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> FactsBatch:
        problems: list[InputError] = []
        by_host: dict[str, HostFacts] = {}
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise FactsError(f"cannot read: {exc.strerror or exc}", path=str(self.path)) from None
        with handle:
            for number, raw in enumerate(_lines(handle), start=1):
                if not raw.strip():
                    continue
                facts = _parse_line(raw, str(self.path), number, problems)
                if facts is not None:
                    by_host[facts.host.lower()] = facts
        if not by_host and not problems:
            problems.append(InputError("holds no host facts", path=str(self.path)))
        return FactsBatch(tuple(by_host.values()), tuple(problems))


class FolderFactsSource(FactsSource):
    """``<folder>/<host>/facts.json`` plus collected binaries beside it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def read(self) -> FactsBatch:
        problems: list[InputError] = []
        found: list[HostFacts] = []
        try:
            host_dirs = sorted(p for p in self.folder.iterdir() if p.is_dir())
        except OSError as exc:
            raise FactsError(f"cannot list: {exc.strerror or exc}", path=str(self.folder)) from None
        for host_dir in host_dirs:
            facts_file = host_dir / "facts.json"
            if not facts_file.is_file():
                problems.append(InputError("no facts.json in this host folder", path=str(host_dir)))
                found.append(_unparseable(host_dir.name, "no facts.json in the host folder"))
                continue
            facts = self._read_host(facts_file, problems)
            if facts is not None:
                found.append(facts)
        if not found and not problems:
            problems.append(InputError("holds no host folders", path=str(self.folder)))
        return FactsBatch(tuple(found), tuple(problems))

    def _read_host(self, facts_file: Path, problems: list[InputError]) -> HostFacts | None:
        try:
            raw = facts_file.read_bytes()[: MAX_FACTS_FILE_BYTES + 1]
        except OSError as exc:
            problems.append(InputError(f"cannot read: {exc.strerror}", path=str(facts_file)))
            return _unparseable(facts_file.parent.name, "facts.json unreadable")
        if len(raw) > MAX_FACTS_FILE_BYTES:
            problems.append(InputError("larger than 4 MiB; refused", path=str(facts_file)))
            return _unparseable(facts_file.parent.name, "facts.json too large")
        parsed = _parse_document(
            raw, str(facts_file), problems, fallback_host=facts_file.parent.name
        )
        if parsed is None:
            return None
        facts, collected = parsed
        files = []
        for file_facts in facts.files:
            name = collected.get(file_facts.path)
            if name is None:
                files.append(file_facts)
                continue
            copy = facts_file.parent / name
            if copy.parent != facts_file.parent:
                problems.append(InputError(f"collected file {name!r} is outside the host folder",
                                           path=str(facts_file)))  # fmt: skip
                files.append(file_facts)
                continue
            files.append(with_copy(file_facts, copy, problems))
        return replace(facts, files=tuple(files))


def with_copy(
    found: FileFacts, copy: Path, problems: list[InputError], source: str | None = None
) -> FileFacts:
    """A file's facts with its collected copy read by pefile: the binary's own version is
    the strongest evidence; an unreadable copy is an error naming it, said on the file.
    ``source``: how the reports name where the binary came from (the copy's path)."""
    try:
        binary = read_pe_file(copy)
    except PeError as exc:
        problems.append(InputError(f"unreadable PE file: {exc.message}", path=str(copy)))
        return replace(found, binary_error=exc.message, binary_source=str(copy))
    return replace(found, binary=binary, binary_source=source or str(copy))


def open_facts(path: Path) -> FactsSource:
    """A folder is per-host evidence; a file is a facts.jsonl journal."""
    if path.is_dir():
        return FolderFactsSource(path)
    if not path.exists():
        raise FactsError("no such file or folder", path=str(path))
    return JsonlFactsSource(path)


def _lines(handle: Any) -> Any:
    """Lines of at most MAX_LINE_BYTES; a longer one is cut, and then fails to parse."""
    while True:
        line: bytes = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip the rest of the overlong line
                rest: bytes = handle.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield b"\x00overlong"
            continue
        yield line


def _parse_line(raw: bytes, path: str, number: int, problems: list[InputError]) -> HostFacts | None:
    if raw.startswith(b"\x00overlong"):
        problems.append(
            InputError(f"line longer than {MAX_LINE_BYTES} bytes", path=path, line=number)
        )
        return None
    parsed = _parse_document(raw, path, problems, line=number)
    return parsed[0] if parsed else None


def _parse_document(
    raw: bytes,
    path: str,
    problems: list[InputError],
    *,
    line: int | None = None,
    fallback_host: str | None = None,
) -> tuple[HostFacts, dict[str, str]] | None:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        problems.append(InputError(f"not UTF-8 (byte {exc.start})", path=path, line=line))
        return _as_unparseable(fallback_host, "facts are not UTF-8")
    except json.JSONDecodeError as exc:
        problems.append(InputError(f"invalid JSON: {exc.msg}", path=path, line=line))
        return _as_unparseable(fallback_host, f"invalid JSON: {exc.msg}")
    try:
        return facts_from_json(data)
    except FieldError as exc:
        problems.append(InputError(exc.message, path=path, line=line))
        host = data.get("host") if isinstance(data, dict) else None
        if not isinstance(host, str) or not host.strip() or len(host) > 255:
            host = fallback_host
        return _as_unparseable(host, exc.message)


def _as_unparseable(host: str | None, message: str) -> tuple[HostFacts, dict[str, str]] | None:
    if host is None:
        return None
    return _unparseable(host, message), {}


def _unparseable(host: str, message: str) -> HostFacts:
    return HostFacts(
        host=host,
        failure=CollectionFailure(FailureCategory.UNPARSEABLE_FACTS, message),
    )
