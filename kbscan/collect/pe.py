"""Read a PE file's version and machine type, and nothing more.

A full ``pefile.PE(path)`` parse walks imports, relocations and every resource, which
costs time on a 1.5 MB aqueue.dll and gives a corrupt file many places to hang. We ask
pefile only for the headers (``fast_load``) and walk the resource tree ourselves to the
single RT_VERSION leaf, with every offset bounds-checked and every loop bounded, so a
hostile file ends as :class:`PeError`, never as a crash or a hang.

The same walk reads a file that is not here (``read_pe_ranges``): over SMB only the
headers, the section table, the resource directories on the way and the version leaf
are fetched, a few kilobytes of a 1.5 MB DLL, never a copy of the whole file.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol

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
_HEADER_BYTES = 1024  # SizeOfHeaders of Microsoft's linkers: the headers, the section table
_MAX_HEADER_BYTES = 64 * 1024
_DIRECTORY_PREFETCH = 4096  # resource directories sit together at the start of .rsrc

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
    pe = _headers(data, name)
    info = _binary_info(pe, _RvaReader(pe), name, len(data))
    return replace(info, sha256=hashlib.sha256(data).hexdigest())


class RangeRead(Protocol):
    def __call__(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of the file from ``offset`` (fewer only at its end)."""


def read_pe_ranges(read: RangeRead, size: int, name: str) -> BinaryInfo:
    """The version and machine of a file read piecewise by ``read``: the headers and
    section table, the resource directories on the way, and the RT_VERSION leaf.

    ``BinaryInfo.bytes_read`` says how much that was; no digest of the whole file can be
    given, so ``sha256`` is None.
    """
    if size <= 0:
        raise PeError("the file is empty", path=name)
    ranged = _RangedFile(read, size)
    headers = ranged.read(0, min(size, _HEADER_BYTES))
    for _ in range(2):  # an unusual e_lfanew: the file header, then the section table
        needed = _header_span(headers)
        if needed is None or not len(headers) < needed <= min(size, _MAX_HEADER_BYTES):
            break
        headers += ranged.read(len(headers), needed - len(headers))
    pe = _headers(headers, name)
    info = _binary_info(pe, _RangedRvaReader(pe, ranged), name, size)
    return replace(info, bytes_read=ranged.bytes_read)


def _header_span(headers: bytes) -> int | None:
    """Where the section table ends, from the DOS and file headers, if they are there."""
    if len(headers) < 0x40 or headers[:2] != b"MZ":
        return None
    e_lfanew = int(struct.unpack_from("<I", headers, 0x3C)[0])
    if e_lfanew + 24 > len(headers):
        return e_lfanew + 24  # the file header lies beyond: read it, then look again
    sections, optional = struct.unpack_from("<H12xH", headers, e_lfanew + 6)
    return e_lfanew + 24 + int(optional) + 40 * int(sections)


def _headers(data: bytes, name: str) -> pefile.PE:
    try:
        return pefile.PE(data=data, fast_load=True)
    except pefile.PEFormatError as exc:
        raise PeError(f"not a PE file: {exc.value}", path=name) from None
    except Exception as exc:  # pefile raises assorted errors on corrupt headers
        raise PeError(f"not a PE file: {type(exc).__name__}", path=name) from None
    # No pe.close(): the image is our own bytes, not an mmap, and close() would only run
    # a full gc.collect(), which cost more than the whole read.


def _binary_info(pe: pefile.PE, reader: _Reader, name: str, size: int) -> BinaryInfo:
    try:
        machine_code = int(pe.FILE_HEADER.Machine)
        fixed, version_string = _version_resource(pe, reader)
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
        size=size,
        sha256=None,
    )


def _version_resource(
    pe: pefile.PE, reader: _Reader
) -> tuple[tuple[int, int, int, int] | None, str | None]:
    """Return (FileVersionMS, LS, ProductVersionMS, LS) and the FileVersion string."""
    directories = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    if len(directories) <= _RESOURCE_DIR_INDEX:
        return None, None
    root = int(directories[_RESOURCE_DIR_INDEX].VirtualAddress)
    if root == 0:
        return None, None
    leaf = _find_version_leaf(reader, root)
    if leaf is None:
        return None, None
    data_rva, data_size = struct.unpack("<II", reader.read(leaf, 8))
    blob = reader.read(data_rva, min(data_size, _MAX_VERSION_BYTES), partial=True)
    return _parse_vs_versioninfo(blob)


class _Reader(Protocol):
    def read(self, rva: int, length: int, *, partial: bool = False) -> bytes: ...


class _RvaReader:
    """An image held whole in memory, read through pefile's own RVA mapping."""

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


class _RangedFile:
    """A file read piecewise, remembering what it has read and how many bytes that was."""

    def __init__(self, read: RangeRead, size: int) -> None:
        self._read = read
        self.size = size
        self.bytes_read = 0
        self._chunks: list[tuple[int, bytes]] = []

    def read(self, offset: int, length: int, *, prefetch: int = 0) -> bytes:
        """``length`` bytes at ``offset`` (fewer at the end of the file); with
        ``prefetch``, read that much at once and serve later reads inside it from memory."""
        length = max(0, min(length, self.size - offset))
        for start, chunk in self._chunks:
            if start <= offset and offset + length <= start + len(chunk):
                return chunk[offset - start : offset - start + length]
        want = min(max(length, prefetch), self.size - offset)
        data = bytes(self._read(offset, want)) if want > 0 else b""
        self.bytes_read += len(data)
        if len(data) > want:
            raise PeError(f"the host sent {len(data)} bytes for a read of {want}")
        self._chunks.append((offset, data))
        return data[:length]


class _RangedRvaReader:
    """An image not held here: pefile maps RVAs to offsets from the section table, and
    only the bytes asked for are fetched (directories with a prefetch, the leaf exactly)."""

    def __init__(self, pe: pefile.PE, ranged: _RangedFile) -> None:
        self._pe = pe
        self._file = ranged

    def read(self, rva: int, length: int, *, partial: bool = False) -> bytes:
        try:
            offset = int(self._pe.get_offset_from_rva(rva))
        except pefile.PEFormatError:
            raise PeError(f"resource data at RVA {rva:#x} lies outside the file") from None
        if offset < 0 or offset >= self._file.size:
            raise PeError(f"resource data at RVA {rva:#x} lies outside the file")
        data = self._file.read(offset, length, prefetch=0 if partial else _DIRECTORY_PREFETCH)
        if len(data) < length and not partial:
            raise PeError(f"resource data at RVA {rva:#x} is truncated")
        return data


def _find_version_leaf(reader: _Reader, root: int) -> int | None:
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


def _directory_entries(reader: _Reader, rva: int) -> Iterator[tuple[int | None, int]]:
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
