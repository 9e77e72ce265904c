"""Shared fixtures; helpers that tests import live in tests/helpers.py."""

from __future__ import annotations

import pytest

from kbscan.kb.directory import default_source
from kbscan.model import KbDefinition


@pytest.fixture(scope="session")
def kb() -> KbDefinition:
    return default_source().load("KB934709")
