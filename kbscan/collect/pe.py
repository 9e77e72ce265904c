"""Read a PE file's version and machine type, and nothing more.

A full ``pefile.PE(path)`` parse walks imports, relocations and every resource, which
costs time on a 1.5 MB aqueue.dll and gives a corrupt file many places to hang. We ask
pefile only for the headers (``fast_load``) and walk the resource tree ourselves to the
single RT_VERSION leaf, with every offset bounds-checked and every loop bounded, so a
hostile file ends as :class:`PeError`, never as a crash or a hang.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from pathlib import Path

import pefile

from kbscan.errors import KbscanError
from kbscan.model import BinaryInfo
from kbscan.versions import FileVersion, VersionError, VersionText, parse_version_text

MAX_PE_BYTES = 64 * 1024 * 1024  # aqueue.dll is 0.5-1.5 MB; nothing sane is near this
_MAX_VERSION_BYTES = 64 * 1024
_MAX_DIR_ENTRIES = 4096
_RT_VERSION = 16
_FIXED_SIGNATURE = 0xFEEF04BD
_RESOURCE_DIR_INDEX = 2

MACHINES = {0x14C: "x86", 0x8664: "x64", 0x200: "ia64", 0xAA64: "arm64"}


class PeError(KbscanError):
    """A file that is not a readable PE image, or whose version resource is broken."""


def read_pe_file(path: Path) -> BinaryInfo:
    """Read ``path``; refuses files over MAX_PE_BYTES before reading them."""
    try:
        size = path.stat().st_size
        if size > MAX_PE_BYTES:
            raise PeError(f"{size} bytes is larger than {MAX_PE_BYTES}; refused", path=str(path))
        with path.open("rb") as handle:
            data = handle.read(MAX_PE_BYTES + 1)
    except OSError as exc:
        raise PeError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    return read_pe_bytes(data, str(path))


def read_pe_bytes(data: bytes, name: str) -> BinaryInfo:
    if len(data) > MAX_PE_BYTES:
        raise PeError(f"{len(data)} bytes is larger than {MAX_PE_BYTES}; refused", path=name)
    try:
        pe = pefile.PE(data=data, fast_load=True)
    except pefile.PEFormatError as exc:
        raise PeError(f"not a PE file: {exc.value}", path=name) from None
    except Exception as exc:  # pefile raises assorted errors on corrupt headers
        raise PeError(f"not a PE file: {type(exc).__name__}", path=name) from None
    # No pe.close(): the image is our own bytes, not an mmap, and close() would only run
    # a full gc.collect(), which cost more than the whole read.
    try:
        machine_code = int(pe.FILE_HEADER.Machine)
        fixed, version_string = _version_resource(pe)
    except PeError as exc:
        raise PeError(exc.message, path=name) from None
    except Exception as exc:
        raise PeError(f"corrupt PE structure: {type(exc).__name__}", path=name) from None

    file_version = product_version = None
    if fixed is not None:
        file_version = FileVersion.from_dwords(fixed[0], fixed[1])
        product_version = FileVersion.from_dwords(fixed[2], fixed[3])
    version_text: VersionText | None = None
    if version_string:
        try:
            version_text = parse_version_text(version_string)
        except VersionError:
            version_text = None  # a free-form string; the binary numbers still stand
    return BinaryInfo(
        file_version=file_version,
        product_version=product_version,
        version_text=version_text,
        machine=MACHINES.get(machine_code, "other"),
        machine_code=machine_code,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _version_resource(pe: pefile.PE) -> tuple[tuple[int, int, int, int] | None, str | None]:
    """Return (FileVersionMS, LS, ProductVersionMS, LS) and the FileVersion string."""
    directories = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    if len(directories) <= _RESOURCE_DIR_INDEX:
        return None, None
    root = int(directories[_RESOURCE_DIR_INDEX].VirtualAddress)
    if root == 0:
        return None, None
    reader = _RvaReader(pe)
    leaf = _find_version_leaf(reader, root)
    if leaf is None:
        return None, None
    data_rva, data_size = struct.unpack("<II", reader.read(leaf, 8))
    blob = reader.read(data_rva, min(data_size, _MAX_VERSION_BYTES), partial=True)
    return _parse_vs_versioninfo(blob)


class _RvaReader:
    def __init__(self, pe: pefile.PE) -> None:
        self._pe = pe

    def read(self, rva: int, length: int, *, partial: bool = False) -> bytes:
        try:
            data = bytes(self._pe.get_data(rva, length))
        except pefile.PEFormatError:
            raise PeError(f"resource data at RVA {rva:#x} lies outside the file") from None
        if len(data) < length and not partial:
            raise PeError(f"resource data at RVA {rva:#x} is truncated")
        return data


def _find_version_leaf(reader: _RvaReader, root: int) -> int | None:
    """Walk type -> name -> language to the first RT_VERSION data entry's RVA."""
    directory = root
    visited: set[int] = set()
    for level in range(3):
        if directory in visited:
            raise PeError("resource directory loops back on itself")
        visited.add(directory)
        chosen = None
        for name, offset in _directory_entries(reader, directory):
            if level == 0 and name != _RT_VERSION:
                continue
            chosen = offset
            break
        if chosen is None:
            return None
        is_dir = bool(chosen & 0x80000000)
        target = root + (chosen & 0x7FFFFFFF)
        if level < 2:
            if not is_dir:
                raise PeError("resource tree is malformed: a leaf where a directory belongs")
            directory = target
        else:
            if is_dir:
                raise PeError("resource tree is deeper than type/name/language")
            return target
    return None


def _directory_entries(reader: _RvaReader, rva: int) -> Iterator[tuple[int | None, int]]:
    header = reader.read(rva, 16)
    named, ids = struct.unpack_from("<HH", header, 12)
    count = named + ids
    if count > _MAX_DIR_ENTRIES:
        raise PeError(f"resource directory claims {count} entries")
    raw = reader.read(rva + 16, 8 * count)
    for i in range(count):
        name, offset = struct.unpack_from("<II", raw, 8 * i)
        yield (None if name & 0x80000000 else name), offset


def _parse_vs_versioninfo(
    blob: bytes,
) -> tuple[tuple[int, int, int, int] | None, str | None]:
    blocks = list(_blocks(blob, 0, len(blob), limit=1))
    if not blocks or blocks[0].key != "VS_VERSION_INFO":
        raise PeError("version resource has no VS_VERSION_INFO block")
    top = blocks[0]
    fixed = None
    if top.value_len >= 52:
        sig, _, fms, fls, pms, pls = struct.unpack_from("<6I", blob, top.value_start)
        if sig != _FIXED_SIGNATURE:
            raise PeError("VS_FIXEDFILEINFO signature is wrong")
        fixed = (fms, fls, pms, pls)
    file_version_string = None
    for child in _blocks(blob, top.children_start, top.end):
        if child.key != "StringFileInfo":
            continue
        for table in _blocks(blob, child.children_start, child.end):
            for entry in _blocks(blob, table.children_start, table.end):
                if entry.key == "FileVersion" and entry.value_len:
                    raw = blob[entry.value_start : entry.value_start + entry.value_len]
                    file_version_string = raw.decode("utf-16-le", "replace").split("\0")[0]
                    return fixed, file_version_string.strip()
    return fixed, file_version_string


class _Block:
    __slots__ = ("children_start", "end", "key", "value_len", "value_start")

    def __init__(self, key: str, value_start: int, value_len: int, children_start: int, end: int):
        self.key = key
        self.value_start = value_start
        self.value_len = value_len
        self.children_start = children_start
        self.end = end


def _align4(n: int) -> int:
    return (n + 3) & ~3


def _blocks(blob: bytes, start: int, end: int, limit: int = 1024) -> Iterator[_Block]:
    """The version-info blocks between start and end; each must move strictly forward."""
    end = min(end, len(blob))
    pos = _align4(start)
    count = 0
    while pos + 6 <= end and count < limit:
        length, value_length, value_type = struct.unpack_from("<HHH", blob, pos)
        if length < 6:
            return  # padding or garbage: nothing further can be trusted
        block_end = min(pos + length, end)
        key_end = blob.find(b"\0\0", pos + 6, block_end)
        while key_end != -1 and (key_end - pos) % 2:
            key_end = blob.find(b"\0\0", key_end + 1, block_end)
        if key_end == -1:
            return
        key = blob[pos + 6 : key_end].decode("utf-16-le", "replace")
        value_start = _align4(key_end + 2)
        value_len = value_length * 2 if value_type == 1 else value_length
        value_len = max(0, min(value_len, block_end - value_start))
        children_start = _align4(value_start + value_len)
        yield _Block(key, value_start, value_len, children_start, block_end)
        pos = _align4(pos + length)
        count += 1
