"""Where an article names its Windows release, outside its file tables.

Microsoft's original KB texts name the release in many places, each worded its own
way: the ``The information in this article applies to:`` block (``- Microsoft Windows
NT Server versions 4.0, 4.0 SP6, Terminal Server Edition``), the ``PRODUCT :`` and
``PROD/VER:`` header lines (``PROD/VER:WINDOWS:2000``), the title, the prose. Each is a
``Claim``: the releases it names, the releases kbscan does not scan that it names, and
the line it stands on, so that a table's note can say which source decided and an error
can name both lines of two sources that disagree.

Names are looked up through data/platforms (release names, editions, and products that
run on one release such as IIS 5.0); a product's version list is spread over its name
("Internet Information Server versions 4.0, 5.0" names IIS 4.0 and IIS 5.0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kbscan.kb.article_text import Line
from kbscan.kb.headings import PlatformNames
from kbscan.model import Platform

_APPLIES_TO = re.compile(
    r"^(?:the information in this article applies to|applies to)\s*:?\s*(.*)$", re.IGNORECASE
)
_HEADER = re.compile(r"^(PRODUCT|PROD/VER|TITLE)\s*:(.*)$")
_VERSION_WORD = re.compile(r"\bversions?\s*:?\s+", re.IGNORECASE)
_VERSION_TOKEN = re.compile(r"^\s*(\d+(?:\.\d+)*)(?![\w.])")
_TAGS = {"winnt": "Windows NT", "windows": "Windows", "win95x": "Windows 95", "iis": "IIS"}


@dataclass(frozen=True)
class Claim:
    """What one place of the article says the release is."""

    source: str  # "heading", "applies to", "header", "title", "prose", "builds", "--platform"
    line: int | None
    text: str
    platforms: tuple[Platform, ...]
    unscanned: tuple[str, ...] = ()

    @property
    def names_any(self) -> bool:
        return bool(self.platforms or self.unscanned)

    def where(self) -> str:
        at = f"line {self.line}" if self.line is not None else "the command line"
        return f"the {self.source} ({at}: {self.text.strip()[:90]!r})"

    def release_names(self) -> str:
        return ", ".join([p.name for p in self.platforms] + list(self.unscanned))


@dataclass(frozen=True)
class VersionList:
    """``Windows NT Server versions 4.0, 4.0 SP6, Terminal Server Edition``, in parts."""

    start: int
    end: int
    family: tuple[str, ...]  # the words of the product name before "version(s)"
    versions: tuple[str, ...]
    edition: str | None  # a trailing "..., Terminal Server Edition"

    def candidates(self, version: str) -> list[str]:
        """The names this list spells for one version, most specific first: with the
        edition, then the product name shortened a word at a time, so that an edition
        word between the name and the version ("Windows NT Server, Enterprise Edition
        version 4.0") does not hide the release."""
        names = []
        for suffix in ([f" {self.edition}"] if self.edition else []) + [""]:
            for k in range(len(self.family), 0, -1):
                names.append(" ".join(self.family[:k]).rstrip(",") + f" {version}{suffix}")
        return names


def version_lists(text: str) -> list[VersionList]:
    out = []
    for m in _VERSION_WORD.finditer(text):
        head = text[: m.start()]
        cut = max((b.end() for b in re.finditer(r"(?:^|\s)[-;(]\s*|:\s*", head)), default=0)
        family = tuple(head[cut:].strip(" ,").split()[-7:])
        versions: list[str] = []
        edition = None
        end = m.end()
        for piece in re.finditer(r"[^,]+", text[m.end() : m.end() + 200]):
            token = _VERSION_TOKEN.match(piece.group())
            if token is None:
                if re.fullmatch(r"\s*[\w ]+ Edition\s*", piece.group()):
                    edition = piece.group().strip()
                    end = m.end() + piece.end()
                break
            versions.append(token.group(1))
            end = m.end() + piece.start() + token.end()
        if family and versions:
            out.append(VersionList(cut, end, family, tuple(dict.fromkeys(versions)), edition))
    return out


class ArticleReleases:
    """The article-wide claims: applies-to block, header lines, title, prose."""

    def __init__(self, lines: tuple[Line, ...], names: PlatformNames, title: str) -> None:
        self.lines = lines
        self.names = names
        self.preamble_end = 0  # tables' own headings are looked for below this line
        self.applies_to = self._applies_to()
        self.header = self._header()
        self.title = self._title(title)

    def claim(self, source: str, line: int | None, text: str) -> Claim | None:
        """The releases a text names, as a claim of ``source``; None when it names none."""
        found, unscanned = self.releases(text)
        if not found and not unscanned:
            return None
        return Claim(source, line, text, tuple(dict.fromkeys(found)), tuple(unscanned))

    def releases(self, text: str) -> tuple[list[Platform], list[str]]:
        """Releases named by each version list (the first spelling that names one),
        then by the rest of the text."""
        found: list[Platform] = []
        unscanned: list[str] = []
        # "Internet Information Server (IIS) 5.0": the acronym in parentheses splits a name
        text = re.sub(r"\s\([A-Z]{2,5}\)(?=\s)", "", text)
        rest = text
        for vl in version_lists(text):
            hit = False
            for version in vl.versions:
                for candidate in vl.candidates(version):
                    if other := self.names.not_scanned(candidate):
                        unscanned.append(other)
                    elif self.names.exact(candidate):
                        found.extend(self.names.find(candidate, None) or ())
                    else:
                        continue
                    hit = True
                    break
            if hit:
                rest = rest[: vl.start] + " " * (vl.end - vl.start) + rest[vl.end :]
        platforms, others = self.mentioned(rest)
        return found + platforms, list(dict.fromkeys(unscanned + others))

    def mentioned(self, text: str) -> tuple[list[Platform], list[str]]:
        return (
            [p for _, _, ps in self.names.mentions(text) for p in ps],
            self.names.unscanned_in(text),
        )

    def _applies_to(self) -> Claim | None:
        """Each item of the applies-to block; the block ends at its closing rule."""
        for index, x in enumerate(self.lines):
            m = _APPLIES_TO.match(x.text)
            if not m:
                continue
            items: list[Line] = [x] if m.group(1) else []
            for y in self.lines[index + 1 : index + 40]:
                # an item as long as the closing rule reads as underlined: still an item
                if re.fullmatch(r"[-=_]{3,}", y.text) or (
                    y.heading and y.text and not y.text.startswith("-")
                ):
                    self.preamble_end = y.number
                    break
                if y.text:
                    items.append(y)
                self.preamble_end = y.number
            claims = [c for y in items if (c := self.claim("applies to", y.number, y.text))]
            if not claims:
                continue
            return Claim(
                "applies to",
                claims[0].line,
                claims[0].text,
                tuple(dict.fromkeys(p for c in claims for p in c.platforms)),
                tuple(dict.fromkeys(u for c in claims for u in c.unscanned)),
            )
        return None

    def _header(self) -> Claim | None:
        """``PRODUCT :Microsoft Windows NT`` with ``PROD/VER::4.0,4.0 SP6``: the product
        named with each version; a ``winnt:`` or ``WINDOWS:`` tag names its own product."""
        fields: dict[str, tuple[int, str]] = {}
        for x in self.lines[:12]:
            if m := _HEADER.match(x.text):
                fields[m.group(1)] = (x.number, m.group(2).strip())
        if "PROD/VER" not in fields:
            return None
        line, prod_ver = fields["PROD/VER"]
        product = fields.get("PRODUCT", (line, ""))[1]
        names = []
        for group in prod_ver.split(";"):
            tag, _, versions = group.strip().rpartition(":")
            family = _TAGS.get(tag.strip(" :").lower(), product) if tag.strip(" :") else product
            names.append(f"{family} versions {versions}")
        return self.claim("header", line, "; ".join(names))

    def _title(self, title: str) -> Claim | None:
        line = next((x.number for x in self.lines if title and title in x.text), None)
        return self.claim("title", line, title) if title else None

    def prose(self, after: int, before: int) -> Claim | None:
        """The first line of prose between two lines that names a release."""
        for x in self.lines:
            if not (after < x.number < before and x.number > self.preamble_end and x.text):
                continue
            if claim := self.claim("prose", x.number, x.text):
                return claim
        return None
