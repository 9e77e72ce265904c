"""Where kbscan's bundled data lives, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path


def data_dir() -> Path:
    """The bundled data folder: ``kbscan/data`` when installed, ``data/`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data", here.parent / "data"):
        if (candidate / "kb").is_dir():
            return candidate
    raise FileNotFoundError(f"kbscan's data folder is missing (looked in {here / 'data'})")
