"""Where HostFacts come from before they are judged: a live conversation with a host
(``Collector``, what ``scan`` calls, one implementation per protocol, chosen through
collect/registry.py), or facts read back from files (``FactsSource``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from kbscan.collect.outcome import Collected
from kbscan.errors import InputError
from kbscan.limits import HostDeadline
from kbscan.model import FailureCategory, HostFacts, ReadBy, Target


class Collector(ABC):
    """One host's conversation, bounded by an absolute deadline; build one per worker.

    ``fault`` is how the scan records a host whose conversation crashed in this
    collector (a bug costs that host, never the scan): each protocol names its own.
    """

    fault: ClassVar[FailureCategory]
    read_by: ClassVar[ReadBy]

    @abstractmethod
    def collect(self, target: Target, deadline: HostDeadline) -> Collected:
        """The host's facts (a failure is facts too), the conversation ended by ``deadline``."""

    def fault_for(self, target: Target) -> FailureCategory:
        return self.fault

    def read_by_for(self, target: Target) -> ReadBy:
        """What the facts of a crashed conversation say read the host."""
        return self.read_by


class FactsError(InputError):
    """A facts file, folder or collected binary could not be read as a whole."""


@dataclass(frozen=True)
class FactsBatch:
    """Facts read from one source, and every problem met on the way.

    A bad line does not abort the batch: its host, when the line names one, is still
    present as an UNKNOWN (unparseable facts) record, and the problem is listed so the
    CLI can report it and exit non-zero.
    """

    facts: tuple[HostFacts, ...]
    problems: tuple[InputError, ...] = ()


class FactsSource(ABC):
    @abstractmethod
    def read(self) -> FactsBatch:
        """Read every host's facts; raises FactsError only when nothing can be read."""
