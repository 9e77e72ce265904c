"""KB definitions kept as JSON files in folders: the bundled data/kb and a user folder."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from kbscan.kb.interface import KbError, KbSource
from kbscan.kb.schema import parse_kb, parse_not_scanned, parse_platform, read_json
from kbscan.model import KbDefinition, Platform
from kbscan.paths import data_dir

KB_DIR_ENV = "KBSCAN_KB_DIR"
_KB_ID = re.compile(r"^KB\d{1,8}$")


class DirectoryKbSource(KbSource):
    """Loads ``KBnnnnnn.json`` from folders, earlier folders first.

    A user folder placed before the bundled one lets an administrator add or correct a
    KB without touching the installed package.
    """

    def __init__(self, kb_dirs: list[Path], platform_dir: Path) -> None:
        self._kb_dirs = kb_dirs
        self._platform_dir = platform_dir
        self._platforms: dict[str, Platform] | None = None
        self._not_scanned: tuple[str, ...] | None = None

    def ids(self) -> list[str]:
        found: set[str] = set()
        for folder in self._kb_dirs:
            if folder.is_dir():
                found.update(p.stem for p in folder.glob("KB*.json") if _KB_ID.match(p.stem))
        return sorted(found, key=lambda k: int(k[2:]))

    def path_of(self, kb_id: str) -> Path:
        normalised = kb_id.strip().upper()
        if normalised.isdigit():
            normalised = "KB" + normalised
        if not _KB_ID.match(normalised):
            raise KbError(f"{kb_id!r} is not a KB id such as KB934709")
        for folder in self._kb_dirs:
            candidate = folder / f"{normalised}.json"
            if candidate.is_file():
                return candidate
        known = ", ".join(self.ids()) or "none"
        raise KbError(f"unknown KB {normalised} (known: {known})")

    def load(self, kb_id: str) -> KbDefinition:
        path = self.path_of(kb_id)
        kb = parse_kb(read_json(path), str(path), self.platforms())
        if kb.id != path.stem:
            raise KbError(f"id {kb.id!r} does not match the file name", path=str(path))
        return replace(kb, origin=str(path))

    def platforms(self) -> dict[str, Platform]:
        if self._platforms is None:
            platforms: dict[str, Platform] = {}
            for path in sorted(self._platform_dir.glob("*.json")):
                platform = parse_platform(read_json(path), str(path))
                platforms[platform.id] = platform
            self._platforms = platforms
        return self._platforms

    def not_scanned(self) -> tuple[str, ...]:
        """Names of the Windows releases articles name that kbscan does not scan."""
        if self._not_scanned is None:
            path = self._platform_dir.parent / "releases-not-scanned.json"
            self._not_scanned = (
                parse_not_scanned(read_json(path), str(path)) if path.is_file() else ()
            )
        return self._not_scanned


def default_source(extra_dir: Path | None = None) -> DirectoryKbSource:
    """The user folder (``--kb-dir`` or $KBSCAN_KB_DIR) first, then the bundled KBs."""
    dirs: list[Path] = []
    if extra_dir is not None:
        dirs.append(extra_dir)
    elif os.environ.get(KB_DIR_ENV):
        dirs.append(Path(os.environ[KB_DIR_ENV]))
    bundled = data_dir()
    dirs.append(bundled / "kb")
    return DirectoryKbSource(dirs, bundled / "platforms")
