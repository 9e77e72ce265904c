"""KB definitions: the hotfix as data, loaded and validated before anything is judged."""

from kbscan.kb.interface import KbError, KbSource

__all__ = ["KbError", "KbSource"]
