from __future__ import annotations

import contextlib
import importlib.util
import random
import struct
from pathlib import Path

import pefile
import pytest

from kbscan.collect import pe as pe_module
from kbscan.collect.pe import MAX_PE_BYTES, PeError, read_pe_bytes, read_pe_file, read_pe_ranges
from kbscan.versions import FileVersion
from tests.helpers import FULL_SIZE_DLL, PE_DIR, fixture_dll

FIXTURE_FILES = sorted(PE_DIR.glob("*.dll"))


def _windows_binaries_shipped_with_pip() -> list[Path]:
    """Real MSVC-built launchers (x86, x64, arm64) that pip vendors from distlib."""
    spec = importlib.util.find_spec("pip")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations))) / "_vendor" / "distlib"
    return sorted(root.glob("*.exe"))


@pytest.mark.parametrize(
    ("arch", "version", "machine", "code"),
    [
        ("x86", "6.0.3790.2950", "x86", 0x14C),
        ("x86", "6.0.3790.4094", "x86", 0x14C),
        ("x64", "6.0.3790.2950", "x64", 0x8664),
        ("x64", "6.0.3790.4094", "x64", 0x8664),
        ("ia64", "6.0.3790.2950", "ia64", 0x200),
        ("ia64", "6.0.3790.4094", "ia64", 0x200),
    ],
)
def test_reads_the_kb_versions_from_fixture_dlls(
    arch: str, version: str, machine: str, code: int
) -> None:
    info = read_pe_file(fixture_dll(arch, version))
    assert info.file_version == FileVersion.parse(version)
    assert info.product_version == FileVersion.parse(version)
    assert info.machine == machine and info.machine_code == code
    assert info.version_text is not None and info.version_text.version == info.file_version
    assert info.size == fixture_dll(arch, version).stat().st_size


def test_gdr_tag_is_kept() -> None:
    info = read_pe_file(fixture_dll("x86", "6.0.3790.4186"))
    assert info.version_text is not None and info.version_text.branch == "gdr"


def _full_parse(path: Path) -> tuple[FileVersion | None, int]:
    pe = pefile.PE(str(path))  # the full parse kbscan avoids
    try:
        fixed = getattr(pe, "VS_FIXEDFILEINFO", None)
        version = (
            FileVersion.from_dwords(fixed[0].FileVersionMS, fixed[0].FileVersionLS)
            if fixed
            else None
        )
        return version, pe.FILE_HEADER.Machine
    finally:
        pe.close()


@pytest.mark.parametrize("path", FIXTURE_FILES + _windows_binaries_shipped_with_pip(), ids=str)
def test_agrees_with_a_full_pefile_parse(path: Path) -> None:
    info = read_pe_file(path)
    assert (info.file_version, info.machine_code) == _full_parse(path)


def test_real_windows_binaries_are_present_to_compare() -> None:
    found = _windows_binaries_shipped_with_pip()
    if not found:
        pytest.skip("this environment's pip vendors no Windows launchers")
    machines = {read_pe_file(p).machine for p in found}
    assert {"x86", "x64"} <= machines


def test_not_a_pe_file(tmp_path: Path) -> None:
    path = tmp_path / "aqueue.dll"
    path.write_text("MZ but not really\n")
    with pytest.raises(PeError) as err:
        read_pe_file(path)
    assert str(err.value).startswith(f"{path}: not a PE file")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PeError, match="cannot read"):
        read_pe_file(tmp_path / "nothing.dll")


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.dll"
    with path.open("wb") as handle:
        handle.truncate(MAX_PE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(PeError, match="larger than"):
        read_pe_file(path)


def test_every_truncation_is_a_clean_result_or_error() -> None:
    data = fixture_dll("x86", "6.0.3790.4094").read_bytes()
    errors = 0
    for cut in range(0, len(data), 7):
        try:
            read_pe_bytes(data[:cut], "cut.dll")
        except PeError:
            errors += 1
    assert errors > 0
    with pytest.raises(PeError):
        read_pe_bytes(data[:300], "cut.dll")


def test_random_bit_flips_never_crash() -> None:
    data = fixture_dll("x64", "6.0.3790.4094").read_bytes()
    rng = random.Random(934709)
    outcomes = set()
    for _ in range(300):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        try:
            read_pe_bytes(bytes(mutated), "flipped.dll")
            outcomes.add("read")
        except PeError:
            outcomes.add("unreadable")
    assert "read" in outcomes


def _resource_root_offset(data: bytes) -> tuple[int, int]:
    pe = pefile.PE(data=data, fast_load=True)
    rva = pe.OPTIONAL_HEADER.DATA_DIRECTORY[2].VirtualAddress
    offset = pe.get_offset_from_rva(rva)
    pe.close()
    return rva, offset


def test_resource_directory_that_loops_is_an_error() -> None:
    data = bytearray(fixture_dll("x86", "6.0.3790.4094").read_bytes())
    _, root = _resource_root_offset(bytes(data))
    # The first (only) entry of the root is RT_VERSION; point its subdirectory at the root.
    struct.pack_into("<I", data, root + 16 + 4, 0x80000000)
    with pytest.raises(PeError, match="loops back"):
        read_pe_bytes(bytes(data), "loop.dll")


def test_resource_directory_claiming_huge_counts_is_an_error() -> None:
    data = bytearray(fixture_dll("x86", "6.0.3790.4094").read_bytes())
    _, root = _resource_root_offset(bytes(data))
    struct.pack_into("<HH", data, root + 12, 0xFFFF, 0xFFFF)
    with pytest.raises(PeError, match="claims 131070 entries"):
        read_pe_bytes(bytes(data), "huge-dir.dll")


def test_broken_fixed_file_info_signature_is_an_error() -> None:
    data = fixture_dll("x86", "6.0.3790.4094").read_bytes()
    index = data.index(struct.pack("<I", 0xFEEF04BD))
    broken = data[:index] + b"\0\0\0\0" + data[index + 4 :]
    with pytest.raises(PeError, match="signature"):
        read_pe_bytes(broken, "sig.dll")


def test_pe_without_version_resource_reads_machine_only() -> None:
    data = bytearray(fixture_dll("x64", "6.0.3790.4094").read_bytes())
    pe = pefile.PE(data=bytes(data), fast_load=True)
    entry = pe.OPTIONAL_HEADER.DATA_DIRECTORY[2]
    offset = entry.get_file_offset()
    pe.close()
    struct.pack_into("<II", data, offset, 0, 0)
    info = read_pe_bytes(bytes(data), "noversion.dll")
    assert info.file_version is None and info.machine == "x64"


# --- ranged reads: the version of a file that is not here ----------------------------


class _Ranges:
    """A file read piecewise, as over SMB: every (offset, length) asked is kept."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[tuple[int, int]] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.asked.append((offset, length))
        return self.data[offset : offset + length]


@pytest.mark.parametrize(
    "path", [*FIXTURE_FILES, FULL_SIZE_DLL, *_windows_binaries_shipped_with_pip()], ids=str
)
def test_ranged_read_gives_what_the_whole_file_gives(path: Path) -> None:
    data = path.read_bytes()
    whole = read_pe_bytes(data, str(path))
    ranges = _Ranges(data)
    ranged = read_pe_ranges(ranges, len(data), str(path))
    assert ranged.file_version == whole.file_version
    assert ranged.product_version == whole.product_version
    assert ranged.version_text == whole.version_text
    assert (ranged.machine, ranged.machine_code, ranged.size) == (
        whole.machine,
        whole.machine_code,
        whole.size,
    )
    assert ranged.sha256 is None and whole.sha256 is not None  # no digest from pieces
    assert ranged.bytes_read == sum(min(n, len(data) - o) for o, n in ranges.asked)
    assert whole.bytes_read is None


def test_ranged_read_of_a_full_size_dll_fetches_headers_resources_and_leaf_only() -> None:
    data = FULL_SIZE_DLL.read_bytes()
    assert len(data) == 501_760  # KB934709's table: Aqueue.dll 6.0.3790.4094, x86
    ranges = _Ranges(data)
    info = read_pe_ranges(ranges, len(data), "aqueue.dll")
    assert str(info.file_version) == "6.0.3790.4094"
    pe = pefile.PE(data=data, fast_load=True)
    rsrc = next(s for s in pe.sections if s.Name.startswith(b".rsrc"))
    code = next(s for s in pe.sections if s.Name.startswith(b".text"))
    for offset, length in ranges.asked:
        in_headers = offset + length <= pe.OPTIONAL_HEADER.SizeOfHeaders + 4096
        in_rsrc = offset >= rsrc.PointerToRawData
        assert in_headers or in_rsrc, (offset, length)
        assert offset >= code.PointerToRawData + code.SizeOfRawData or offset + length <= 4096
    assert info.bytes_read is not None and info.bytes_read < 12 * 1024  # of 490 KiB
    assert len(ranges.asked) <= 4


def test_ranged_read_of_every_truncation_is_a_clean_result_or_error() -> None:
    data = fixture_dll("x86", "6.0.3790.4094").read_bytes()
    for cut in range(1, len(data), 11):
        part = data[:cut]
        with contextlib.suppress(PeError):
            read_pe_ranges(_Ranges(part), cut, "cut.dll")


def test_ranged_read_of_random_bit_flips_never_crashes() -> None:
    data = fixture_dll("x64", "6.0.3790.4094").read_bytes()
    rng = random.Random(445)
    for _ in range(200):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(PeError):
            read_pe_ranges(_Ranges(bytes(mutated)), len(mutated), "flipped.dll")


def test_a_host_answering_more_than_asked_is_an_error() -> None:
    data = fixture_dll("x86", "6.0.3790.4094").read_bytes()
    with pytest.raises(PeError, match="bytes for a read of"):
        read_pe_ranges(lambda offset, length: data + data, len(data), "flood.dll")


def test_an_empty_file_is_an_error() -> None:
    with pytest.raises(PeError, match="empty"):
        read_pe_ranges(_Ranges(b""), 0, "empty.dll")


@pytest.mark.parametrize("first_read", [64, 100, 200, 300])
def test_ranged_read_follows_headers_beyond_the_first_read(
    first_read: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image whose NT headers or section table lie past the first read (a long DOS
    stub): the file header, then the section table, are fetched where they are."""
    monkeypatch.setattr(pe_module, "_HEADER_BYTES", first_read)
    data = fixture_dll("x64", "6.0.3790.4094").read_bytes()
    ranges = _Ranges(data)
    info = read_pe_ranges(ranges, len(data), "aqueue.dll")
    assert str(info.file_version) == "6.0.3790.4094"
    assert ranges.asked[0] == (0, first_read) and len(ranges.asked) >= 3
