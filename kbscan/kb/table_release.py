"""Which Windows release a file table is for, from wherever the article says it.

In this order of trust: ``--platform`` given by the administrator; the table's own
heading or product line (the nearest above it: a heading, a one-line paragraph such as
``IIS 5.0:``, or the sentence that introduces the table, "The English version of the
IIS 4.0 fix ..."); the applies-to block; the header lines; the title; the prose; and,
when nothing names it, the OS build of the rows' versions (4.0.1381 is Windows NT 4.0).
The first source that names a release decides; the rows' builds then narrow it (an
article for NT 4.0 and 2000 whose table holds 4.0.1381 files is an NT 4.0 table) or
contradict it, and a contradiction, like a heading whose release the applies-to block
does not name, is an error naming both lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from kbscan.kb.article_text import Line
from kbscan.kb.headings import HeadingError, PlatformNames, Scope, read_heading
from kbscan.kb.release_sources import ArticleReleases, Claim
from kbscan.model import Arch, Platform
from kbscan.versions import FileVersion

Fail = Callable[[str, int | None], Exception]
_SP_ONLY = re.compile(r"(?i)(?:for |with )?(?:service pack|sp)\s*(\d)[a-z]?\s*:?")


@dataclass(frozen=True)
class RowBuild:
    line: int
    version: FileVersion


def owners(version: FileVersion, platforms: dict[str, Platform]) -> tuple[Platform, ...]:
    """The releases whose own files carry this version's OS version and build."""
    os_version = f"{version.major}.{version.minor}"
    return tuple(
        p for p in platforms.values() if p.os_version == os_version and version.build in p.builds
    )


class TableRelease:
    """Decides each table's release; one per article."""

    def __init__(
        self,
        releases: ArticleReleases,
        names: PlatformNames,
        fail: Fail,
        forced: tuple[Platform, ...] = (),
    ) -> None:
        self.releases = releases
        self.names = names
        self.fail = fail
        self.forced = forced
        self.previous: Scope | None = None  # the last table's own heading, for the next

    def decide(self, table_line: int, after: int, rows: list[RowBuild]) -> Scope:
        region_start = max(after, self.releases.preamble_end)
        sp_line = self.service_pack_line(table_line, region_start)
        scope = self._decide(table_line, after, region_start, rows)
        if sp_line is None or scope.service_pack is not None:
            return scope
        sp, line, text = sp_line
        note = f"{scope.note or ''} Line {line} ({text!r}) gives the table's service pack.".strip()
        return replace(scope, service_pack=sp, note=note)

    def service_pack_line(self, table_line: int, after: int) -> tuple[int, int, str] | None:
        """A line of its own above the table that names a service pack and nothing else
        ("Service Pack 6a:", "For SP2:"): the level of that table's rows."""
        for x in reversed(self.releases.lines):
            if after < x.number < table_line and (m := _SP_ONLY.fullmatch(x.text)):
                return int(m.group(1)), x.number, x.text
        return None

    def _decide(
        self, table_line: int, after: int, region_start: int, rows: list[RowBuild]
    ) -> Scope:
        own = self.own_heading(table_line, region_start)
        if own is None and self.previous is not None and not self.any_heading(after, table_line):
            own = self.previous  # a second table in the same section
        self.previous = own
        claims = self.claims(own, after, table_line)
        deciding = next((c for c in claims if c.names_any), None)
        built = self.builds(rows)
        if deciding is None:
            if built is None:
                raise self.fail(
                    "no source names the table's Windows release (no heading or product line "
                    "above it, no 'applies to' block, PRODUCT/PROD/VER header, title or prose "
                    "naming a release kbscan knows, and no row whose version is an OS build): "
                    "give --platform NAME (" + self.names.known() + ")",
                    table_line,
                )
            deciding = built
        self.check(deciding, claims, built, rows)
        return self.scope(own, deciding, claims, rows)

    # --- the sources -----------------------------------------------------------------

    def claims(self, own: Scope | None, after: int, before: int) -> list[Claim]:
        out = []
        if self.forced:
            names = ", ".join(p.name for p in self.forced)
            out.append(Claim("--platform", None, f"--platform {names}", self.forced))
        if own is not None:
            out.append(Claim("heading", own.line, own.heading, own.platforms, own.unscanned))
        art = self.releases
        out.extend(c for c in (art.applies_to, art.header, art.title) if c is not None)
        prose = art.prose(after, before) or art.prose(0, 10**9)
        if prose is not None:
            out.append(prose)
        return out

    def own_heading(self, table_line: int, after: int) -> Scope | None:
        """The nearest heading, product line or introducing sentence above the table."""
        region = [x for x in self.releases.lines if after < x.number < table_line]
        lead = _lead_in(region)
        if lead:
            text = " ".join(x.text for x in lead)
            claim = self.releases.claim("heading", lead[0].number, text)
            if claim is not None and _sentence_names_release(text):
                return Scope(text, lead[0].number, claim.platforms, None, None, None,
                             claim.unscanned)  # fmt: skip
        for i in range(len(region) - 1, -1, -1):
            x = region[i]
            if not x.text or not (x.heading or _heading_like(x.text) or _product_line(region, i)):
                continue
            scope = self.read(x)
            if scope is not None:
                return scope
        return None

    def read(self, x: Line) -> Scope | None:
        try:
            return read_heading(_spread_trailing_version(x.text), x.number, self.names)
        except HeadingError as exc:
            claim = self.releases.claim("heading", x.number, x.text)
            if claim is not None:
                return Scope(x.text, x.number, claim.platforms, None, None, None, claim.unscanned)
            if x.heading or _heading_like(x.text):
                raise self.fail(str(exc), x.number) from None
            return None

    def any_heading(self, after: int, before: int) -> bool:
        return any(x.heading and x.text for x in self.releases.lines if after < x.number < before)

    def builds(self, rows: list[RowBuild]) -> Claim | None:
        found: list[Platform] = []
        first: RowBuild | None = None
        for r in rows:
            mine = owners(r.version, self.names.platforms)
            if mine and first is None:
                first = r
            found.extend(p for p in mine if p not in found)
        if not found or first is None:
            return None
        return Claim("builds", first.line, str(first.version), tuple(found))

    # --- agreement --------------------------------------------------------------------

    def check(
        self, deciding: Claim, claims: list[Claim], built: Claim | None, rows: list[RowBuild]
    ) -> None:
        """Two sources that name different Windows versions (4.0 and 5.0; an edition of
        the same version, Terminal Server Edition of NT 4.0, is no disagreement) disagree;
        so does a row whose OS build is of a version the deciding source does not name."""
        if not deciding.platforms:
            return
        trusted = {"--platform", "heading", "applies to", "header"}
        for other in claims:
            if other is deciding or other.source not in trusted or not other.platforms:
                continue
            if not {p.os_version for p in other.platforms} & {
                p.os_version for p in deciding.platforms
            }:
                raise self.fail(
                    f"{deciding.where()} names {deciding.release_names()}, but "
                    f"{other.where()} names {other.release_names()}: correct the article or "
                    "give --platform NAME",
                    deciding.line,
                )
            if deciding.source in ("--platform", "heading"):
                break  # the heading is checked against the next source that names one
        if built is None:
            return
        versions = {p.os_version for p in deciding.platforms}
        for r in rows:
            mine = owners(r.version, self.names.platforms)
            if mine and not {p.os_version for p in mine} & versions:
                raise self.fail(
                    f"{deciding.where()} names {deciding.release_names()}, but the row at "
                    f"line {r.line} is {r.version}, build {r.version.build} of "
                    f"{', '.join(p.name for p in mine)}: correct the article or give "
                    "--platform NAME",
                    r.line,
                )

    def scope(
        self, own: Scope | None, deciding: Claim, claims: list[Claim], rows: list[RowBuild]
    ) -> Scope:
        platforms = deciding.platforms
        built = {p.os_version for r in rows for p in owners(r.version, self.names.platforms)}
        narrowed = tuple(p for p in platforms if p.os_version in built) if built else platforms
        by_heading = own is not None and deciding.source == "heading"
        if own is not None and by_heading and narrowed == platforms:
            return own  # the heading says it all, with its own note
        arch = own.architecture if own is not None and by_heading else None
        if arch is None:
            arches = {a for p in narrowed for a in p.architectures}
            arch = arches.pop() if len(arches) == 1 else None
        note = _note(deciding, narrowed, arch)
        service_pack = own.service_pack if own is not None and deciding is claims[0] else None
        heading = own.heading if own is not None and by_heading else deciding.text
        return Scope(heading, deciding.line, narrowed, arch, service_pack, note,
                     deciding.unscanned)  # fmt: skip


def _note(deciding: Claim, platforms: tuple[Platform, ...], arch: Arch | None) -> str:
    names = ", ".join(p.name for p in platforms)
    only = (
        f", which exists only as {arch.value} in kbscan's platform data."
        if arch is not None
        else "."
    )
    if deciding.source == "applies to" and set(platforms) == set(deciding.platforms):
        return f"The table has no heading; the article applies to {names}" + only
    if deciding.source == "builds":
        return (
            f"The article names no Windows release; the rows' versions are builds of {names} "
            f"(line {deciding.line}: {deciding.text})" + only
        )
    where = f"{deciding.where()} names {deciding.release_names()}"
    if set(platforms) != set(deciding.platforms):
        where += f"; the rows' builds are {names}'s"
    return f"The table's release comes from {where}" + only


def _lead_in(region: list[Line]) -> list[Line]:
    """The paragraph that stands directly above the table."""
    lead: list[Line] = []
    for x in reversed(region):
        if not x.text:
            if lead:
                break
            continue
        lead.insert(0, x)
    return lead


def _sentence_names_release(text: str) -> bool:
    """An introducing sentence ("The English version of the IIS 4.0 fix should have the
    following file attributes ...") names the release of the table it introduces."""
    return bool(
        re.search(r"(?i)\b(fix|update|patch|hotfix|files?)\b", text)
    ) and text.rstrip().endswith(":")


def _product_line(region: list[Line], i: int) -> bool:
    """A one-line paragraph that is a name, not a sentence: ``IIS 5.0:``."""
    text = region[i].text
    alone = (i == 0 or not region[i - 1].text) and (i + 1 >= len(region) or not region[i + 1].text)
    return (
        alone
        and len(text) <= 80
        and not text.endswith(".")
        and not re.match(r"(?i)^(q\d{5,7}\b|kb\d{5,8}\b|http|www\.|-\s*http)", text)
    )


def _heading_like(text: str) -> bool:
    """A plain line that reads as a table heading (archive copies have no markup)."""
    if len(text) > 160 or text.endswith("."):
        return False
    return bool(
        re.match(r"(?i)^(?:for )?all supported ", text)
        or re.search(r"(?i)(x86|x64|itanium|ia-64|ia64)[- ]based (versions?|editions?|systems?)$",
                     text)
    )  # fmt: skip


_OR_VERSION = re.compile(
    r"^(?P<a>[A-Za-z][A-Za-z ]+?) or (?P<b>[A-Za-z ]+?) (?P<v>\d+(?:\.\d+)+)(?P<rest>.*)$"
)


def _spread_trailing_version(text: str) -> str:
    """'Windows NT Server or Workstation 4.0' names 'Windows NT Server 4.0' too."""
    m = _OR_VERSION.match(text)
    if m is None:
        return text
    a, b, v = m.group("a"), m.group("b"), m.group("v")
    return f"{a} {v} or {b} {v}{m.group('rest')}"
