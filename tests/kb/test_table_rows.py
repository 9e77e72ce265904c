from __future__ import annotations

import pytest

from kbscan.kb.table_rows import (
    RowError,
    date_order,
    parse_date,
    parse_header,
    parse_time,
    readings,
    split_row,
)

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
        ("File nameDateTime", "has a 'File name' and a 'File version' or 'Size' column"),
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:35:53PM", "13:35:53"), ("04:39p", "16:39"), ("3:26pm", "15:26"),
        ("08:00P", "20:00"), ("7:26AM", "07:26"), ("07:11 PM", "19:11"),
        ("3:35:10", "03:35:10"), ("12:05a", "00:05"), ("16:07", "16:07"),
    ],
)  # fmt: skip
def test_every_time_spelling_of_the_archive(text: str, expected: str) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["13:05PM", "24:00", "7:61"])
def test_impossible_times(text: str) -> None:
    with pytest.raises(RowError):
        parse_time(text)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("06-Jun-2007", "mdy", "2007-06-06"), ("11-MAY-2001", "mdy", "2001-05-11"),
        ("11-Jul-01", "mdy", "2001-07-11"), ("6/18/1999", "mdy", "1999-06-18"),
        ("02/03/00", "mdy", "2000-02-03"), ("12-21-2000", "mdy", "2000-12-21"),
        ("19/12/00", "dmy", "2000-12-19"), ("31-05-2001", "dmy", "2001-05-31"),
        ("03/02/99", "mdy", "1999-03-02"),
    ],
)  # fmt: skip
def test_two_and_four_digit_years_day_or_month_first(text: str, order: str, expected: str) -> None:
    assert parse_date(text, order) == expected


def test_the_order_of_numeric_dates_comes_from_the_dates_that_tell() -> None:
    assert date_order(["09-07-2000", "5/31/2001"]) == "mdy"
    assert date_order(["19/12/00", "01/02/00"]) == "dmy"
    assert date_order(["09-07-2000"]) == "mdy"  # none tells: the articles are American
    assert date_order(["31/01/2000", "01/31/2000"]) is None


def test_size_before_version_a_path_and_a_note_after_the_name() -> None:
    columns = parse_header("Date Time Size Version File name Platform")
    (row,) = readings(
        "02/22/01  4:19pm  155,920  4.0.1381.7092  Lsasrv.dll    Intel", columns, spaced=True
    )
    assert (row["size"], row["version"], row["name"], row["platform"]) == (
        "155,920",
        "4.0.1381.7092",
        "Lsasrv.dll",
        "Intel",
    )
    columns = parse_header("Date Time Version Size File name")
    (row,) = readings(
        r"5/31/2001 03:31p 5.00.2195.3649 6928 %Windir%\System32\inetsrv\Ism.dll",
        columns,
        spaced=True,
    )
    assert (row["version"], row["size"], row["name"]) == (
        "5.00.2195.3649",
        "6928",
        r"%Windir%\System32\inetsrv\Ism.dll",
    )
    (row,) = readings(
        "5/31/2001 11:13p 5.0.2195.3663 501,520 Lsasrv.dll (56-bit)", columns, spaced=True
    )
    assert row["name"] == "Lsasrv.dll (56-bit)"
    (row,) = readings("07/13/2000 02:36 7.0.1313.0 101.872 Nlhtml.dll", columns, spaced=True)
    assert row["size"] == "101.872"


def test_a_row_that_stops_before_its_last_columns() -> None:
    columns = parse_header("Date Time Size File name Platform Version")
    (row,) = readings("06/10/2000  10:10a         67  Compverbase.ini  Intel", columns, spaced=True)
    assert (row["name"], row["platform"], row["version"]) == ("Compverbase.ini", "Intel", "")
    columns = parse_header("Date Time Version Size File name Platform")
    (row,) = readings("01-Mar-2001  19:20     67  Compversmsapm32.ini", columns, spaced=True)
    assert (row["version"], row["size"], row["platform"]) == ("", "67", "")
