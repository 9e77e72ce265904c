from __future__ import annotations

import pytest

from kbscan.versions import FileVersion, VersionError, parse_version_text


@pytest.mark.parametrize(
    "text",
    [
        "6.0.3790.4094",
        "6.0.3790.4094 (srv03_sp2_qfe.070606-1234)",
        "6, 0, 3790, 4094",
        "  6.0.3790.4094  ",
        "6,0,3790,4094",
    ],
)
def test_parses_every_windows_spelling(text: str) -> None:
    assert FileVersion.parse(text) == FileVersion(6, 0, 3790, 4094)


def test_dword_pair_round_trips() -> None:
    v = FileVersion.from_dwords(0x00060000, 0x0ECE0FFE)
    assert v == FileVersion(6, 0, 3790, 4094)
    assert v.dwords == (0x00060000, 0x0ECE0FFE)


def test_compares_as_numbers_not_strings() -> None:
    # As strings "6.0.3790.950" > "6.0.3790.4094"; as numbers it is older.
    assert FileVersion.parse("6.0.3790.950") < FileVersion.parse("6.0.3790.4094")
    assert FileVersion.parse("6.0.3790.10000") > FileVersion.parse("6.0.3790.9999")
    assert FileVersion.parse("6.1.0.0") > FileVersion.parse("6.0.65535.65535")


def test_build_tag_and_branch() -> None:
    text = parse_version_text("6.0.3790.4186 (srv03_sp2_gdr.071102-1401)")
    assert text.tag == "srv03_sp2_gdr.071102-1401"
    assert text.branch == "gdr"
    assert parse_version_text("6.0.3790.4094 (srv03_sp2_qfe.070606-1234)").branch == "qfe"
    assert parse_version_text("6.0.3790.4094").branch is None
    assert str(text) == "6.0.3790.4186 (srv03_sp2_gdr.071102-1401)"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "6.0.3790",
        "6.0.3790.4094.1",
        "6.0.3790.65536",
        "6.0.3790.99999",
        "-6.0.3790.4094",
        "6.0.3790.4094a",
        "6.0,3790.4094",
        "v6.0.3790.4094",
        "6.0.3790.4094 (unclosed",
        "\uff16.0.3790.4094",  # full-width digit six
    ],
)
def test_rejects_anything_else_with_a_clear_error(text: str) -> None:
    with pytest.raises(VersionError) as err:
        FileVersion.parse(text)
    assert "version" in str(err.value) or "65535" in str(err.value)


def test_rejects_out_of_range_parts_and_words() -> None:
    with pytest.raises(VersionError):
        FileVersion(6, 0, 3790, 70000)
    with pytest.raises(VersionError):
        FileVersion.from_dwords(2**32, 0)
