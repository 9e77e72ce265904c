"""What a gate verdict was judged from, by digest: the facts, each KB file, the policy,
the exemptions and the baseline, so that an auditor can prove later which files the
change board's PASSED rested on."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def sha256_of(path: Path) -> str:
    """A file's digest; a folder's is over its files' names and contents, in order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(str(f.relative_to(path)).encode() + b"\0")
        with f.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def input_digests(paths: Iterable[Path | str | None]) -> tuple[tuple[str, str], ...]:
    """(path as given, sha256) of each input that was given, in order."""
    return tuple((str(p), sha256_of(Path(p))) for p in paths if p is not None)
