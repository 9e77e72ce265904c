"""How Windows spells a hotfix's installed-update record, and how kbscan matches one.

XP and Server 2003 record a hotfix as ``KB893803``, and a re-released one as
``KB893803v2`` or ``KB951376-v2``; Windows NT 4.0 and 2000 record ``Q123456`` under
``HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Hotfix``. A KB file names its own
record (``installed_evidence.hotfix_ids``, data); a host's record matches it by number,
so an installed hotfix never reads as absent for its spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_RECORD = re.compile(r"(?i)^(?:KB|Q)(\d{4,8})(?:[-_]?v\d{1,2})?$")


def record_number(text: str) -> int | None:
    """The article number a record names (``KB951376-v2``, ``Q123456``), if it is one."""
    match = _RECORD.match(text.strip())
    return int(match.group(1)) if match else None


# Microsoft named its articles (and the hotfix records of NT 4.0, 2000 and early XP)
# Q<number> until mid-2003, KB<number> since: no Q record names a later article.
LAST_Q_NUMBER = 830_000
_LEADING = re.compile(r"(?i)^(?:KB|Q)\d{4,8}(?!\d)(?:[-_]?v\d{1,2}(?!\d))?")


def listed_record(text: str) -> str | None:
    """The record an update listing names (systeminfo's ``KB958644 - Update``, wmic's
    ``KB925398_WMP64``, ``Q147222``), upper case; None for "File 1" and the like."""
    match = _LEADING.match(text.strip())
    return match.group(0).upper() if match else None


def spellings(hotfix_id: str) -> tuple[str, ...]:
    """The record names Windows writes for one hotfix, most common first, for a lookup
    by name (each costs a registry open over SMB, so only the spellings seen in the
    field: a second release, and NT 4.0 / 2000's Q number)."""
    number = record_number(hotfix_id)
    if number is None:
        return (hotfix_id,)
    kb = f"KB{number}"
    if number >= LAST_Q_NUMBER:  # articles after mid-2003 were never named Q...
        return (kb, f"{kb}-v2", f"{kb}v2")
    return (kb, f"{kb}-v2", f"{kb}v2", f"Q{number}")


def recorded(records: Iterable[str], hotfix_ids: Iterable[str]) -> bool:
    """Whether any record names one of the hotfixes, by number (or, for an id that is
    not a KB number, letter for letter)."""
    have = {record_number(r) or r.upper() for r in records}
    return any((record_number(h) or h.upper()) in have for h in hotfix_ids)


def matching(records: Iterable[str], hotfix_ids: Iterable[str]) -> list[str]:
    """The records (as written, upper case) that name one of the hotfixes."""
    wanted = {record_number(h) or h.upper() for h in hotfix_ids}
    return sorted({r.upper() for r in records if (record_number(r) or r.upper()) in wanted})
