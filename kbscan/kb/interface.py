"""The KB source interface: something that can list and load KB definitions."""

from __future__ import annotations

from abc import ABC, abstractmethod

from kbscan.errors import KbscanError
from kbscan.model import KbDefinition


class KbError(KbscanError):
    """A KB definition is unknown, unreadable or invalid."""


class KbSource(ABC):
    """Where KB definitions come from (bundled files, a user folder, an imported article)."""

    @abstractmethod
    def ids(self) -> list[str]:
        """The KB ids this source can load, sorted."""

    @abstractmethod
    def load(self, kb_id: str) -> KbDefinition:
        """Load and validate one KB; raises KbError naming the file and field."""
