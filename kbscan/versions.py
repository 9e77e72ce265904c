"""Windows file versions: four unsigned 16-bit numbers, compared as numbers.

String comparison puts 6.0.3790.950 above 6.0.3790.4094, which is exactly the mistake a
compliance scanner must not make, so every version kbscan handles goes through here.
The binary VS_FIXEDFILEINFO carries the version as two 32-bit words (MS, LS); WMI and
version resources carry text such as ``6.0.3790.4094 (srv03_sp2_qfe.070606-1234)`` whose
tag is the only place Windows Server 2003 says whether a file is on the GDR or QFE branch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kbscan.errors import KbscanError

_PART_MAX = 0xFFFF
# "6.0.3790.4094" or "6, 0, 3790, 4094" (the form resource compilers print), optionally
# followed by a parenthesised build tag.
_VERSION_RE = re.compile(
    r"^\s*(\d{1,5})\s*([.,])\s*(\d{1,5})\s*\2\s*(\d{1,5})\s*\2\s*(\d{1,5})\s*"
    r"(?:\((?P<tag>[^()]*)\))?\s*$",
    re.ASCII,  # "\d" must not accept full-width or other Unicode digits
)
_BRANCH_RE = re.compile(r"_(gdr|qfe|ldr|rtm)\b", re.IGNORECASE)


class VersionError(KbscanError, ValueError):
    """Text that is not a Windows file version."""


@dataclass(frozen=True, order=True)
class FileVersion:
    """A Windows file version; ordering is numeric, part by part."""

    major: int
    minor: int
    build: int
    revision: int

    def __post_init__(self) -> None:
        for part in (self.major, self.minor, self.build, self.revision):
            if not isinstance(part, int) or isinstance(part, bool) or not 0 <= part <= _PART_MAX:
                raise VersionError(f"version part {part!r} is not a number from 0 to 65535")

    @classmethod
    def parse(cls, text: str) -> FileVersion:
        """Parse a version, ignoring any build tag; see :func:`parse_version_text`."""
        return parse_version_text(text).version

    @classmethod
    def from_dwords(cls, ms: int, ls: int) -> FileVersion:
        """Build from VS_FIXEDFILEINFO's FileVersionMS / FileVersionLS words."""
        for word in (ms, ls):
            if not 0 <= word <= 0xFFFFFFFF:
                raise VersionError(f"version word {word!r} is not a 32-bit unsigned number")
        return cls(ms >> 16, ms & _PART_MAX, ls >> 16, ls & _PART_MAX)

    @property
    def dwords(self) -> tuple[int, int]:
        return (self.major << 16) | self.minor, (self.build << 16) | self.revision

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}.{self.revision}"


@dataclass(frozen=True)
class VersionText:
    """A parsed version string: the number, and the build tag Windows put beside it."""

    version: FileVersion
    tag: str | None = None

    @property
    def branch(self) -> str | None:
        """``gdr``, ``qfe``, ``ldr`` or ``rtm`` when the tag names a servicing branch."""
        if self.tag is None:
            return None
        match = _BRANCH_RE.search(self.tag)
        return match.group(1).lower() if match else None

    def __str__(self) -> str:
        return f"{self.version} ({self.tag})" if self.tag else str(self.version)


def parse_version_text(text: str) -> VersionText:
    """Parse ``6.0.3790.4094``, ``6, 0, 3790, 4094`` or either with a ``(tag)``.

    Anything else (three parts, a part above 65535, signs, letters) is a VersionError,
    because a guessed version would silently change a verdict.
    """
    if not isinstance(text, str):
        raise VersionError(f"expected a version as text, got {type(text).__name__}")
    match = _VERSION_RE.match(text)
    if match is None:
        raise VersionError(
            f"{_excerpt(text)!r} is not a Windows file version (four numbers 0-65535)"
        )
    parts = [int(match.group(i)) for i in (1, 3, 4, 5)]
    if any(p > _PART_MAX for p in parts):
        raise VersionError(f"{_excerpt(text)!r} has a part above 65535")
    tag = match.group("tag")
    return VersionText(FileVersion(*parts), tag.strip() or None if tag is not None else None)


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
