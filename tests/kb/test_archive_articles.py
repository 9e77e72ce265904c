"""Microsoft's original KB texts of the NT 4.0 / 2000 era, imported without hand edits.

tests/fixtures/articles/archive holds a sample of the archive (Qnnnnnn.TXT, copied
unchanged). Each *.expected file was written by reading the article: per table the
release(s) and architecture a reader takes from it, and each row as printed (name,
version, size, ISO date, 24-hour time, platform as printed); the tables kbscan keeps
but does not judge (Alpha, Windows 95, a "(56-bit)" variant) are listed the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kbscan.cli import main
from kbscan.kb.article import ArticleError, ImportResult, import_article, read_article
from kbscan.kb.directory import default_source
from tests.helpers import FIXTURES

ARCHIVE = FIXTURES / "articles" / "archive"
EXPECTED = sorted(p.stem for p in ARCHIVE.glob("*.expected"))

Tables = list[tuple[str, frozenset[str], str, list[tuple[str, ...]]]]


def _import(name: str, text: str | None = None, **kwargs: Any) -> ImportResult:
    path = ARCHIVE / name
    source = default_source()
    return import_article(
        read_article(path) if text is None else text,
        str(path),
        source.platforms(),
        not_scanned=source.not_scanned(),
        **kwargs,
    )


def _expected(stem: str) -> Tables:
    tables: Tables = []
    for line in (ARCHIVE / f"{stem}.expected").read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") or not line.strip():
            continue
        if line.startswith("## "):
            head = line[3:]
            kind = "not judged" if head.startswith("not judged:") else "judged"
            platforms, arch = head.removeprefix("not judged:").rsplit(" ", 1)
            ids = frozenset(p for p in platforms.strip().split(",") if p)
            tables.append((kind, ids, arch, []))
        else:
            tables[-1][3].append(tuple(c.strip() for c in line.split("|")))
    return tables


def _got(document: dict[str, Any]) -> Tables:
    def dash(value: Any) -> str:
        return "-" if value is None else str(value)

    def rows(t: dict[str, Any]) -> list[tuple[str, ...]]:
        return [
            (r["name"], dash(r["version"]), dash(r.get("size")), dash(r.get("date")),
             dash(r.get("time")), r["platform"])
            for r in t["rows"]
        ]  # fmt: skip

    judged = [("judged", frozenset(t["platforms"]), t["architecture"], rows(t))
              for t in document["tables"]]  # fmt: skip
    kept = [("not judged", frozenset(t["platforms"]), t["architecture"], rows(t))
            for t in document.get("not_judged", [])]  # fmt: skip
    return judged + kept


def _ordered(tables: Tables) -> Tables:
    return sorted(tables, key=lambda t: (t[0] == "not judged", t[3][0][0], t[3][0][1]))


@pytest.mark.parametrize("stem", EXPECTED)
def test_every_table_and_row_as_read_from_the_article(stem: str) -> None:
    got = _ordered(_got(_import(f"{stem}.TXT").document))
    want = _ordered(_expected(stem))
    assert [(k, p, a, len(r)) for k, p, a, r in got] == [(k, p, a, len(r)) for k, p, a, r in want]
    for (_, _, _, got_rows), (_, platforms, _, want_rows) in zip(got, want, strict=True):
        for row, want_row in zip(got_rows, want_rows, strict=True):
            assert row == want_row, (stem, sorted(platforms))


def test_the_sample_is_twenty_articles_or_more() -> None:
    assert len(EXPECTED) >= 20


def _note(stem: str, index: int = 0) -> str:
    return str(_import(f"{stem}.TXT").document["tables"][index].get("note", ""))


def test_each_table_says_which_source_decided_its_release() -> None:
    # the applies-to block
    assert _note("Q156348").startswith(
        "The table has no heading; the article applies to Windows NT 4.0"
    )
    # an underlined heading; a product line ("IIS 4.0"); an introducing sentence
    assert _import("Q229894.TXT").document["tables"][0]["heading"] == "Windows 2000"
    headings = [t["heading"] for t in _import("Q323756.TXT").document["tables"]]
    assert headings == ["IIS 4.0:", "IIS 5.0:"]
    tables = _import("Q288994.TXT").document["tables"]
    assert tables[0]["heading"].startswith(
        "The English version of the Internet Information Server (IIS) 5.0 fix"
    )
    assert tables[1]["heading"].startswith("The English version of the IIS 4.0 fix")
    # the rows' builds narrow an article for NT 4.0 and 2000 to the release of its files
    text = read_article(ARCHIVE / "Q156348.TXT").replace(
        " - Microsoft Windows NT Server version 4.0",
        " - Microsoft Windows NT Server version 4.0\n - Microsoft Windows 2000 Server",
    )
    table = _import("Q156348.TXT", text).document["tables"][0]
    assert table["platforms"] == ["windows-nt-4.0"]
    assert (
        "names Windows NT 4.0, Windows 2000; the rows' builds are Windows NT 4.0's" in table["note"]
    )


def _strip(text: str, *markers: str) -> str:
    """The article with the lines that start with any marker taken out."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(markers))


def test_the_header_lines_decide_when_no_applies_to_block_names_a_release() -> None:
    text = _strip(read_article(ARCHIVE / "Q156348.TXT"), "- Microsoft Windows NT")
    note = _import("Q156348.TXT", text).document["tables"][0]["note"]
    assert note.startswith("The table's release comes from the header (line 4:")
    assert "names Windows NT 4.0" in note


def test_the_title_then_the_prose_then_the_builds() -> None:
    text = _strip(read_article(ARCHIVE / "Q156348.TXT"), "- Microsoft Windows NT", "PROD/VER")
    text = text.replace("TITLE   :Memory-Related", "TITLE   :Windows NT 4.0 Memory-Related")
    assert "comes from the title" in _import("Q156348.TXT", text).document["tables"][0]["note"]
    text = text.replace("TITLE   :Windows NT 4.0 Memory-Related", "TITLE   :Memory-Related")
    prose = _import("Q156348.TXT", text).document["tables"][0]["note"]
    assert "comes from the prose" in prose
    no_prose = "\n".join(
        line if "|" in line or "Srv.sys" in line or "Date" in line else
        line.replace("Windows NT", "the system")
        for line in text.splitlines()
    )  # fmt: skip
    builds = _import("Q156348.TXT", no_prose).document["tables"][0]["note"]
    assert builds.startswith(
        "The article names no Windows release; the rows' versions are builds of Windows NT 4.0"
    )


def test_an_article_that_names_no_release_needs_platform() -> None:
    text = _strip(read_article(ARCHIVE / "Q156348.TXT"), "- Microsoft Windows NT", "PROD/VER")
    text = text.replace("Windows NT", "the system").replace("4.0.1381.7110", "1.2.3.4")
    with pytest.raises(ArticleError) as caught:
        _import("Q156348.TXT", text)
    assert caught.value.line == 61  # the header line, two lines having been taken out
    assert "give --platform NAME" in caught.value.message
    forced = _import("Q156348.TXT", text, forced=("windows-nt-4.0",)).document["tables"][0]
    assert forced["platforms"] == ["windows-nt-4.0"]
    assert forced["note"].startswith("The table's release comes from the --platform")


def test_two_sources_that_disagree_are_an_error_naming_both_lines() -> None:
    with pytest.raises(ArticleError) as caught:
        _import("Q319420.TXT")
    message = caught.value.message
    assert "applies to (line 12:" in message and "the row at line 52 is 5.0.2195.4978" in message
    assert caught.value.line == 52
    # a heading and the applies-to block that name different Windows versions
    text = read_article(ARCHIVE / "Q296686.TXT").replace(
        "RESOLUTION\n==========", "RESOLUTION\n==========\n\nWindows NT 4.0\n--------------"
    )
    text = text.replace("\r\n", "\n").replace(
        "RESOLUTION\n==========", "RESOLUTION\n==========\n\nWindows NT 4.0\n--------------"
    )
    with pytest.raises(ArticleError) as caught:
        _import("Q296686.TXT", text)
    assert "the heading (line" in caught.value.message
    assert "the applies to (line" in caught.value.message


def test_a_row_after_a_blank_line_is_kept_and_a_garbled_one_stops_the_import() -> None:
    result = _import("Q251170.TXT")
    assert {108, 109, 110, 112, 113, 114} <= result.row_lines
    text = read_article(ARCHIVE / "Q251170.TXT").replace(
        "1,952,528  Query.dll", "1,952,528  Query.dll  Alpha  junk"
    )
    with pytest.raises(ArticleError) as caught:
        _import("Q251170.TXT", text)
    assert caught.value.line == 113


def test_a_judged_row_needs_a_four_part_version() -> None:
    text = read_article(ARCHIVE / "Q267560.TXT").replace("4.2.748.1  54,544", "4.2.748    54,544")
    with pytest.raises(
        ArticleError, match="a file kbscan judges needs its four-part version"
    ) as caught:
        _import("Q267560.TXT", text)
    assert caught.value.line == 157


def test_unjudged_rows_say_why_and_appear_in_kb_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _import("Q240806.TXT").document
    kept = document["not_judged"][0]
    assert kept["note"].startswith("Windows NT 4.0 ran on Alpha too")
    assert all(t["architecture"] == "x86" for t in document["tables"])
    out = tmp_path / "KB240806.json"
    assert main(["kb", "import", str(ARCHIVE / "Q240806.TXT"), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["kb", "show", "KB240806", "--kb-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "Not judged:" in shown and "Schnlc.dll  4.86.1957.1877  232,720  Alpha" in shown


def test_batch_import_writes_one_file_per_article_and_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "library"
    assert main(["kb", "import", str(ARCHIVE), "-o", str(out)]) == 2
    printed = capsys.readouterr()
    written = sorted(p.name for p in out.glob("*.json"))
    articles = sorted(ARCHIVE.glob("*.TXT"))
    assert len(written) == len(articles) - 1  # Q319420 states two releases
    assert "KB319420.json" not in written
    lines = printed.out.splitlines()
    assert lines[0].split()[:4] == ["ARTICLE", "KB", "TABLES", "ROWS"]
    assert f"{len(articles) - 1} of {len(articles)} articles imported" in lines[-1]
    failed = next(line for line in lines if line.startswith("Q319420.TXT"))
    assert "failed:" in failed and "line 52" in failed
    row = next(line for line in lines if line.startswith("Q240806.TXT"))
    assert row.split()[1:5] == ["KB240806", "2", "2", "windows-nt-4.0"]
    for name in written:
        json.loads((out / name).read_text(encoding="utf-8"))
    again = tmp_path / "again"
    good = [str(p) for p in articles if p.name != "Q319420.TXT"][:3]
    assert main(["kb", "import", *good, "-o", str(again)]) == 0
    assert len(list(again.glob("*.json"))) == 3


def test_a_path_in_the_name_column_and_a_service_pack_line_above_the_table() -> None:
    text = read_article(ARCHIVE / "Q156348.TXT")
    text = text.replace("231,120  Srv.sys", r"231,120  %Windir%\System32\drivers\Srv.sys")
    text = text.replace(
        "   Date        Time   Version", "Service Pack 6a:\n\n   Date        Time   Version"
    )
    table = _import("Q156348.TXT", text).document["tables"][0]
    (row,) = table["rows"]
    assert (row["name"], row["path"]) == ("Srv.sys", r"%SystemRoot%\System32\drivers\Srv.sys")
    assert row["service_pack"] == 6
    assert "Line 63 ('Service Pack 6a:') gives the table's service pack." in table["note"]
