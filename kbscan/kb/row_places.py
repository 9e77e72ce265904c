"""Where a row of a file table belongs: a table kbscan judges, or rows it keeps unjudged.

Tables of the NT 4.0 / 2000 era list one file per processor ("Intel", "i386",
"Alpha", "MIPS", "PPC") or per operating system ("Windows NT", "Windows 95/98/ME"),
in a platform column or in parentheses after the name ("Shell32.dll (Windows 95)",
"Lsasrv.dll (56-bit)"). kbscan scans x86, x64 and IA-64 hosts of the releases in
data/platforms; every other row is kept in the KB file as published, with the reason
it is not judged, and never lands under an x86 table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kbscan.kb.headings import ARCH_WORDS, PlatformNames
from kbscan.model import Arch, Platform

OTHER_WORDS = {"alpha": "Alpha", "mips": "MIPS", "ppc": "PowerPC", "powerpc": "PowerPC"}
_QUALIFIER = re.compile(r"^(?P<name>.*?\S) ?\((?P<what>[^()]{1,60})\)$")


@dataclass(frozen=True)
class RowPlace:
    """A row's processor or release, as its cells name it."""

    arch: Arch | None = None  # a processor kbscan scans; None: the table's own
    other: str | None = None  # what kbscan does not judge: "Alpha", "Windows 95", "56-bit"
    kind: str = ""  # "architecture", "release" or "variant" for ``other``
    release: tuple[Platform, ...] = ()  # a release the platform cell names ("Windows NT")


def split_name(cell: str) -> tuple[str | None, str, str | None]:
    """(folder, file name, qualifier) of a name cell: ``%Windir%\\System32\\Ism.dll``,
    ``Lsasrv.dll (56-bit)``."""
    qualifier = None
    if m := _QUALIFIER.match(cell):
        cell, qualifier = m.group("name"), m.group("what").strip()
    folder, sep, name = cell.rpartition("\\")
    return (folder if sep else None), name, qualifier


def place_of(cells: dict[str, str], names: PlatformNames) -> RowPlace:
    """What the platform cell, or a qualifier after the name, says of the row."""
    _folder, _name, qualifier = split_name(cells.get("name", ""))
    for text in (cells.get("platform", ""), qualifier or ""):
        place = _read(text.strip().strip("()").strip(), names)
        if place is not None:
            return place
    if qualifier:
        return RowPlace(other=qualifier, kind="variant")
    return RowPlace()


def _read(text: str, names: PlatformNames) -> RowPlace | None:
    lowered = text.lower()
    if not lowered or re.fullmatch(r"not (applicable|available)", lowered):
        return None
    if lowered in ARCH_WORDS:
        return RowPlace(arch=ARCH_WORDS[lowered])
    if lowered in OTHER_WORDS:
        return RowPlace(other=OTHER_WORDS[lowered], kind="architecture")
    if other := names.not_scanned(text):
        return RowPlace(other=other, kind="release")
    found = [p for _, _, ps in names.mentions(text) for p in ps]
    if found:
        return RowPlace(release=tuple(dict.fromkeys(found)))
    if lowered.startswith("windows"):
        # "Windows NT" beside "Windows 95/98/ME": the NT family, whose release the table
        # itself states
        return RowPlace()
    return None
