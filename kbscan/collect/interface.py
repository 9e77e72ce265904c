"""The facts-source interface: where HostFacts come from before they are judged."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from kbscan.errors import InputError
from kbscan.model import HostFacts


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
