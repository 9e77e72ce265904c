"""Turn a KB article, in whatever shape it was saved, into a KB definition (schema 2).

The article says, in prose and tables, everything kbscan needs: the file tables per
Windows release, service pack, architecture and branch; the prerequisite; the restart
requirement; and who the fix is not for. article_text.py reads the shape;
table_release.py says which release each table is for; this module reads each table
row by row, and article_prose.py the prose around them. Import is exact or it stops:
every row becomes a row of the definition (or is a blank filler row), every table is
a file table or one of the known kinds left out with a note, and anything else is an
error naming the line. What the article does not state is filled conservatively and
reported as a warning (a file's folder, an unstated restart). The result is validated
by the same schema as the bundled files, so an import that succeeds is a KB kbscan
can judge with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kbscan.kb.article_prose import ArticleProse
from kbscan.kb.article_text import ArticleText, Table, read_text
from kbscan.kb.headings import PlatformNames, Scope
from kbscan.kb.interface import KbError
from kbscan.kb.release_sources import ArticleReleases
from kbscan.kb.row_places import RowPlace, place_of, split_name
from kbscan.kb.schema import SCHEMA_VERSION, parse_kb
from kbscan.kb.table_release import RowBuild, TableRelease
from kbscan.kb.table_rows import (
    Column,
    RowError,
    check_columns,
    column_for,
    date_order,
    narrowed,
    parse_date,
    parse_header,
    parse_time,
    parse_version_cell,
    row_error,
)
from kbscan.model import Arch, ImpliedServicePack, KbDefinition, Platform
from kbscan.versions import FileVersion, VersionError

MAX_ARTICLE_BYTES = 8 * 1024 * 1024

_PLATFORM_LABEL = {Arch.X86: "x86", Arch.X64: "x64", Arch.IA64: "IA-64"}
_MANIFEST_KEYS = frozenset(
    {"file name", "file version", "file size", "date (utc)", "time (utc)", "date", "time",
     "platform", "sha-1 hash", "md5 hash", "service branch"}
)  # fmt: skip


class ArticleError(KbError):
    """The article cannot become a KB definition; names the line where that is known."""


@dataclass(frozen=True)
class _Row:
    line: int
    text: str
    columns: tuple[Column, ...]
    found: list[dict[str, str]]
    kept: list[dict[str, str]]


@dataclass(frozen=True)
class _FileTable:
    table: Table
    scope: Scope
    rows: list[_Row]


@dataclass
class ImportResult:
    document: dict[str, Any]
    definition: KbDefinition
    warnings: list[str] = field(default_factory=list)
    # the article lines that became a row: of a judged table, of a table kept unjudged,
    # or of a table left out; what bench_import.py holds the article's file rows against
    row_lines: frozenset[int] = frozenset()


def read_article(path: Path) -> str:
    try:
        raw = path.read_bytes()[: MAX_ARTICLE_BYTES + 1]
    except OSError as exc:
        raise ArticleError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if len(raw) > MAX_ARTICLE_BYTES:
        raise ArticleError("larger than 8 MiB; not an article", path=str(path))
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = raw.decode(encoding)
            if "\0" not in text:
                return text
        except UnicodeDecodeError:
            continue
    try:
        text = raw.decode("cp1252")  # a page saved by an old browser
    except UnicodeDecodeError:
        raise ArticleError("neither UTF-8, UTF-16 nor Windows-1252 text", path=str(path)) from None
    if "\0" in text or sum(not c.isprintable() and c not in "\r\n\t" for c in text) > 16:
        raise ArticleError("neither UTF-8, UTF-16 nor Windows-1252 text", path=str(path))
    return text


def import_article(
    text: str,
    origin: str,
    platforms: dict[str, Platform],
    paths: dict[str, str] | None = None,
    *,
    not_scanned: tuple[str, ...] = (),
    forced: tuple[str, ...] = (),
) -> ImportResult:
    """Build and validate a KB definition from an article's text; raises ArticleError.

    ``forced`` names the release(s) of an article that names none (``--platform``).
    """
    return _Importer(text, origin, platforms, paths or {}, not_scanned, forced).run()


class _Importer:
    def __init__(
        self,
        text: str,
        origin: str,
        platforms: dict[str, Platform],
        paths: dict[str, str],
        not_scanned: tuple[str, ...] = (),
        forced: tuple[str, ...] = (),
    ) -> None:
        self.origin = origin
        self.article: ArticleText = read_text(text)
        self.lines = self.article.lines
        self.names = PlatformNames(platforms, not_scanned)
        self.platforms = platforms
        self.paths = {k.lower(): v for k, v in paths.items()}
        self.warnings: list[str] = []
        self.warned: set[str] = set()
        self.release = TableRelease(
            ArticleReleases(self.lines, self.names, self.title_or_none()),
            self.names,
            self.fail,
            self.forced_platforms(forced),
        )
        self.date_order = self.article_date_order()
        self.row_lines: set[int] = set()

    def title_or_none(self) -> str:
        """The title, for the release it may name; an empty article fails later, where
        it says it has no file table."""
        try:
            return self.title()
        except ArticleError:
            return ""

    def forced_platforms(self, forced: tuple[str, ...]) -> tuple[Platform, ...]:
        out: list[Platform] = []
        for name in forced:
            found = self.platforms.get(name) or next(iter(self.names.find(name, None) or ()), None)
            if found is None:
                raise self.fail(f"--platform {name!r}: no such release ({self.names.known()})")
            out.append(found)
        return tuple(dict.fromkeys(out))

    def fail(self, message: str, line: int | None = None) -> ArticleError:
        return ArticleError(message, path=self.origin, line=line)

    def warn(self, message: str) -> None:
        if message not in self.warned:
            self.warned.add(message)
            self.warnings.append(message)

    def run(self) -> ImportResult:
        file_tables, left_out = self.tables()
        kb_number = self.kb_number()
        kb_id = f"KB{kb_number}"
        resolved = self.resolve([r for t in file_tables for r in t.rows], file_tables)
        published = {split_name(cells["name"])[1].lower() for cells in resolved.values()}
        judged, not_judged = self.partition(file_tables, resolved)
        tables = [self.table_document(t, resolved, published) for t in judged]
        covered = list(dict.fromkeys(pid for t in tables for pid in t["platforms"]))
        prose = ArticleProse(self.lines, self.names, self.platforms, self.warn)
        requirements, prerequisite_text = prose.prerequisites(covered, tables)
        document: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "id": kb_id,
            "title": self.title(),
            "source": self.source(kb_number),
            "platforms": requirements,
            "prerequisite_text": prerequisite_text,
            "requires": {"services": prose.required_services(covered)},
            "excluded_when": {"products": prose.exclusions()},
            "restart": prose.restart(covered),
            "installed_evidence": {"hotfix_ids": [kb_id]},
            "tables": tables,
            "left_out": left_out,
        }
        if not_judged:
            document["not_judged"] = not_judged
        try:
            definition = parse_kb(document, self.origin, self.platforms)
        except KbError as exc:
            raise self.fail(f"the imported definition is invalid: {exc.message}") from None
        self.row_lines.update(r.line for t in file_tables for r in t.rows)
        return ImportResult(document, definition, self.warnings, frozenset(self.row_lines))

    # --- identity -------------------------------------------------------------------

    def match_line(self, pattern: str) -> re.Match[str] | None:
        compiled = re.compile(pattern, re.IGNORECASE)
        for line in self.lines:
            if m := compiled.search(line.text):
                return m
        return None

    def kb_number(self) -> str:
        for pattern in (
            r"^Article ID\s*:\s*(\d{4,8})$",
            r"^Original KB number\s*:\s*(\d{4,8})\b",
            r"^DOCUMENT\s*:\s*Q(\d{4,8})\b",
            r"^Keywords\s*:.*\bKB(\d{4,8})\b",
            r"^KB(\d{4,8})\b",
        ):
            if m := self.match_line(pattern):
                return m.group(1)
        raise self.fail(
            "no KB number (no 'Article ID :', 'Original KB number:' or 'DOCUMENT:Q' line "
            "and no KBnnnnnn keyword)"
        )

    def title(self) -> str:
        if m := self.match_line(r"^title\s*:\s*(\S.*)$"):
            return m.group(1).strip()
        if self.article.shape in ("markdown", "html"):
            heading = next((x.text for x in self.lines if x.heading and x.text), None)
            if heading:
                return heading
        for line in self.lines:
            if line.text and not line.text.startswith("Notice:"):
                return line.text
        raise self.fail("the article is empty")

    def source(self, number: str) -> str:
        base = f"Microsoft Knowledge Base article {number}"
        revision = self.info_field("Revision")
        published = self.info_field("Published on")
        if revision and published:
            return f"{base}, revision {revision} (archived copy, published {published})"
        if self.article.shape == "markdown":
            date = self.info_field("ms.date")
            return f"{base} (Microsoft support documentation" + (
                f", ms.date {date})" if date else ")"
            )
        if self.article.shape == "original text":
            m = self.match_line(r"^DOCUMENT\s*:\s*Q\d+\s+(\S+)")
            return f"{base} (original KB text" + (f", {m.group(1)})" if m else ")")
        if self.article.shape == "html":
            return f"{base} (saved support page)"
        return f"{base} (archived copy)"

    def info_field(self, name: str) -> str | None:
        m = self.match_line(rf"^{re.escape(name)}\s*:\s*(\S.*?)\s*$")
        return m.group(1) if m else None

    # --- tables -----------------------------------------------------------------------

    def tables(self) -> tuple[list[_FileTable], list[dict[str, Any]]]:
        found: list[_FileTable] = []
        left_out: list[dict[str, Any]] = []
        previous_end = 0
        for table in self.article.tables:
            kind = self.kind_of(table)
            last = max([n for n, _ in table.rows] + [n for n, _ in table.text_rows] or [table.line])
            if kind is not None:
                heading = self.nearest_heading_text(table.line, previous_end)
                left_out.append({"line": table.line, "heading": heading, "kind": kind[0],
                                 "note": kind[1]})  # fmt: skip
                self.row_lines.update(n for n, _ in table.rows)
                continue
            columns = self.columns_of(table)
            scope = self.release.decide(
                table.line, previous_end, self.preview_builds(table, columns)
            )
            if table.row_count == 0:
                raise self.fail(f"the table under {scope.heading!r} has no rows", table.line)
            found.append(_FileTable(table, scope, self.read_rows(table, columns, scope)))
            previous_end = last
        if not found:
            raise self.fail("no file table (no 'File name' / 'File version' table)")
        return found, left_out

    def preview_builds(self, table: Table, columns: tuple[Column, ...]) -> list[RowBuild]:
        """The versions of the rows that read one way only, for the release's builds."""
        out = []
        for number, cells in table.rows:
            reading = dict(zip((c.key for c in columns), cells, strict=False))
            if (version := _version(reading)) is not None:
                out.append(RowBuild(number, version))
        for number, text in table.text_rows:
            try:
                found = narrowed(text, columns, spaced=table.spaced)[0]
            except RowError:
                continue
            versions = {v for r in found if (v := _version(r)) is not None}
            if len(versions) == 1:
                out.append(RowBuild(number, versions.pop()))
        return out

    def article_date_order(self) -> str:
        dates = re.findall(r"(?<![\d.])\d{1,2}[-/]\d{1,2}[-/]\d{2,4}(?![\d.])",
                           " ".join(t for table in self.article.tables
                                    for _, t in table.text_rows))  # fmt: skip
        return date_order(dates) or "mdy"

    def kind_of(self, table: Table) -> tuple[str, str] | None:
        """Tables that are not file tables to check, recognised and left out; a table that
        is neither is an error, since a file table in a shape kbscan misreads would
        otherwise vanish."""
        if table.header is None:
            return None
        header = [h.lower() for h in table.header]
        columns = [column_for(h) for h in table.header]
        first_cells = {r[1][0].lower() for r in table.rows if r[1]}
        if (
            len(header) == 2
            and header[0] == "file name"
            and columns[1] is None
            and first_cells <= _MANIFEST_KEYS
        ):
            return (
                "manifest files",
                "Additional file information: the manifest (.manifest), MUM and catalog files "
                "the package installs for servicing, listed one file per block; they carry no "
                "version to check.",
            )
        if any("sr_level" in h for h in header):
            return (
                "version legend",
                "The article's legend of version numbers to service pack and branch; "
                "kbscan's platform data states the same ranges with their source.",
            )
        cells = " ".join(c for r in table.rows for c in r[1]).lower()
        links = "download" in cells or any(h in ("update", "download") for h in header)
        if header and header[0] in ("operating system", "product", "platform") and links:
            return ("download links", "Where to download each package; no file versions.")
        if all(columns) or ("file name" in header and "file version" in header):
            return None
        raise self.fail(
            "a table with the columns " + " | ".join(table.header) + " is neither a file table "
            "(File name, File version, ...) nor a kind kbscan knows to leave out (download "
            "links, an SR_Level version legend, manifest files)",
            table.line,
        )

    def columns_of(self, table: Table) -> tuple[Column, ...]:
        try:
            if table.header is not None:
                columns = []
                for label in table.header:
                    column = column_for(label)
                    if column is None:
                        raise RowError(f"unknown column {label!r} in a file table")
                    columns.append(column)
                check_columns(columns)
                return tuple(columns)
            assert table.header_text is not None
            return parse_header(table.header_text)
        except RowError as exc:
            raise self.fail(str(exc), table.line) from None

    def nearest_heading_text(self, line: int, after: int) -> str:
        for x in reversed(self.lines):
            if after < x.number < line and x.heading and x.text:
                return x.text
        return ""

    def read_rows(self, table: Table, columns: tuple[Column, ...], scope: Scope) -> list[_Row]:
        rows = []
        plausible = self.plausibility(scope)
        for number, cells in table.rows:
            if len(cells) != len(columns):
                raise self.fail(
                    f"the row has {len(cells)} cells but the table has {len(columns)} "
                    f"columns: {' | '.join(cells)}",
                    number,
                )
            reading = {}
            for column, cell in zip(columns, cells, strict=True):
                ok = (column.optional and not cell) or (
                    column.pattern.fullmatch(cell) is not None and column.check(cell)
                )
                if not ok and not (column.key == "version" and parse_version_cell(cell) is None):
                    raise self.fail(
                        f"{column.label} {cell!r} is not a valid {column.label}", number
                    )
                reading[column.key] = cell
            rows.append(_Row(number, " | ".join(cells), columns, [reading], [reading]))
        for number, text in table.text_rows:
            try:
                found, kept = narrowed(text, columns, plausible, spaced=table.spaced)
            except RowError as exc:
                raise self.fail(str(exc), number) from None
            if not found:
                raise self.fail(str(row_error(text, columns, found)), number)
            rows.append(_Row(number, text, columns, found, kept))
        return rows

    def plausibility(self, scope: Scope) -> Callable[[dict[str, str]], bool]:
        """A reading is plausible when its version is of the service pack the heading or
        the row names, on the platforms whose build it carries."""

        implied_sp = _implied(scope)
        implied = {implied_sp.service_pack} if implied_sp else set()

        def plausible(cells: dict[str, str]) -> bool:
            version = _version(cells)
            if version is None:
                return True
            allowed = _stated_service_packs(cells, scope) or implied
            known = [
                p.service_pack_of(version)
                for p in scope.platforms
                if version.build in p.builds and p.service_pack_ranges
            ]
            if not known:
                return True  # not an OS-build file (MSXML, say): nothing to check against
            return any(k is not None and (not allowed or k in allowed) for k in known)

        return plausible

    def resolve(self, rows: list[_Row], tables: list[_FileTable]) -> dict[int, dict[str, str]]:
        """Settle rows with several readings by the same file's version for the same
        service pack in the article's other tables: one hotfix build gives a file one
        version on every architecture. What that does not settle is an error."""
        scope_of = {id(r): t.scope for t in tables for r in t.rows}
        anchors: dict[tuple[str, frozenset[int]], set[str]] = {}
        for r in rows:
            if len(r.kept) == 1:
                cells = r.kept[0]
                key = (cells["name"].lower(), _stated_service_packs(cells, scope_of[id(r)]))
                anchors.setdefault(key, set()).add(cells.get("version", ""))
        out: dict[int, dict[str, str]] = {}
        for r in rows:
            if len(r.kept) == 1:
                out[id(r)] = r.kept[0]
                continue
            agreeing = [
                cells
                for cells in r.kept
                if cells.get("version", "")
                in anchors.get(
                    (cells["name"].lower(), _stated_service_packs(cells, scope_of[id(r)])), ()
                )
            ]
            if len(agreeing) != 1:
                raise self.fail(str(row_error(r.text, r.columns, r.found)), r.line)
            chosen = agreeing[0]
            self.warn(
                f"line {r.line}: {len(r.found)} readings of {r.text.strip()!r}; took "
                f"{chosen['version']}, the version {chosen['name']} has for the same service "
                "pack in the article's other tables"
            )
            out[id(r)] = chosen
        return out

    def partition(
        self, tables: list[_FileTable], resolved: dict[int, dict[str, str]]
    ) -> tuple[list[_FileTable], list[dict[str, Any]]]:
        """Judged tables, one per architecture, and the rows kbscan keeps unjudged."""
        judged: list[_FileTable] = []
        kept: list[dict[str, Any]] = []
        for t in tables:
            by_arch: dict[Arch, list[_Row]] = {}
            others: dict[tuple[str, str], list[_Row]] = {}
            above = ""  # a row that leaves the platform blank is of the block it stands in
            for r in t.rows:
                cells = resolved[id(r)]
                if "platform" in cells and not cells["platform"] and above:
                    cells = resolved[id(r)] = {**cells, "platform": above}
                above = cells.get("platform", "") or above
                place = self.place(t.scope, cells, r.line)
                if place.other is not None:
                    others.setdefault((place.kind, place.other), []).append(r)
                else:
                    assert place.arch is not None
                    by_arch.setdefault(place.arch, []).append(r)
            for arch, rows in by_arch.items():
                judged.append(_FileTable(t.table, replace(t.scope, architecture=arch), rows))
            for (kind, other), rows in others.items():
                kept.append(self.unjudged_document(t, kind, other, rows, resolved))
        if not judged:
            raise self.fail(
                "every file row is for an architecture or release kbscan does not scan ("
                + ", ".join(sorted({t["architecture"] for t in kept}))
                + "): nothing to judge",
                tables[0].table.line,
            )
        return judged, kept

    def place(self, scope: Scope, cells: dict[str, str], line: int) -> RowPlace:
        """Where one row goes: its processor, or what kbscan does not judge."""
        if not scope.platforms:
            return RowPlace(other=", ".join(scope.unscanned), kind="release")
        place = place_of(cells, self.names)
        if place.other is not None:
            return place
        if place.release and not set(place.release) & set(scope.platforms):
            raise self.fail(
                f"the row names {', '.join(p.name for p in place.release)}, but its table is "
                f"for {', '.join(p.name for p in scope.platforms)}",
                line,
            )
        if scope.architecture in (Arch.X64, Arch.IA64) or place.arch is None:
            if scope.architecture is None:
                raise self.fail(
                    f"the table under {scope.heading!r} names no architecture, and "
                    f"{', '.join(p.name for p in scope.platforms)} has several",
                    line,
                )
            return RowPlace(arch=scope.architecture)  # x86 rows of an x64 table are WOW64
        if not any(place.arch in p.architectures for p in scope.platforms):
            raise self.fail(
                f"a {place.arch.value} row, but {', '.join(p.name for p in scope.platforms)} "
                f"has no {place.arch.value} edition in kbscan's platform data",
                line,
            )
        return place

    def unjudged_document(
        self,
        t: _FileTable,
        kind: str,
        other: str,
        rows: list[_Row],
        resolved: dict[int, dict[str, str]],
    ) -> dict[str, Any]:
        scope = t.scope
        had = [p for p in scope.platforms if other in p.other_architectures]
        if kind == "architecture" and not had:
            raise self.fail(
                f"a row for {other}, but {', '.join(p.name for p in scope.platforms)} had no "
                f"{other} release in kbscan's platform data (other_architectures)",
                rows[0].line,
            )
        if kind == "architecture":
            note = (
                f"{', '.join(p.name for p in had)} ran on {other} too; kbscan scans x86, x64 "
                "and IA-64 hosts, so these rows are kept as published and not judged."
            )
        elif kind == "release":
            note = (
                f"{other} is a Windows release kbscan does not scan "
                "(data/releases-not-scanned.json); these rows are kept as published and not "
                "judged."
            )
        else:
            note = (
                f"The article qualifies these files ({other}); kbscan cannot tell which "
                "variant a host runs, so they are kept as published and not judged (the "
                "unqualified rows of the same files are judged)."
            )
        return {
            "heading": scope.heading,
            "line": t.table.line,
            "platforms": [p.id for p in (had if kind == "architecture" else scope.platforms)],
            "architecture": other if kind == "architecture" else "x86",
            "note": note,
            "rows": [self.unjudged_row(resolved[id(r)], r.line) for r in rows],
        }

    def unjudged_row(self, cells: dict[str, str], line: int) -> dict[str, Any]:
        row: dict[str, Any] = {"name": split_name(cells["name"])[1]}
        version = parse_version_cell(cells.get("version", ""))
        row["version"] = version
        row.update(self.described(cells, line))
        row["platform"] = cells.get("platform") or split_name(cells["name"])[2] or ""
        return row

    def described(self, cells: dict[str, str], line: int) -> dict[str, Any]:
        """Size, date and time of a row, as numbers and ISO text."""
        out: dict[str, Any] = {}
        if cells.get("size"):
            out["size"] = int(re.sub(r"[,.]", "", cells["size"]))
        if cells.get("date"):
            out["date"] = parse_date(cells["date"], self.date_order)
        if cells.get("time"):
            try:
                out["time"] = parse_time(cells["time"])
            except RowError as exc:
                raise self.fail(str(exc), line) from None
        return out

    def table_document(
        self, t: _FileTable, resolved: dict[int, dict[str, str]], published: set[str]
    ) -> dict[str, Any]:
        scope = t.scope
        assert scope.architecture is not None
        doc: dict[str, Any] = {
            "heading": scope.heading,
            "line": t.table.line,
            "platforms": [p.id for p in scope.platforms],
            "architecture": scope.architecture.value,
        }
        if scope.note:
            doc["note"] = scope.note
        doc["rows"] = [self.row_document(scope, resolved[id(r)], r.line, published)
                       for r in t.rows]  # fmt: skip
        return doc

    def row_document(
        self, scope: Scope, cells: dict[str, str], line: int, published: set[str]
    ) -> dict[str, Any]:
        assert scope.architecture is not None
        version = self.checked_version(cells, line)
        sp, sp_note = self.service_pack_of(scope, cells, version, line)
        branch, branch_note = self.branch_of(scope, cells, version)
        folder, name, _qualifier = split_name(cells["name"])
        row: dict[str, Any] = {"name": name, "version": str(version) if version else None}
        row.update(self.described(cells, line))
        row["platform"] = cells.get("platform") or _PLATFORM_LABEL[scope.architecture]
        row["service_pack"] = sp
        if sp_note:
            row["service_pack_note"] = sp_note
        if branch:
            row["service_branch"] = branch
        if branch_note:
            row["branch_note"] = branch_note
        row["path"] = (
            _system_root(folder) + "\\" + name if folder else self.path_of(scope, row, published)
        )
        return row

    def checked_version(self, cells: dict[str, str], line: int) -> FileVersion | None:
        text = parse_version_cell(cells.get("version", ""))
        if text is None:
            return None
        try:
            return FileVersion.parse(text)
        except VersionError as exc:
            raise self.fail(
                f"{cells['name']}: {exc}; a file kbscan judges needs its four-part version",
                line,
            ) from None

    def service_pack_of(
        self, scope: Scope, cells: dict[str, str], version: FileVersion | None, line: int
    ) -> tuple[int | None, str | None]:
        stated = _stated_service_packs(cells, scope)
        if len(stated) > 1:
            raise self.fail(
                f"{cells['name']}: the heading and the row name different service packs "
                f"({', '.join(f'SP{s}' for s in sorted(stated))})",
                line,
            )
        if stated:
            return next(iter(stated)), None
        arch = scope.architecture
        implied = _implied(scope)
        names = " and ".join(p.name for p in scope.platforms)
        by_range: dict[int, str] = {}
        if version is not None:
            for p in scope.platforms:
                sp = p.service_pack_of(version)
                if sp is None:
                    continue
                rng = next(
                    r for r in p.service_pack_ranges
                    if r.service_pack == sp and (r.build or p.build) == version.build
                )  # fmt: skip
                by_range[sp] = (
                    f"{version} is build {version.build}, "
                    + (f"SP{sp} of {names}" if sp else f"the release of {names}")
                    if rng.build
                    else f"{version} is in SP{sp}'s revision range "
                    f"({rng.first_revision}-{rng.last_revision})"
                )
        if len(by_range) == 1:
            sp, why = next(iter(by_range.items()))
            if implied is not None and implied.service_pack == sp:
                return sp, f"The heading names no service pack: {implied.reason}; {why}."
            if implied is not None:
                self.warn(
                    f"line {line}: {cells['name']} {version} is in SP{sp}'s range, but the "
                    f"{arch.value if arch else ''} release of {names} is SP{implied.service_pack}"
                )
            return sp, f"The heading names no service pack; {why}."
        if implied is not None:
            return implied.service_pack, f"The heading names no service pack: {implied.reason}."
        if version is None:
            why = "the row has no version"
        elif not any(version.build in p.builds for p in scope.platforms):
            why = f"{version} is not a build of {names}"
        else:
            why = f"{names} states no service pack revision ranges"
        return None, f"The article ties this row to no service pack: {why}."

    def branch_of(
        self, scope: Scope, cells: dict[str, str], version: FileVersion | None
    ) -> tuple[str | None, str | None]:
        if m := re.search(r"(GDR|QFE|LDR|WOW)$", cells.get("service_branch", "")):
            return m.group(1), None
        if version is None:
            return None, None
        found = {p.service_branch_of(version) for p in scope.platforms} - {None}
        if len(found) != 1:
            return None, None
        branch = found.pop()
        rng = next(
            r for p in scope.platforms for r in p.branch_ranges
            if r.build == version.build and r.first_revision <= version.revision <= r.last_revision
        )  # fmt: skip
        return branch, (
            f"{version}: revisions {rng.first_revision}-{rng.last_revision} of build "
            f"{rng.build} are the {branch} branch"
        )

    def path_of(self, scope: Scope, row: dict[str, Any], published: set[str]) -> str:
        name = row["name"]
        if name.lower() in self.paths:
            return self.paths[name.lower()]
        disk_name = name.lower()
        arch = scope.architecture
        wow = arch is not Arch.X86 and (
            row["platform"] == "x86" or row.get("service_branch") == "WOW"
        )
        if wow:
            if disk_name.startswith("w") and disk_name[1:] in published:
                disk_name = disk_name[1:]
                self.warn(
                    f"{name} is the WOW64 copy of {disk_name} (the package's 'W' prefix); "
                    f"assumed %SystemRoot%\\SysWOW64\\{disk_name} (give --path {name}=PATH to "
                    "set it)"
                )
            else:
                self.warn(
                    f"{name} is an x86 file in a {arch.value if arch else ''} table (WOW64); "
                    f"assumed %SystemRoot%\\SysWOW64\\{disk_name} (give --path {name}=PATH to "
                    "set it)"
                )
            return f"%SystemRoot%\\SysWOW64\\{disk_name}"
        folder = None
        for p in scope.platforms:
            locations = dict(p.file_locations)
            folder = locations.get(disk_name) or locations.get("*" + Path(disk_name).suffix)
            if folder:
                break
        if folder is None:
            folder = scope.platforms[0].default_location
            self.warn(
                f"where {name} lives is not stated; assumed {folder} "
                f"(give --path {name}=PATH to set it)"
            )
        return f"{folder}\\{disk_name}"


def _version(cells: dict[str, str]) -> FileVersion | None:
    text = parse_version_cell(cells.get("version", ""))
    if text is None:
        return None
    try:
        return FileVersion.parse(text)
    except VersionError:
        return None


def _system_root(folder: str) -> str:
    """``%Windir%`` and ``C:\\WINNT`` as the ``%SystemRoot%`` the probe expands."""
    return re.sub(r"(?i)^(%windir%|%systemroot%|[a-z]:\\(winnt|windows))", "%SystemRoot%", folder)


def _stated_service_packs(cells: dict[str, str], scope: Scope) -> frozenset[int]:
    stated: set[int] = set()
    for value in (cells.get("sp_requirement", ""), cells.get("service_branch", "")):
        if m := re.match(r"SP(\d)", value):
            stated.add(int(m.group(1)))
    if scope.service_pack is not None:
        stated.add(scope.service_pack)
    return frozenset(stated)


def _implied(scope: Scope) -> ImpliedServicePack | None:
    """The level a release of this architecture started at (x64 2003: SP1), if any."""
    return next(
        (
            i
            for p in scope.platforms
            for i in p.implied_service_packs
            if i.architecture == scope.architecture
        ),
        None,
    )
