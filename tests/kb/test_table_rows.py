from __future__ import annotations

import pytest

from kbscan.kb.table_rows import RowError, parse_header, readings, split_row

STANDARD = parse_header("File nameFile versionFile sizeDateTimePlatform")


def test_header_columns_in_order() -> None:
    cols = parse_header(
        "File nameFile versionFile sizeDateTimePlatformSP requirementService branch"
    )
    assert [c.key for c in cols] == [
        "name", "version", "size", "date", "time", "platform", "sp_requirement", "service_branch",
    ]  # fmt: skip
    assert [c.key for c in parse_header("File name File version File size Platform")] == [
        "name", "version", "size", "platform",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("File nameFile versionColourPlatform", "unknown column at 'ColourPlatform'"),
        ("File nameFile sizeDate", "has a 'File name' and a 'File version' column"),
        ("File nameFile versionDateDate", "column 'Date' appears twice"),
    ],
)
def test_bad_headers(header: str, message: str) -> None:
    with pytest.raises(RowError, match=message):
        parse_header(header)


def test_unique_row() -> None:
    assert split_row("Aqueue.dll6.0.3790.2950502,27206-Jun-200716:07x86", STANDARD) == {
        "name": "Aqueue.dll", "version": "6.0.3790.2950", "size": "502,272",
        "date": "06-Jun-2007", "time": "16:07", "platform": "x86",
    }  # fmt: skip


def test_every_reading_is_enumerated() -> None:
    found = readings("Aqueue.dll6.0.3790.29501,484,80006-Jun-200701:56IA-64", STANDARD)
    assert sorted((r["version"], r["size"]) for r in found) == [
        ("6.0.3790.29", "501,484,800"),
        ("6.0.3790.2950", "1,484,800"),
    ]


def test_ambiguous_row_shows_candidates() -> None:
    with pytest.raises(RowError) as err:
        split_row("Aqueue.dll6.0.3790.183051206-Jun-200716:07x86", STANDARD)
    assert "has 2 readings" in str(err.value)
    assert "6.0.3790.1830 | 512" in str(err.value) and "6.0.3790.18305 | 12" in str(err.value)


def test_plausibility_settles_and_never_empties() -> None:
    line = "Aqueue.dll6.0.3790.183051206-Jun-200716:07x86"
    chosen = split_row(line, STANDARD, lambda r: r["version"].endswith(".1830"))
    assert chosen["size"] == "512"
    with pytest.raises(RowError, match="has 2 readings"):
        split_row(line, STANDARD, lambda r: False)


@pytest.mark.parametrize(
    "row",
    [
        "Aqueue.dll6.0.3790.2950502,27206-Jun-200716:0",  # truncated
        "Aqueue.dll6.0.3790.2950502,27231-Jun-200716:07x86",  # no 31 June
        "Aqueue.dll6.0.3790.2950502,27206-Jun-200724:07x86",  # no hour 24
        "Aqueue.dll6.0.3790.2950502,27206-Jun-200716:07sparc",
        "6.0.3790.2950502,27206-Jun-200716:07x86",  # no name
    ],
)
def test_rows_with_no_reading(row: str) -> None:
    with pytest.raises(RowError, match="no reading fits"):
        split_row(row, STANDARD)


def test_a_size_never_has_a_leading_zero() -> None:
    found = readings("Aqueue.dll6.0.3790.2950052,27206-Jun-200716:07x86", STANDARD)
    assert [(r["version"], r["size"]) for r in found] == [("6.0.3790.29500", "52,272")]


def test_names_with_dots_and_digits() -> None:
    cols = parse_header("File nameFile versionPlatform")
    assert split_row("Microsoft.Windows.Common-Controls.manifest6.0.3790.4094x86", cols)[
        "name"
    ] == ("Microsoft.Windows.Common-Controls.manifest")
    assert split_row("Mf3216.dll5.2.3790.4094x86", cols)["name"] == "Mf3216.dll"
