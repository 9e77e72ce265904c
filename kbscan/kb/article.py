"""Turn an archived KB article's text into a KB definition (the data/kb schema).

The article says, in prose and glued tables, everything kbscan needs: the file table per
OS, service pack and architecture; the prerequisite; the restart requirement; and who
the fix is not for. Each part is read by its own small parser; what the text does not
state is either left out (exclusions) or filled conservatively and reported as a warning
(a file's folder, an unstated restart). The result is validated by the same schema as
the bundled files, so an import that succeeds is a KB kbscan can judge with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kbscan.kb.interface import KbError
from kbscan.kb.schema import SCHEMA_VERSION, parse_kb
from kbscan.kb.table_rows import Column, RowError, narrowed, parse_header, row_error
from kbscan.model import KbDefinition, Platform
from kbscan.versions import FileVersion

MAX_ARTICLE_BYTES = 8 * 1024 * 1024

_ARCH_WORDS = {
    "x86": "x86", "32-bit": "x86", "x64": "x64", "itanium": "ia64", "ia-64": "ia64",
    "ia64": "ia64",
}  # fmt: skip
_HEADING_TAIL = re.compile(
    r"(?P<arch>x86|x64|itanium|ia-64|ia64|32-bit)[- ]based (?:versions?|editions?|systems?)\s*$",
    re.IGNORECASE,
)
_FOR_ALL = re.compile(
    r"^for all supported (?P<arch>x86|x64|itanium|ia-64|ia64)[- ]based versions of (?P<os>.+)$",
    re.IGNORECASE,
)
_SP_IN_HEADING = re.compile(r"(?:,?\s*with)?\s*(?:service pack\s*|sp)(?P<sp>\d)\b", re.IGNORECASE)
_SP_WORDS = re.compile(r"Service Pack (\d)", re.IGNORECASE)
_EXCHANGE = re.compile(r"Exchange(?: Server)? (\d{4})", re.IGNORECASE)


def _release_level(heading: Heading, platform: Platform) -> tuple[int, str]:
    """The service pack a heading means when it names none: the release it names."""
    for implied in platform.implied_service_packs:
        if implied.architecture.value == heading.architecture:
            return implied.service_pack, implied.reason
    return 0, f"it is the {platform.name} release without a service pack"


class ArticleError(KbError):
    """The article cannot become a KB definition; names the line where that is known."""


@dataclass(frozen=True)
class Heading:
    line: int
    text: str
    os: str
    service_pack: int | None
    architecture: str


@dataclass(frozen=True)
class _PendingRow:
    heading: Heading
    number: int
    line: str
    columns: tuple[Column, ...]
    found: list[dict[str, str]]
    kept: list[dict[str, str]]


@dataclass
class ImportResult:
    document: dict[str, Any]
    definition: KbDefinition
    warnings: list[str] = field(default_factory=list)


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
    raise ArticleError("neither UTF-8 nor UTF-16 text", path=str(path))


def import_article(
    text: str,
    origin: str,
    platforms: dict[str, Platform],
    paths: dict[str, str] | None = None,
) -> ImportResult:
    """Build and validate a KB definition from an article's text; raises ArticleError."""
    return _Importer(text, origin, platforms, paths or {}).run()


class _Importer:
    def __init__(
        self, text: str, origin: str, platforms: dict[str, Platform], paths: dict[str, str]
    ) -> None:
        self.lines = [line.replace("\u00a0", " ").rstrip() for line in text.splitlines()]
        self.origin = origin
        self.platforms = platforms
        self.paths = {k.lower(): v for k, v in paths.items()}
        self.warnings: list[str] = []

    def fail(self, message: str, line: int | None = None) -> ArticleError:
        return ArticleError(message, path=self.origin, line=line)

    def run(self) -> ImportResult:
        headings_rows = self.tables()
        kb_number = self.kb_number()
        kb_id = f"KB{kb_number}"
        platform = self.platform_of([h for h, _ in headings_rows])
        rows = [self.row_document(h, cells, line, platform) for h, rows in headings_rows
                for line, cells in rows]  # fmt: skip
        prerequisite = self.prerequisite(rows)
        document: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "id": kb_id,
            "title": self.title(),
            "source": self.source(kb_number),
            "platform": platform.id,
            "prerequisite": prerequisite,
            "requires": {"services": self.required_services(platform)},
            "excluded_when": {"products": self.exclusions()},
            "restart": self.restart(platform),
            "installed_evidence": {"hotfix_ids": [kb_id]},
            "file_paths": self.file_paths(rows, platform),
            "files": rows,
        }
        try:
            definition = parse_kb(document, self.origin, self.platforms)
        except KbError as exc:
            raise self.fail(f"the imported definition is invalid: {exc.message}") from None
        return ImportResult(document, definition, self.warnings)

    # --- identity -------------------------------------------------------------------

    def kb_number(self) -> str:
        for line in self.lines:
            if m := re.match(r"^\s*Article ID\s*:\s*(\d{4,8})\s*$", line):
                return m.group(1)
        for line in self.lines:
            if line.startswith("Keywords:") and (m := re.search(r"\bKB(\d{4,8})\b", line)):
                return m.group(1)
        raise self.fail("no KB number (no 'Article ID :' line and no KBnnnnnn keyword)")

    def title(self) -> str:
        for line in self.lines:
            stripped = line.strip()
            if not stripped or stripped.startswith("Notice:"):
                continue
            return stripped
        raise self.fail("the article is empty")

    def source(self, number: str) -> str:
        revision = self.info_field("Revision")
        published = self.info_field("Published on")
        if revision and published:
            return (
                f"Microsoft Knowledge Base article {number}, revision {revision} "
                f"(archived copy, published {published})"
            )
        return f"Microsoft Knowledge Base article {number} (archived copy)"

    def info_field(self, name: str) -> str | None:
        for line in self.lines:
            if m := re.match(rf"^\s*{re.escape(name)}\s*:\s*(.+?)\s*$", line):
                return m.group(1)
        return None

    # --- file tables ------------------------------------------------------------------

    def heading(self, number: int, line: str) -> Heading | None:
        text = line.strip()
        if m := _FOR_ALL.match(text):
            return Heading(number, text, m.group("os").strip(), None,
                           _ARCH_WORDS[m.group("arch").lower()])  # fmt: skip
        tail = _HEADING_TAIL.search(text)
        if tail is None or not text.lower().startswith(("windows", "microsoft windows")):
            return None
        left = text[: tail.start()].rstrip(" ,")
        sp = None
        if sp_match := _SP_IN_HEADING.search(left):
            sp = int(sp_match.group("sp"))
            left = (left[: sp_match.start()] + left[sp_match.end() :]).rstrip(" ,")
        return Heading(number, text, left, sp, _ARCH_WORDS[tail.group("arch").lower()])

    def tables(self) -> list[tuple[Heading, list[tuple[int, dict[str, str]]]]]:
        pending: list[_PendingRow] = []
        tables: list[tuple[Heading, list[_PendingRow]]] = []
        heading: Heading | None = None
        columns: tuple[Column, ...] | None = None
        current: list[_PendingRow] | None = None
        for number, line in enumerate(self.lines, start=1):
            if (h := self.heading(number, line)) is not None:
                self.close_table(heading, current)
                heading, columns, current = h, None, None
                continue
            if line.strip().lower().startswith("file name"):
                if heading is None:
                    raise self.fail("a file table header with no heading above it", number)
                self.close_table(heading, current)
                try:
                    columns = parse_header(line)
                except RowError as exc:
                    raise self.fail(str(exc), number) from None
                current = []
                tables.append((heading, current))
                continue
            if current is None or columns is None or heading is None:
                continue
            if not line.strip() or line.strip().startswith(("Note", "\u2191", "For more")):
                self.close_table(heading, current)
                columns, current = None, None
                continue
            try:
                found, kept = narrowed(line, columns, self.plausibility(heading))
            except RowError as exc:
                raise self.fail(str(exc), number) from None
            if not found:
                raise self.fail(str(row_error(line, columns, found)), number)
            row = _PendingRow(heading, number, line, columns, found, kept)
            current.append(row)
            pending.append(row)
        self.close_table(heading, current)
        if not tables:
            raise self.fail("no file table (no 'File name...' header under an OS heading)")
        resolved = self.resolve(pending)
        return [(h, [(r.number, resolved[id(r)]) for r in rows]) for h, rows in tables]

    def resolve(self, rows: list[_PendingRow]) -> dict[int, dict[str, str]]:
        """Settle rows with several readings by the same file's version for the same
        service pack in the article's other tables: one hotfix build gives a file one
        version on every architecture. What that does not settle is an error."""
        platform = self.platform_of([r.heading for r in rows])
        anchors: dict[tuple[str, int], set[str]] = {}
        for r in rows:
            if len(r.kept) == 1:
                cells = r.kept[0]
                anchors.setdefault(self.file_key(r.heading, cells, platform), set()).add(
                    cells["version"]
                )
        out: dict[int, dict[str, str]] = {}
        for r in rows:
            if len(r.kept) == 1:
                out[id(r)] = r.kept[0]
                continue
            agreeing = [
                cells
                for cells in r.kept
                if cells["version"] in anchors.get(self.file_key(r.heading, cells, platform), ())
            ]
            if len(agreeing) != 1:
                raise self.fail(str(row_error(r.line, r.columns, r.found)), r.number)
            chosen = agreeing[0]
            self.warnings.append(
                f"line {r.number}: {len(r.found)} readings of {r.line.strip()!r}; took "
                f"{chosen['version']}, the version {chosen['name']} has for the same service "
                "pack in the article's other tables"
            )
            out[id(r)] = chosen
        return out

    def file_key(
        self, heading: Heading, cells: dict[str, str], platform: Platform
    ) -> tuple[str, int]:
        return cells["name"].lower(), min(self.allowed_service_packs(heading, cells, platform))

    def close_table(self, heading: Heading | None, rows: list[Any] | None) -> None:
        if heading is not None and rows is not None and not rows:
            raise self.fail(f"the table under {heading.text!r} has no rows", heading.line)

    def plausibility(self, heading: Heading | None) -> Any:
        """A reading is plausible when its version fits the heading's service pack."""
        if heading is None:
            return None
        try:
            platform = self.platform_of([heading])
        except ArticleError:
            return None

        def plausible(cells: dict[str, str]) -> bool:
            version = FileVersion.parse(cells["version"])
            allowed = self.allowed_service_packs(heading, cells, platform)
            if version.build != platform.build:
                return True  # not an OS-build file (MSXML, say): nothing to check against
            return platform.branch_of(version) in allowed

        return plausible

    def allowed_service_packs(
        self, heading: Heading, cells: dict[str, str], platform: Platform
    ) -> set[int]:
        if (req := cells.get("sp_requirement", "")).startswith("SP"):
            return {int(req[2:])}
        if heading.service_pack is not None:
            return {heading.service_pack}
        return {_release_level(heading, platform)[0]}

    def platform_of(self, headings: list[Heading]) -> Platform:
        found: dict[str, Platform] = {}
        for h in headings:
            os_name = re.sub(r"^microsoft\s+", "", h.os, flags=re.IGNORECASE).lower()
            best: tuple[int, Platform] | None = None
            for platform in self.platforms.values():
                for alias in (platform.name, *platform.aliases):
                    a = re.sub(r"^microsoft\s+", "", alias, flags=re.IGNORECASE).lower()
                    if (os_name == a or os_name.startswith(a + " ")) and (
                        best is None or len(a) > best[0]
                    ):
                        best = (len(a), platform)
            if best is None:
                known = ", ".join(sorted(p.name for p in self.platforms.values()))
                raise self.fail(f"no platform definition for {h.os!r} (known: {known})", h.line)
            found[best[1].id] = best[1]
        if len(found) > 1:
            raise self.fail(
                "the tables cover several platforms (" + ", ".join(sorted(found)) + "); "
                "a KB definition holds one"
            )
        return next(iter(found.values()))

    def row_document(
        self, heading: Heading, cells: dict[str, str], line: int, platform: Platform
    ) -> dict[str, Any]:
        sp, note = self.service_pack_of(heading, cells, line, platform)
        row: dict[str, Any] = {
            "heading": heading.text,
            "service_pack": sp,
        }
        if note:
            row["service_pack_note"] = note
        row["architecture"] = heading.architecture
        row["name"] = cells["name"]
        row["version"] = cells["version"]
        if "size" in cells:
            row["size"] = int(cells["size"].replace(",", ""))
        if "date" in cells:
            row["date"] = datetime.strptime(cells["date"], "%d-%b-%Y").date().isoformat()
        if "time" in cells:
            row["time"] = cells["time"]
        row["platform"] = cells.get("platform", heading.architecture)
        branch = cells.get("service_branch", "")
        if m := re.search(r"(GDR|QFE|LDR)$", branch):
            row["service_branch"] = m.group(1)
        return row

    def service_pack_of(
        self, heading: Heading, cells: dict[str, str], line: int, platform: Platform
    ) -> tuple[int, str | None]:
        version = FileVersion.parse(cells["version"])
        stated: list[int] = []
        for value in (cells.get("sp_requirement", ""), cells.get("service_branch", "")):
            if m := re.match(r"SP(\d)", value):
                stated.append(int(m.group(1)))
        if heading.service_pack is not None:
            stated.append(heading.service_pack)
        if len(set(stated)) > 1:
            raise self.fail(
                f"{cells['name']}: the heading and the row name different service packs "
                f"({', '.join(f'SP{s}' for s in sorted(set(stated)))})",
                line,
            )
        if stated:
            return stated[0], None
        level, implied_reason = _release_level(heading, platform)
        note = f"The heading names no service pack: {implied_reason}"
        branch = platform.branch_of(version)
        rng = next((r for r in platform.service_pack_ranges if r.service_pack == branch), None)
        if branch == level and rng is not None:
            note += (
                f"; {version} is in SP{branch}'s revision range "
                f"({rng.first_revision}-{rng.last_revision})"
            )
        elif branch is not None:
            self.warnings.append(
                f"line {line}: {cells['name']} {version} is in SP{branch}'s range, but its "
                f"heading {heading.text!r} is the SP{level} release"
            )
        return level, note + "."

    # --- the prose around the tables ----------------------------------------------------

    def section(self, title: str) -> list[tuple[int, str]]:
        """The non-empty lines after a line equal to ``title``, up to the next blank line."""
        for index, line in enumerate(self.lines):
            if line.strip().lower() == title.lower():
                out: list[tuple[int, str]] = []
                for number in range(index + 1, len(self.lines)):
                    text = self.lines[number].strip()
                    if not text:
                        if out:
                            break
                        continue
                    out.append((number + 1, text))
                return out
        return []

    def prerequisite(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        row_sps = sorted({r["service_pack"] for r in rows})
        for _, text in self.section("Prerequisites"):
            for sentence in re.split(r"(?<=\.)\s+", text):
                sps = sorted({int(n) for n in _SP_WORDS.findall(sentence)})
                if sps and re.search(r"\bmust\b|\brequire", sentence, re.IGNORECASE):
                    missing = [s for s in row_sps if s not in sps]
                    if missing:
                        self.warnings.append(
                            "the prerequisite names " + ", ".join(f"SP{s}" for s in sps)
                            + " but the file table also has "
                            + ", ".join(f"SP{s}" for s in missing)
                        )  # fmt: skip
                    return {"service_packs": sps, "text": sentence, "remedy_service_pack": max(sps)}
        self.warnings.append(
            "no prerequisite stated; the service packs of the file table are used: "
            + ", ".join(f"SP{s}" for s in row_sps)
        )
        return {
            "service_packs": row_sps,
            "text": "Not stated in the article; the service packs of its file table.",
            "remedy_service_pack": max(row_sps),
        }

    def sentences(self) -> list[str]:
        """Sentences line by line (archived articles keep a paragraph on one line), with
        the "Note" label the archive glues in front of notes taken off."""
        out: list[str] = []
        for line in self.lines:
            for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
                sentence = re.sub(r"^Note\s+", "", sentence)
                if sentence:
                    out.append(sentence)
        return out

    def exclusions(self) -> list[dict[str, Any]]:
        out = []
        for sentence in self.sentences():
            if not re.search(r"does not apply to", sentence, re.IGNORECASE):
                continue
            versions = sorted(set(_EXCHANGE.findall(sentence)))
            if versions:
                out.append({"name": "Exchange Server", "versions": versions, "reason": sentence})
            else:
                self.warnings.append(f"not understood, so not applied: {sentence!r}")
        return out

    def required_services(self, platform: Platform) -> list[dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for sentence in self.sentences():
            if not re.search(r"applies only to", sentence, re.IGNORECASE):
                continue
            for known in platform.known_services:
                if any(p.lower() in sentence.lower() for p in known.phrases):
                    found[known.service.name] = {
                        "name": known.service.name,
                        "display_name": known.service.display_name,
                    }
        return list(found.values())

    def restart(self, platform: Platform) -> dict[str, Any]:
        lines = self.section("Restart requirement")
        text = " ".join(t for _, t in lines)
        if not text:
            self.warnings.append("no restart requirement stated; a server restart is assumed")
            return {"services": [], "dependents": False, "process": None, "computer": True,
                    "text": "Not stated in the article."}  # fmt: skip
        lowered = text.lower()
        services = [
            known
            for known in platform.known_services
            if any(p.lower() in lowered for p in known.phrases)
        ]
        must_restart_computer = re.search(
            r"(?<!not have to )(?<!not need to )restart the (computer|server)", lowered
        ) and not re.search(
            r"(do not|don't|does not) (have to|need to) restart the (computer|server)", lowered
        )
        if services and not must_restart_computer:
            return {
                "services": [
                    {"name": k.service.name, "display_name": k.service.display_name}
                    for k in services
                ],
                "dependents": "depend" in lowered,
                "process": services[0].process,
                "computer": False,
                "text": text,
            }
        if not must_restart_computer and re.search(
            r"(do not|don't|does not) (have to|need to) restart", lowered
        ):
            return {"services": [], "dependents": False, "process": None, "computer": False,
                    "text": text}  # fmt: skip
        if "restart" not in lowered:
            self.warnings.append(f"restart requirement not understood: {text!r}")
        return {"services": [], "dependents": False, "process": None, "computer": True,
                "text": text}  # fmt: skip

    def file_paths(self, rows: list[dict[str, Any]], platform: Platform) -> dict[str, str]:
        locations = dict(platform.file_locations)
        out: dict[str, str] = {}
        for row in rows:
            name = row["name"].lower()
            if name in out:
                continue
            if name in self.paths:
                out[name] = self.paths[name]
                continue
            if row["platform"] == "x86" and row["architecture"] != "x86":
                out[name] = f"%SystemRoot%\\SysWOW64\\{name}"
                self.warnings.append(
                    f"{row['name']} is an x86 file in a {row['architecture']} table (WOW64); "
                    f"assumed {out[name]} (give --path {name}=PATH to set it)"
                )
                continue
            folder = locations.get(name) or locations.get("*" + Path(name).suffix)
            if folder is None:
                folder = platform.default_location
                self.warnings.append(
                    f"where {row['name']} lives is not stated; assumed {folder} "
                    f"(give --path {name}=PATH to set it)"
                )
            out[name] = f"{folder}\\{name}"
        return out
