"""Real articles, in the shapes they come in, imported without hand edits.

Each article's rows are compared field by field with a transcription made by reading the
article (tests/fixtures/articles/real/*.expected, written row by row from the tables, not
from kbscan's output); the table-level facts below are written from reading each heading.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kbscan.cli import main
from kbscan.kb.article import ArticleError, ImportResult, import_article, read_article
from kbscan.kb.directory import default_source
from kbscan.model import Arch
from tests.helpers import FIXTURES

REAL = FIXTURES / "articles" / "real"


def _import(name: str) -> ImportResult:
    path = REAL / name
    return import_article(read_article(path), str(path), default_source().platforms())


def _expected(name: str) -> list[tuple[str, list[tuple[str, ...]]]]:
    tables: list[tuple[str, list[tuple[str, ...]]]] = []
    for line in (REAL / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") or not line.strip():
            continue
        if line.startswith("## "):
            tables.append((line[3:], []))
        else:
            tables[-1][1].append(tuple(c.strip() for c in line.split("|")))
    return tables


def _got(result: ImportResult) -> list[tuple[str, list[tuple[str, ...]]]]:
    def dash(value: Any) -> str:
        return "-" if value is None else str(value)

    return [
        (
            t["heading"],
            [
                (
                    r["name"], dash(r["version"]), dash(r.get("size")), dash(r.get("date")),
                    dash(r.get("time")), r["platform"], dash(r["service_pack"]),
                    dash(r.get("service_branch")),
                )
                for r in t["rows"]
            ],
        )
        for t in result.document["tables"]
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("article", "expected"),
    [
        ("KB2492386.md", "KB2492386.expected"),
        ("KB981506.md", "KB981506.expected"),
        ("KB318364.md", "KB318364.expected"),
        ("KB319733.txt", "KB319733.expected"),
    ],
)
def test_every_row_field_by_field(article: str, expected: str) -> None:
    got, want = _got(_import(article)), _expected(expected)
    assert [h for h, _ in got] == [h for h, _ in want]
    for (heading, rows), (_, want_rows) in zip(got, want, strict=True):
        assert len(rows) == len(want_rows), heading
        for row, want_row in zip(rows, want_rows, strict=True):
            assert row == want_row, heading


def _tables(result: ImportResult) -> list[tuple[list[str], str]]:
    return [(t["platforms"], t["architecture"]) for t in result.document["tables"]]


def _platforms(result: ImportResult) -> dict[str, list[int]]:
    return {p["platform"]: p["service_packs"] for p in result.document["platforms"]}


def test_kb2492386_platforms_wow_rows_and_left_out_tables() -> None:
    result = _import("KB2492386.md")
    d = result.document
    assert d["id"] == "KB2492386"
    assert d["title"].startswith("Application Compatibility Update for Windows XP")
    assert _tables(result) == [
        (["windows-xp"], "x86"),
        (["windows-server-2003"], "x86"),
        (["windows-xp-x64", "windows-server-2003"], "x64"),
        (["windows-server-2003"], "ia64"),
        (["windows-server-2008", "windows-vista"], "x86"),
        (["windows-server-2008", "windows-vista"], "x64"),
        (["windows-server-2008"], "ia64"),
    ]
    # The prerequisite list: XP SP3, 2003 SP2, Vista SP1/SP2, 2008 (RTM is SP1) and SP2;
    # XP x64 is not in it, so the levels of its rows (SP requirement SP2) are used.
    assert _platforms(result) == {
        "windows-xp": [3],
        "windows-server-2003": [2],
        "windows-xp-x64": [2],
        "windows-server-2008": [1, 2],
        "windows-vista": [1, 2],
    }
    assert [(x["line"], x["kind"]) for x in d["left_out"]] == [
        (46, "download links"),
        (198, "version legend"),
    ]
    definition = result.definition
    x64_2003 = definition.rows_for("windows-server-2003", 2, Arch.X64)
    wow = [r for r in x64_2003 if r.name == "Waclayers.dll"]
    assert len(wow) == 2 and all(r.wow and r.checkable for r in wow)
    assert {r.path for r in wow} == {"%SystemRoot%\\SysWOW64\\aclayers.dll"}
    # x86 rows inside the Vista x64 table are WOW64 files too, with no W prefix.
    vista_x64 = definition.rows_for("windows-vista", 2, Arch.X64)
    acres = [r for r in vista_x64 if r.name == "Acres.dll" and r.wow]
    assert [str(r.version) for r in acres] == ["6.0.6002.22601"]
    assert acres[0].path == "%SystemRoot%\\SysWOW64\\acres.dll"
    sdb = [r for r in definition.files if r.name == "Sysmain.sdb"]
    assert sdb and not any(r.checkable for r in sdb)
    # Gameuxlegacygdfs.dll 1.0.0.1 is no Windows build: tied to no service pack, said why.
    legacy = next(r for r in definition.files if r.name == "Gameuxlegacygdfs.dll")
    assert legacy.service_pack is None
    assert legacy.service_pack_note == (
        "The article ties this row to no service pack: 1.0.0.1 is not a build of "
        "Windows Server 2008 and Windows Vista."
    )


def test_kb981506_manifests_are_left_out_and_2008_r2_has_no_x86() -> None:
    result = _import("KB981506.md")
    assert result.document["title"].startswith('"SSL Certificate add failed, Error: 1312"')
    assert _tables(result) == [
        (["windows-7"], "x86"),
        (["windows-7", "windows-server-2008-r2"], "x64"),
        (["windows-server-2008-r2"], "ia64"),
    ]
    assert _platforms(result) == {"windows-7": [0], "windows-server-2008-r2": [0]}
    assert [x["kind"] for x in result.document["left_out"]] == ["manifest files"] * 3
    rows = result.definition.rows_for("windows-server-2008-r2", 0, Arch.X86)
    assert rows == ()
    restart = result.document["restart"]
    assert restart["computer"] is True and restart["services"] == []


def test_kb318364_code_block_without_heading_takes_the_articles_scope() -> None:
    result = _import("KB318364.md")
    (table,) = result.document["tables"]
    assert table["platforms"] == ["windows-2000"] and table["architecture"] == "x86"
    assert "has no heading" in table["note"]
    assert _platforms(result) == {"windows-2000": []}  # no level stated: versions decide
    assert result.document["source"] == (
        "Microsoft Knowledge Base article 318364 (Microsoft support documentation, "
        "ms.date 01/15/2025)"
    )


def test_kb319733_original_text_iis_headings_and_prose_prerequisites() -> None:
    result = _import("KB319733.txt")
    d = result.document
    assert d["title"] == "MS02-018: April 2002 Cumulative Patch for IIS"
    assert _tables(result) == [
        (["windows-xp"], "x86"),
        (["windows-2000"], "x86"),
        (["windows-nt-4.0"], "x86"),
    ]
    # "This update requires Windows 2000 Service Pack 2 (SP2) or SP1." and "...Windows NT
    # 4.0 Service Pack 6a (SP6a)."; XP's rows are of the release (5.1.2600.41).
    assert _platforms(result) == {"windows-xp": [0], "windows-2000": [1, 2], "windows-nt-4.0": [6]}
    versionless = [r.name for r in result.definition.files if not r.checkable]
    assert versionless == ["Default.asp", "Query.asp", "Search.asp"] * 2  # IIS 5.1, 5.0


SHAPES = {
    "tabs": (
        "Title of the fix\n\nWindows Server 2003 with Service Pack 2, x86-based versions\n"
        "File name\tFile version\tFile size\tDate\tTime\tPlatform\n"
        "Aqueue.dll\t6.0.3790.4094\t501,760\t06-Jun-2007\t16:32\tx86\n\nArticle ID : 934709\n"
    ),
    "indented markdown": (
        "# Title of the fix\n\n_Original KB number:_ &nbsp; 934709\n\n"
        "1. Install it.\n\n   ##### Windows Server 2003 with Service Pack 2, x86-based versions\n\n"
        "   | File name | File version | File size | Date | Time | Platform |\n"
        "   |---|---|---|---|---|---|\n"
        "   | **Aqueue.dll** | 6.0.3790.4094 | 501,760 | 06-Jun-2007 | 16:32 | x86 |\n"
        "   |||||||\n"
    ),
    "html": (
        "<html><head><title>x</title></head><body><h1>Title of the fix</h1>"
        "<p>Article ID : 934709</p>\n"
        "<h4>Windows Server 2003 with Service Pack 2, x86-based versions</h4>\n<table>\n"
        "<tr><th>File name</th><th>File version</th><th>File size</th><th>Date</th>"
        "<th>Time</th><th>Platform</th></tr>\n"
        "<tr><td>Aqueue.dll</td><td>6.0.3790.4094</td><td>501,760</td><td>06-Jun-2007</td>"
        "<td>16:32</td><td>x86</td></tr>\n</table></body></html>\n"
    ),
    "fixed width, US dates": (
        "DOCUMENT:Q934709  01-JUN-2007\nTITLE   :Title of the fix\n\n"
        "Windows Server 2003 with Service Pack 2, x86-based versions\n"
        "------------------------------------------------------------\n\n"
        "   Date         Time   Version          Size     File name     Platform\n"
        "   --------------------------------------------------------------------\n"
        "   06/06/2007   04:32p 6.0.3790.4094    501,760  Aqueue.dll    x86\n"
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_gives_the_same_row(shape: str) -> None:
    result = import_article(SHAPES[shape], "a.txt", default_source().platforms())
    (table,) = result.document["tables"]
    (row,) = table["rows"]
    assert table["heading"] == "Windows Server 2003 with Service Pack 2, x86-based versions"
    assert (row["name"], row["version"], row["size"], row["date"], row["time"]) == (
        "Aqueue.dll", "6.0.3790.4094", 501760, "2007-06-06", "16:32",
    )  # fmt: skip
    assert row["service_pack"] == 2 and row["platform"] == "x86"
    assert result.document["id"] == "KB934709"


def _error(text: str) -> str:
    with pytest.raises(ArticleError) as err:
        import_article(text, "a.md", default_source().platforms())
    message = str(err.value)
    assert "\n" not in message
    return message


MD_HEAD = "# Fix\n\n_Original KB number:_ &nbsp; 981506\n\n##### For all supported x86-based versions of Windows 7\n\n"


def test_markdown_errors_name_the_line() -> None:
    unknown_table = MD_HEAD + "|Name|Colour|\n|---|---|\n|a|b|\n"
    assert _error(unknown_table).startswith("a.md:7: a table with the columns Name | Colour")
    truncated = (
        MD_HEAD
        + "|File name|File version|File size|Date|Time|Platform|\n|---|---|---|---|---|---|\n"
        "|Cng.sys|6.1.7600.16385|369,568|14-Jul-2009|\n"
    )
    assert _error(truncated).startswith("a.md:9: the row has 4 cells but the table has 6")
    bad_version = truncated.replace("|14-Jul-2009|", "|14-Jul-2009|01:17|x86|").replace(
        "6.1.7600.16385", "6.1.7600.99999"
    )
    assert _error(bad_version).startswith("a.md:9: File version '6.1.7600.99999'")
    arm = MD_HEAD.replace("x86-based versions of Windows 7", "ARM-based versions of Windows RT")
    assert "ARM is not an architecture kbscan judges" in _error(
        arm + "|File name|File version|File size|Date|Time|Platform|\n|---|---|---|---|---|---|\n"
        "|Cng.sys|6.1.7600.16385|369,568|14-Jul-2009|01:17|x86|\n"
    )


def test_import_writes_nothing_on_error_and_show_prints_branches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.md"
    broken.write_text(MD_HEAD + "|Name|Colour|\n|---|---|\n|a|b|\n", encoding="utf-8")
    out = tmp_path / "KB981506.json"
    assert main(["kb", "import", str(broken), "-o", str(out)]) == 2
    assert not out.exists()
    assert (
        main(["kb", "import", str(REAL / "KB2492386.md"), "-o", str(tmp_path / "KB2492386.json")])
        == 0
    )
    capsys.readouterr()
    assert main(["kb", "show", "KB2492386", "--kb-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "For all supported x64-based versions of Windows XP and of Windows Server 2003" in shown
    assert "SP2  WOW     Waclayers.dll" in shown
    assert "Tables left out:" in shown and "version legend" in shown
    assert main(["kb", "show", "KB2492386", "--kb-dir", str(tmp_path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["tables"]) == 7
