"""Read an article in whatever shape it was saved, into numbered lines and tables.

Real articles come as archive text whose table cells lost their separators, browser
copies with tabs between cells, markdown pages (pipe tables, indented inside list
items, ``<br/>`` in cells, blank filler rows), saved HTML pages, fenced code blocks
whose fixed-width columns lost their spacing, and Microsoft's original fixed-width KB
text. The shape is recognised here, per table, and everything after this module sees
the same two things: prose lines (markdown markup taken off) and tables whose rows keep
the article's line numbers, so every error can name the line a reader should look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from kbscan.kb.table_rows import COLUMNS

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(?<!\w)[_*]{1,3}|[_*]{1,3}(?!\w)")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,200}>")
_SEPARATOR_CELL = re.compile(r"\s*:?-{3,}:?\s*")
_HEADER_LABELS = sorted(COLUMNS, key=len, reverse=True)


@dataclass(frozen=True)
class Line:
    number: int
    text: str  # prose: markdown markup taken off, white space folded
    heading: bool  # a markdown/HTML heading, an underlined line or a bold-only line


@dataclass(frozen=True)
class Table:
    """A table as the article holds it.

    ``cells`` tables (markdown, HTML, tabs) know their cells; ``text`` tables (glued
    archive rows, code blocks, fixed-width text) carry each row's text, split later by
    the shapes of its columns. ``spaced`` says cells are separated by white space.
    """

    line: int
    header: tuple[str, ...] | None  # cells of the header row (cell tables)
    header_text: str | None  # the header line (text tables)
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (line, cells) of cell tables
    text_rows: tuple[tuple[int, str], ...]  # (line, text) of text tables
    spaced: bool = False

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.text_rows)


@dataclass(frozen=True)
class ArticleText:
    lines: tuple[Line, ...]
    tables: tuple[Table, ...]
    shape: str  # markdown, html, original text, archive copy


def clean(text: str) -> str:
    """Prose without markdown or HTML markup: links to their text, no emphasis, no tags."""
    text = text.replace("\u00a0", " ").replace("&nbsp;", " ").replace("&amp;", "&")
    text = _BR.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = re.sub(r"^\s*>\s*(\[![A-Z]+\])?", "", text)
    text = _EMPHASIS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def read_text(raw: str) -> ArticleText:
    """Lines and tables of an article in any of the shapes it comes in."""
    if re.search(r"<(table|html|body)\b", raw[:200_000], re.IGNORECASE):
        numbered = _html_lines(raw)
        shape = "html"
    else:
        numbered = [(n, line) for n, line in enumerate(raw.splitlines(), start=1)]
        shape = _shape_of(raw)
    return _Scanner(numbered).scan(shape)


def _shape_of(raw: str) -> str:
    head = raw.lstrip()[:4000]
    if head.startswith("---") or re.search(r"^#{1,6} ", head, re.MULTILINE):
        return "markdown"
    if re.match(r"DOCUMENT:\s*Q\d+", head):
        return "original text"
    return "archive copy"


class _Scanner:
    def __init__(self, numbered: list[tuple[int, str]]) -> None:
        self.src = [(n, t.replace("\u00a0", " ").rstrip()) for n, t in numbered]
        self.lines: list[Line] = []
        self.tables: list[Table] = []

    def scan(self, shape: str) -> ArticleText:
        i = 0
        src = self.src
        if shape == "markdown" and src and src[0][1].strip() == "---":
            i = self.front_matter()
        while i < len(src):
            stripped = src[i][1].strip()
            if stripped.startswith("```"):
                i = self.fence(i)
                continue
            if _is_pipe_row(stripped) and i + 1 < len(src) and _is_separator(src[i + 1][1]):
                i = self.pipe_table(i)
                continue
            if "\t" in stripped and _text_header(stripped.replace("\t", " ")):
                i = self.tab_table(i)
                continue
            if _text_header(stripped):
                i = self.text_table(i, end=len(src))
                continue
            self.add_line(i)
            i += 1
        return ArticleText(tuple(self.lines), tuple(self.tables), shape)

    def add_line(self, i: int) -> None:
        number, text = self.src[i]
        stripped = text.strip()
        heading = bool(re.match(r"#{1,6}\s", stripped)) or bool(
            re.fullmatch(r"\*\*[^*]+\*\*", stripped)
        )
        if not heading and i + 1 < len(self.src):
            underline = self.src[i + 1][1].strip()
            heading = bool(
                stripped
                and re.fullmatch(r"-{3,}|={3,}", underline)
                and abs(len(underline) - len(stripped)) <= 3
            )
        cleaned = clean(re.sub(r"^#{1,6}\s+", "", stripped))
        if cleaned or not stripped:
            self.lines.append(Line(number, cleaned, heading))

    def front_matter(self) -> int:
        """Keep ``key: value`` lines of the YAML front matter as prose (title, ms.date)."""
        for i in range(1, len(self.src)):
            if self.src[i][1].strip() == "---":
                return i + 1
            self.add_line(i)
        return len(self.src)

    def fence(self, start: int) -> int:
        end = next(
            (
                j
                for j in range(start + 1, len(self.src))
                if self.src[j][1].strip().startswith("```")
            ),
            len(self.src),
        )
        i = start + 1
        while i < end:
            if _text_header(self.src[i][1].strip()):
                i = self.text_table(i, end=end)
            else:
                self.add_line(i)
                i += 1
        return end + 1

    def pipe_table(self, start: int) -> int:
        header = _pipe_cells(self.src[start][1])
        rows: list[tuple[int, tuple[str, ...]]] = []
        i = start + 2
        while i < len(self.src) and _is_pipe_row(self.src[i][1].strip()):
            cells = _pipe_cells(self.src[i][1])
            if any(cells):  # a row of blank cells is markdown's filler, not a file
                rows.append((self.src[i][0], cells))
            i += 1
        self.tables.append(Table(self.src[start][0], header, None, tuple(rows), ()))
        return i

    def tab_table(self, start: int) -> int:
        header = tuple(_cell(c) for c in self.src[start][1].strip().split("\t"))
        rows: list[tuple[int, tuple[str, ...]]] = []
        i = start + 1
        while i < len(self.src) and "\t" in self.src[i][1]:
            rows.append(
                (self.src[i][0], tuple(_cell(c) for c in self.src[i][1].strip().split("\t")))
            )
            i += 1
        self.tables.append(Table(self.src[start][0], header, None, tuple(rows), ()))
        return i

    def text_table(self, start: int, *, end: int) -> int:
        """Rows under a text header, up to the end of the table or of a code block.

        A row that is a heading of the next table (archive copies have no blank line
        between tables) or a "Note" line ends the table; blank lines end it unless the
        next line reads as another row (real tables put x86 and Alpha rows in blocks);
        any other line is a row and must split exactly, so a truncated or garbled row is
        an error, not a skip.
        """
        header = self.src[start][1].strip()
        # A browser copy glues the labels ("File nameFile version"); a code block or the
        # original text separates them, and its rows by white space.
        spaced = not re.search(r"[a-z][A-Z]", header)
        rows: list[tuple[int, str]] = []
        i = start + 1
        while i < end:
            number, text = self.src[i]
            stripped = text.strip()
            if re.fullmatch(r"[-=\s]{3,}", stripped):
                i += 1
                continue
            if not stripped:
                after = next((j for j in range(i, end) if self.src[j][1].strip()), end)
                if rows and spaced and after < end and _row_like(self.src[after][1].strip()):
                    i = after
                    continue
                break
            if _ends_text_table(stripped) or _text_header(stripped):
                break
            if i + 1 < end and re.fullmatch(r"-{3,}|={3,}", self.src[i + 1][1].strip()):
                break  # an underlined heading
            rows.append((number, stripped))
            i += 1
        self.tables.append(Table(self.src[start][0], None, header, (), tuple(rows), spaced=spaced))
        return i


_ROW_START = re.compile(
    r"^(?:\d{1,2}[-/](?:\d{1,2}|[A-Za-z]{3})[-/]\d{2,4}\s|[^\s]+\.[A-Za-z0-9]{1,4}\s)"
)


def _row_like(line: str) -> bool:
    """A line shaped like a file row of a fixed-width table: it starts with a date or a
    file name and carries a version or a size."""
    if _ends_text_table(line) or line.endswith(".") or len(line) > 200:
        return False
    return bool(_ROW_START.match(line)) and bool(
        re.search(r"\s\d+(?:\.\d+){2,3}(?:\s|$)|\s\d{1,3}(?:,\d{3})+(?:\s|$)", line)
    )


def _ends_text_table(line: str) -> bool:
    lowered = line.lower()
    if lowered.startswith(("note", "\u2191", "for more", "#", "|")):
        return True
    if lowered.startswith(("for all supported", "windows ", "microsoft windows")):
        return not re.search(r"\d+\.\d+\.\d+\.\d+", line[:40])
    return False


def _text_header(line: str) -> bool:
    """A file table header written as text: glued, spaced or fixed-width."""
    lowered = re.sub(r"\s+", " ", line.strip().lower())
    if not ("file name" in lowered or "filename" in lowered) or len(lowered) > 200:
        return False
    if not lowered.startswith(("file name", "filename", "date")):
        return False
    pos = 0
    while pos < len(lowered):
        if lowered[pos] == " ":
            pos += 1
            continue
        match = next((label for label in _HEADER_LABELS if lowered.startswith(label, pos)), None)
        if match is None:
            return False
        pos += len(match)
    return "version" in lowered or "size" in lowered


def _is_pipe_row(stripped: str) -> bool:
    """A markdown table row, also when indented inside a list item."""
    s = re.sub(r"^(?:[-*+]|\d+\.)\s+", "", stripped)
    return s.startswith("|") and s.count("|") >= 2


def _is_separator(text: str) -> bool:
    cells = _split_pipes(text)
    return bool(cells) and all(_SEPARATOR_CELL.fullmatch(c) for c in cells)


def _split_pipes(text: str) -> list[str]:
    s = re.sub(r"^(?:[-*+]|\d+\.)\s+", "", text.strip())
    if not s.startswith("|"):
        return []
    s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return re.split(r"(?<!\\)\|", s)


def _pipe_cells(text: str) -> tuple[str, ...]:
    return tuple(_cell(c) for c in _split_pipes(text))


def _cell(text: str) -> str:
    return clean(text.replace("\\|", "|"))


class _HtmlLines(HTMLParser):
    """A saved support page as numbered lines: headings as ``#`` lines, tables as pipe
    rows (with a separator after the first row), block elements as line breaks."""

    _BLOCKS = frozenset({"p", "div", "li", "br", "section", "article", "ul", "ol", "dt", "dd"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[tuple[int, str]] = []
        self.text: list[str] = []
        self.line = 1
        self.skip = 0
        self.heading = 0
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.rows_in_table: list[int] = []
        self.row_line = 0

    def flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self.text)).strip()
        if text:
            prefix = "#" * self.heading + " " if self.heading else ""
            self.out.append((self.line, prefix + text))
        self.text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
            return
        if tag == "table":
            self.flush()
            self.rows_in_table.append(0)
        elif tag == "tr" and self.rows_in_table:
            self.flush()
            self.row, self.row_line = [], self.getpos()[0]
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.line, self.heading = self.getpos()[0], int(tag[1])
        elif tag in self._BLOCKS:
            if self.cell is not None:
                self.cell.append(" ")
            else:
                self.flush()
                self.line = self.getpos()[0]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(re.sub(r"\s+", " ", "".join(self.cell)).strip().replace("|", "\\|"))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.out.append((self.row_line, "|" + "|".join(self.row) + "|"))
            if self.rows_in_table and self.rows_in_table[-1] == 0:
                self.out.append((self.row_line, "|" + "|".join("---" for _ in self.row) + "|"))
            if self.rows_in_table:
                self.rows_in_table[-1] += 1
            self.row = None
        elif tag == "table" and self.rows_in_table:
            self.rows_in_table.pop()
            self.out.append((self.getpos()[0], ""))
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.heading = 0
        elif tag in self._BLOCKS and self.cell is None:
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cell is not None:
            self.cell.append(data)
            return
        if not self.text:
            self.line = self.getpos()[0]
        self.text.append(data)


def _html_lines(raw: str) -> list[tuple[int, str]]:
    parser = _HtmlLines()
    parser.feed(raw)
    parser.close()
    parser.flush()
    return parser.out
