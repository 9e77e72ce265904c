"""The article importer on KB934709 and on five article texts written for these tests,
each compared field by field with what a person reads in the article."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from kbscan.kb.article import ArticleError, ImportResult, import_article, read_article
from kbscan.kb.directory import default_source
from kbscan.model import KbDefinition
from tests.helpers import FIXTURES

ARTICLES = FIXTURES / "articles"


def _import(path: Path, paths: dict[str, str] | None = None) -> ImportResult:
    return import_article(read_article(path), str(path), default_source().platforms(), paths)


def _files(result: ImportResult) -> list[dict[str, Any]]:
    """Every row of every table, with its table's heading and architecture."""
    return [
        {**r, "heading": t["heading"], "architecture": t["architecture"]}
        for t in result.document["tables"]
        for r in t["rows"]
    ]


def _paths(result: ImportResult) -> dict[str, str]:
    return {r["name"].lower(): r["path"] for r in _files(result)}


def _service_packs(result: ImportResult) -> list[int]:
    (platform,) = result.document["platforms"]
    assert platform["platform"] == "windows-server-2003"
    return list(platform["service_packs"])


def _rows(result: ImportResult) -> list[tuple[Any, ...]]:
    return [
        (
            r["service_pack"], r["architecture"], r["name"], r["version"], r.get("size"),
            r.get("date"), r.get("time"), r["platform"], r.get("service_branch"),
        )
        for r in _files(result)
    ]  # fmt: skip


def test_kb934709_reproduces_the_bundled_definition(kb: KbDefinition) -> None:
    result = _import(FIXTURES / "KB934709-article.txt")
    assert result.definition.files == kb.files
    for field in dataclasses.fields(kb):
        if field.name != "origin":
            assert getattr(result.definition, field.name) == getattr(kb, field.name), field.name
    # The SP2 x64 row also reads as 40947 | 73,632: no Windows Server 2003 revision has
    # five digits, so the platform's SP2 range settles it without a warning.
    assert result.warnings == []


def test_several_files_sp_requirement_and_service_branch_columns() -> None:
    result = _import(ARTICLES / "KB941001-smtp-multi.txt")
    d = result.document
    assert d["id"] == "KB941001"
    assert d["source"] == (
        "Microsoft Knowledge Base article 941001, revision 2 (archived copy, published 9/12/2011)"
    )
    assert _rows(result) == [
        (1, "x86", "Mailmsg.dll", "6.0.3790.2961", 88064, "2007-07-15", "10:12", "x86", "QFE"),
        (1, "x86", "Smtpsvc.dll", "6.0.3790.2961", 373760, "2007-07-15", "10:12", "x86", "QFE"),
        (2, "x86", "Mailmsg.dll", "6.0.3790.4105", 87552, "2007-07-15", "10:20", "x86", "GDR"),
        (2, "x86", "Smtpsvc.dll", "6.0.3790.4105", 372736, "2007-07-15", "10:20", "x86", "GDR"),
        (2, "x86", "Mailmsg.dll", "6.0.3790.4106", 87552, "2007-07-15", "10:25", "x86", "QFE"),
        (2, "x86", "Smtpsvc.dll", "6.0.3790.4106", 372736, "2007-07-15", "10:25", "x86", "QFE"),
        (1, "x64", "Mailmsg.dll", "6.0.3790.2961", 140288, "2007-07-15", "05:02", "x64", "QFE"),
        (1, "x64", "Smtpsvc.dll", "6.0.3790.2961", 617984, "2007-07-15", "05:02", "x64", "QFE"),
        (2, "x64", "Mailmsg.dll", "6.0.3790.4106", 140288, "2007-07-15", "05:10", "x64", "QFE"),
        (2, "x64", "Smtpsvc.dll", "6.0.3790.4106", 617472, "2007-07-15", "05:10", "x64", "QFE"),
        (1, "ia64", "Mailmsg.dll", "6.0.3790.2961", 316416, "2007-07-15", "05:01", "IA-64", "QFE"),
        (1, "ia64", "Smtpsvc.dll", "6.0.3790.2961", 1360896, "2007-07-15", "05:01", "IA-64", "QFE"),
        (2, "ia64", "Mailmsg.dll", "6.0.3790.4106", 316416, "2007-07-15", "05:09", "IA-64", "QFE"),
        (2, "ia64", "Smtpsvc.dll", "6.0.3790.4106", 1359872, "2007-07-15", "05:09", "IA-64", "QFE"),
    ]
    assert _service_packs(result) == [1, 2]
    assert d["requires"]["services"] == [
        {"name": "SMTPSVC", "display_name": "Simple Mail Transfer Protocol (SMTP)"}
    ]
    assert d["excluded_when"]["products"] == [
        {
            "name": "Exchange Server",
            "versions": ["2003"],
            "reason": "This article does not apply to Windows Server 2003-based computers "
            "that are running Exchange Server 2003.",
        }
    ]
    assert d["restart"]["services"] == [{"name": "IISADMIN", "display_name": "IIS Admin"}]
    assert d["restart"]["dependents"] is True and d["restart"]["computer"] is False
    assert _paths(result) == {
        "mailmsg.dll": "%SystemRoot%\\system32\\inetsrv\\mailmsg.dll",
        "smtpsvc.dll": "%SystemRoot%\\system32\\inetsrv\\smtpsvc.dll",
    }
    assert result.warnings == []
    # The x64 and IA-64 headings name no SP, but every row's SP requirement does.
    assert all("service_pack_note" not in r for r in _files(result))


def test_no_date_or_time_columns_drivers_and_computer_restart() -> None:
    result = _import(ARTICLES / "KB942002-driver-nodate.txt")
    assert _rows(result) == [
        (2, "x64", "Storport.sys", "5.2.3790.4173", 252416, None, None, "x64", None),
        (2, "x64", "Classpnp.sys", "5.2.3790.4173", 71168, None, None, "x64", None),
        (2, "ia64", "Storport.sys", "5.2.3790.4173", 745984, None, None, "IA-64", None),
        (2, "ia64", "Classpnp.sys", "5.2.3790.4173", 210432, None, None, "IA-64", None),
        (2, "x86", "Storport.sys", "5.2.3790.4173", 132608, None, None, "x86", None),
    ]
    d = result.document
    assert d["platforms"] == [
        {"platform": "windows-server-2003", "service_packs": [2], "remedy_service_pack": 2}
    ]
    assert d["prerequisite_text"] == (
        "To apply this hotfix, you must have Windows Server 2003 Service Pack 2 "
        "installed on the computer."
    )
    assert d["restart"]["computer"] is True and d["restart"]["services"] == []
    assert _paths(result)["storport.sys"] == "%SystemRoot%\\system32\\drivers\\storport.sys"
    assert d["requires"]["services"] == [] and d["excluded_when"]["products"] == []


def test_for_all_supported_headings_mui_and_a_service_restart() -> None:
    result = _import(ARTICLES / "KB943003-forall-norestart.txt")
    assert _rows(result) == [
        (1, "x86", "Spoolsv.exe", "5.2.3790.3026", 57856, "2007-11-02", "14:20", "x86", None),
        (1, "x86", "Localspl.dll", "5.2.3790.3026", 316416, "2007-11-02", "14:20", "x86", None),
        (2, "x86", "Spoolsv.exe", "5.2.3790.4186", 58368, "2007-11-02", "14:31", "x86", None),
        (2, "x86", "Localspl.dll", "5.2.3790.4186", 318464, "2007-11-02", "14:31", "x86", None),
        (2, "x86", "Localspl.dll.mui", "5.2.3790.4186", 12288, "2007-11-02", "14:31",
         "Not Applicable", None),
        (1, "x64", "Spoolsv.exe", "5.2.3790.3026", 89088, "2007-11-02", "05:12", "x64", None),
        (2, "x64", "Spoolsv.exe", "5.2.3790.4186", 89600, "2007-11-02", "05:20", "x64", None),
    ]  # fmt: skip
    d = result.document
    assert (
        _files(result)[0]["heading"]
        == "For all supported x86-based versions of Windows Server 2003"
    )
    assert d["restart"]["services"] == [{"name": "Spooler", "display_name": "Print Spooler"}]
    assert d["restart"]["computer"] is False
    # Where these files live is not in the article: assumed, and said.
    assert any("Spoolsv.exe lives is not stated" in w for w in result.warnings)


def test_r2_headings_and_a_wow64_file() -> None:
    result = _import(ARTICLES / "KB944004-r2-w3svc.txt")
    assert _rows(result) == [
        (2, "x86", "W3core.dll", "6.0.3790.4195", 254464, "2007-11-19", "11:02", "x86", None),
        (2, "x86", "W3svc.dll", "6.0.3790.4195", 83456, "2007-11-19", "11:02", "x86", None),
        (2, "x64", "W3core.dll", "6.0.3790.4195", 479744, "2007-11-19", "05:44", "x64", None),
        (2, "x64", "W3svc.dll", "6.0.3790.4195", 149504, "2007-11-19", "05:44", "x64", None),
        (2, "x64", "Ww3core.dll", "6.0.3790.4195", 254464, "2007-11-19", "05:44", "x86", None),
    ]
    d = result.document
    assert [p["platform"] for p in d["platforms"]] == ["windows-server-2003"]
    # The package's "W" prefix marks the WOW64 copy of W3core.dll, installed without it.
    assert _paths(result)["ww3core.dll"] == "%SystemRoot%\\SysWOW64\\w3core.dll"
    assert d["restart"]["services"] == [
        {"name": "W3SVC", "display_name": "World Wide Web Publishing"}
    ]
    assert d["restart"]["dependents"] is False
    assert any("WOW64" in w for w in result.warnings)


def test_x64_heading_without_service_pack_is_recorded_faithfully() -> None:
    result = _import(ARTICLES / "KB945005-x64-nosp.txt")
    x64 = _files(result)[2]
    assert x64["heading"] == "Windows Server 2003, x64-based versions"
    assert x64["service_pack"] == 1
    assert x64["service_pack_note"] == (
        "The heading names no service pack: x64 editions of Windows Server 2003 shipped at the "
        "SP1 code level; a host that names no service pack is at SP1; 6.0.3790.2870 is in "
        "SP1's revision range (1830-3958)."
    )
    assert _rows(result)[2] == (
        1, "x64", "Nntpsvc.dll", "6.0.3790.2870", 733696, "2007-02-11", "03:02", "x64", None,
    )  # fmt: skip
    assert _service_packs(result) == [1]


def test_paths_given_by_the_operator_win() -> None:
    mui = "%SystemRoot%\\system32\\mui\\0409\\localspl.dll.mui"
    result = _import(ARTICLES / "KB943003-forall-norestart.txt", {"Localspl.dll.mui": mui})
    assert _paths(result)["localspl.dll.mui"].endswith("mui\\0409\\localspl.dll.mui")


ARTICLE_934709 = (FIXTURES / "KB934709-article.txt").read_text(encoding="utf-8")


def _error(text: str) -> str:
    with pytest.raises(ArticleError) as err:
        import_article(text, "a.txt", default_source().platforms())
    message = str(err.value)
    assert "\n" not in message
    return message


def test_no_file_table() -> None:
    text = ARTICLE_934709.split("File information")[0]
    assert _error(text) == "a.txt: no file table (no 'File name' / 'File version' table)"


def test_truncated_mid_row() -> None:
    cut = ARTICLE_934709.index("Aqueue.dll6.0.3790.4094501,760") + 20
    assert _error(ARTICLE_934709[:cut]).startswith(
        "a.txt:52: row 'Aqueue.dll6.0.3790.4' cannot be split into File name, File version"
    )


def test_truncated_after_a_header() -> None:
    cut = ARTICLE_934709.index("Aqueue.dll6.0.3790.4094501,760")
    assert _error(ARTICLE_934709[:cut]) == (
        "a.txt:51: the table under 'Windows Server 2003 with Service Pack 2, x86-based "
        "versions' has no rows"
    )


MSXML_TABLES = """Title

Windows Server 2003 with Service Pack 2, x86-based versions
File nameFile versionFile sizeDateTimePlatform
Msxml3.dll8.100.1051.1182,01606-Jun-200716:07x86
{second}
Article ID : 950001
"""


def test_ambiguous_row_names_line_and_candidates() -> None:
    # Not an OS-build file, so the SP range cannot help, and no other table settles it.
    message = _error(MSXML_TABLES.format(second=""))
    assert message.startswith("a.txt:5: row 'Msxml3.dll8.100.1051.1182,01606-Jun-200716:07x86'")
    assert "has 3 readings" in message
    for reading in ("8.100.1051.1 | 182,016", "8.100.1051.11 | 82,016", "8.100.1051.118 | 2,016"):
        assert reading in message


def test_the_same_file_in_another_table_settles_a_row() -> None:
    second = (
        "Windows Server 2003 with Service Pack 2, x64-based versions\n"
        "File nameFile versionDateTimePlatform\n"
        "Msxml3.dll8.100.1051.1106-Jun-200705:00x64\n"
    )
    result = import_article(
        MSXML_TABLES.format(second=second), "a.txt", default_source().platforms()
    )
    assert [(r["version"], r.get("size")) for r in _files(result)] == [
        ("8.100.1051.11", 82016),
        ("8.100.1051.11", None),
    ]
    assert result.warnings[0].startswith("line 5: 3 readings of 'Msxml3.dll8.100.1051.1182")
    assert "took 8.100.1051.11" in result.warnings[0]


def test_unknown_operating_system() -> None:
    text = ARTICLE_934709.replace(
        "Windows Server 2003 with Service Pack 1, x86-based versions",
        "Windows Embedded Standard 7 with Service Pack 1, x86-based versions",
    )
    message = _error(text)
    assert message.startswith("a.txt:47: heading 'Windows Embedded Standard 7 with Service Pack")
    assert "add data/platforms/windows-embedded-standard-7.json" in message


def test_heading_and_row_disagree_on_the_service_pack() -> None:
    text = (
        "Title\n\nWindows Server 2003 with Service Pack 2, x86-based versions\n"
        "File nameFile versionFile sizeDateTimePlatformSP requirement\n"
        "Aqueue.dll6.0.3790.2950502,27206-Jun-200716:07x86SP1\n\nArticle ID : 934709\n"
    )
    assert "the heading and the row name different service packs (SP1, SP2)" in _error(text)


def test_no_kb_number() -> None:
    text = ARTICLE_934709.replace("Article ID : 934709", "").replace("KB934709", "")
    assert "no KB number" in _error(text)


def test_binary_or_odd_encodings(tmp_path: Path) -> None:
    utf16 = tmp_path / "a16.txt"
    utf16.write_text(ARTICLE_934709, encoding="utf-16")
    assert read_article(utf16) == ARTICLE_934709.replace("\ufeff", "")
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\xff\xfe\x00\xd8\x00" * 3 + b"\x00\x00\x80")
    with pytest.raises(ArticleError):
        read_article(junk)
