"""What any collector hands the scan for one host, and how it says a host failed.

Every protocol (WinRM, SMB) ends a conversation the same way: facts (a failure is facts
too), the round trips it took, whether a retry could help, and whether anything
listened at all, which is what lets ``--protocol auto`` try another protocol without
ever retrying credentials a host refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from kbscan.model import FailureCategory, HostFacts


@dataclass(frozen=True)
class Collected:
    facts: HostFacts
    round_trips: int
    transient: bool  # worth retrying (connection refused or reset)
    answered: bool = True  # something listened on the port (False: refused, unroutable, silent)


class HostFailure(Exception):
    """Raised inside a collector to end one host's conversation with a category."""

    def __init__(self, category: FailureCategory, message: str, transient: bool = False):
        super().__init__(message)
        self.category = category
        self.message = message
        self.transient = transient
