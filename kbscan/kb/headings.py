"""What a table heading says: which Windows releases, which architecture, which SP.

Headings name releases the way articles do ("For all supported x64-based versions of
Windows XP and of Windows Server 2003", "Windows Server 2003 with Service Pack 1,
Itanium-based versions", "Internet Information Services 5.1"); data/platforms says
which release each name means. A name that looks like a Windows release but that no
platform file knows is an error naming the file to add, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kbscan.model import Arch, Platform

# Processor words of headings and platform columns, for the architectures kbscan scans
# ("Intel" and "i386" are the NT 4.0 era's x86).
ARCH_WORDS = {
    "x86": Arch.X86, "32-bit": Arch.X86, "intel": Arch.X86, "i386": Arch.X86,
    "x64": Arch.X64, "amd64": Arch.X64, "itanium": Arch.IA64, "ia-64": Arch.IA64,
    "ia64": Arch.IA64,
}  # fmt: skip
_ARCH = r"x86|x64|itanium|ia-64|ia64|32-bit|arm64|arm"
_FOR_ALL = re.compile(
    rf"^(?:additional files )?(?:for )?all supported (?P<arch>{_ARCH})[- ]based "
    r"(?:versions|editions) of (?P<os>.+)$",
    re.IGNORECASE,
)
_TAIL = re.compile(
    rf"(?P<arch>{_ARCH})[- ]based (?:versions?|editions?|systems?)\s*$", re.IGNORECASE
)
_SP = re.compile(r"(?:,?\s*with)?\s*(?:service pack\s*|\bsp)(?P<sp>\d)[a-z]?\b", re.IGNORECASE)
_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?(?:of\s+)?|\s+and\s+(?:of\s+)?|\s+or\s+(?:of\s+)?")
_RELEASE_WORDS = re.compile(r"\bwindows\b|\binternet information serv", re.IGNORECASE)


class HeadingError(ValueError):
    """A heading names a release or architecture kbscan has no data for."""


@dataclass(frozen=True)
class Scope:
    """What a table's heading (or the article's "Applies to") implies for its rows."""

    heading: str
    line: int | None
    platforms: tuple[Platform, ...]
    architecture: Arch | None
    service_pack: int | None
    note: str | None = None
    unscanned: tuple[str, ...] = ()  # releases named that kbscan does not scan


def _norm(name: str) -> str:
    name = re.sub(r"\s+", " ", name.strip().lower())
    return re.sub(r"^(?:the |microsoft )+", "", name)


class PlatformNames:
    """Release names as articles write them, mapped to the platforms of data/platforms.

    A release's own names and aliases, the products that run only on it (IIS 5.0 is
    Windows 2000), and the names of releases kbscan does not scan (Windows 95), which
    map to no platform but keep "Windows NT 3.51" from reading as something it is not.
    """

    def __init__(self, platforms: dict[str, Platform], not_scanned: tuple[str, ...] = ()) -> None:
        self.platforms = platforms
        # (alias, platform or None for a release kbscan does not scan, is its own name)
        self.names: list[tuple[str, Platform | None, bool]] = []
        self.unscanned: dict[str, str] = {}
        for p in platforms.values():
            seen = set()
            for alias in (p.name, *p.aliases, *p.products):
                key = _norm(alias)
                if key not in seen:
                    seen.add(key)
                    self.names.append((key, p, key == _norm(p.name)))
        for name in not_scanned:
            key = _norm(name)
            if key not in self.unscanned:
                self.unscanned[key] = name
                self.names.append((key, None, False))
        self.names.sort(key=lambda n: len(n[0]), reverse=True)

    def _matches(self, name: str) -> list[tuple[str, Platform | None, bool]]:
        norm = _norm(name)
        best = [n for n in self.names if norm == n[0] or norm.startswith(n[0] + " ")]
        if not best:
            return []
        return [b for b in best if len(b[0]) == len(best[0][0])]

    def exact(self, name: str) -> bool:
        """Whether a name is, letter for letter, one a release or product goes by."""
        norm = _norm(name)
        return any(alias == norm for alias, _, _ in self.names)

    def not_scanned(self, name: str) -> str | None:
        """The release kbscan does not scan that a name means (Windows 95), if it is one."""
        best = self._matches(name)
        return self.unscanned[best[0][0]] if best and best[0][1] is None else None

    def find(self, name: str, arch: Arch | None) -> tuple[Platform, ...] | None:
        """The platforms a release name means; None when no platform has the name."""
        best = [b for b in self._matches(name) if b[1] is not None]
        if not best:
            return None
        if arch is not None:
            fitting = [b for b in best if b[1] is not None and arch in b[1].architectures]
            if not fitting:
                return ()
            best = fitting
        named = [b for b in best if b[2]]
        chosen = named or best
        return tuple(dict.fromkeys(p for _, p, _ in chosen if p is not None))

    def mentions(self, text: str) -> list[tuple[int, int, tuple[Platform, ...]]]:
        """Every release named in a sentence, longest names first, without overlaps; a
        release kbscan does not scan takes its place with no platform."""
        taken: list[tuple[int, int, tuple[Platform, ...]]] = []
        lowered = text.lower()
        for alias, platform, _is in self.names:
            for m in re.finditer(rf"(?<![\w-]){re.escape(alias)}(?![\w-]|\.\d)", lowered):
                if any(s < m.end() and m.start() < e for s, e, _ in taken):
                    continue
                found = () if platform is None else self.find(text[m.start() : m.end()], None)
                if found is not None:
                    taken.append((m.start(), m.end(), found))
        return sorted(taken, key=lambda t: t[0])

    def unscanned_in(self, text: str) -> list[str]:
        """The releases kbscan does not scan that a text names."""
        out = []
        for start, end, found in self.mentions(text):
            if not found and (name := self.not_scanned(text[start:end])):
                out.append(name)
        return list(dict.fromkeys(out))

    def file_hint(self, name: str) -> str:
        slug = re.sub(r"[^a-z0-9.]+", "-", _norm(name)).strip("-") or "new-platform"
        return f"data/platforms/{slug}.json"

    def known(self) -> str:
        return ", ".join(sorted(p.name for p in self.platforms.values()))


def read_heading(text: str, line: int | None, names: PlatformNames) -> Scope | None:
    """The scope a heading states; None when it names no Windows release at all.

    Raises HeadingError when it names a release or an architecture kbscan does not know.
    """
    heading = text.strip()
    arch: Arch | None = None
    arch_word: str | None = None
    if m := _FOR_ALL.match(heading):
        arch_word, os_part = m.group("arch"), m.group("os")
    elif (m := _TAIL.search(heading)) and _RELEASE_WORDS.search(heading[: m.start()]):
        arch_word, os_part = m.group("arch"), heading[: m.start()].rstrip(" ,")
    else:
        os_part = heading
    if arch_word is not None:
        if arch_word.lower() not in ARCH_WORDS:
            raise HeadingError(
                f"heading {heading!r}: {arch_word} is not an architecture kbscan judges "
                "(x86, x64, IA-64)"
            )
        arch = ARCH_WORDS[arch_word.lower()]
    service_pack = None
    if sp := _SP.search(os_part):
        service_pack = int(sp.group("sp"))
        os_part = (os_part[: sp.start()] + " " + os_part[sp.end() :]).strip(" ,")
    os_part = re.sub(r"\s*\((?:sp\d[a-z]?|rtm)\)", "", os_part, flags=re.IGNORECASE)
    os_part = re.sub(r"(?i)^(?:for|on)\s+", "", os_part.strip()).strip(" :")
    found: list[Platform] = []
    unscanned: list[str] = []
    # a name that holds a comma ("Windows NT Server 4.0, Terminal Server Edition") is
    # one release, not two
    items = [os_part] if names.exact(os_part) else _SPLIT.split(os_part)
    for item in items:
        item = item.strip(" .:")
        if not item:
            continue
        if other := names.not_scanned(item):
            unscanned.append(other)
            continue
        platforms = names.find(item, arch)
        if platforms is None:
            if _RELEASE_WORDS.search(item) and re.match(
                r"(?i)(microsoft )?(windows|internet)", item
            ):
                raise HeadingError(
                    f"heading {heading!r} names {item!r}, which no platform data file "
                    f"describes: add {names.file_hint(item)} (known: {names.known()})"
                )
            continue
        if not platforms:
            raise HeadingError(
                f"heading {heading!r}: {item} has no {arch.value if arch else ''} edition "
                "in kbscan's platform data"
            )
        found.extend(p for p in platforms if p not in found)
    if not found and unscanned:
        return Scope(heading, line, (), arch, service_pack, None, tuple(unscanned))
    if not found:
        return None
    note = None
    if arch is None:
        arches = {a for p in found for a in p.architectures}
        if len(arches) == 1:
            arch = arches.pop()
            note = (
                f"The heading names no architecture; {', '.join(p.name for p in found)} "
                f"exists only as {arch.value} in kbscan's platform data."
            )
    return Scope(heading, line, tuple(found), arch, service_pack, note, tuple(unscanned))
