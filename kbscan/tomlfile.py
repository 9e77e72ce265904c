"""Read a small TOML file given by the user (a gate policy, a baseline), strictly.

One reader, so every such file fails the same way: one error naming the file (and line),
never a traceback, whatever the file holds.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from kbscan.errors import InputError

MAX_TOML_BYTES = 1024 * 1024


def read_toml(
    path: Path, error: type[InputError], what: str, empty: str | None = None
) -> dict[str, Any]:
    """The parsed file, or ``error`` naming the file (and line) for ``what`` it should be;
    ``empty`` is what to say of an empty file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if len(raw) > MAX_TOML_BYTES:
        raise error(f"larger than 1 MiB; not {what}", path=str(path))
    if not raw.strip():
        raise error(empty or f"empty file; not {what}", path=str(path))
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 (byte {exc.start})", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).split(" (at line")[0]
        raise error(
            f"invalid TOML: {message}", path=str(path), line=getattr(exc, "lineno", None)
        ) from None
