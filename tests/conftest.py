"""Shared fixtures; helpers that tests import live in tests/helpers.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from kbscan.kb.directory import default_source
from kbscan.model import KbDefinition


@pytest.fixture(scope="session")
def kb() -> KbDefinition:
    return default_source().load("KB934709")


# Hypothesis: a quick profile for every test run, and a long one for a fuzz campaign:
#   HYPOTHESIS_PROFILE=fuzz [KBSCAN_FUZZ_EXAMPLES=5000] pytest tests/test_fuzz.py
settings.register_profile("default", max_examples=150, deadline=None, derandomize=True)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("KBSCAN_FUZZ_EXAMPLES", "5000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
