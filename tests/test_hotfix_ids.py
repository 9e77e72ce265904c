"""Installed-update record spellings, matched by number."""

from __future__ import annotations

import pytest

from kbscan.hotfix_ids import matching, record_number, recorded, spellings


@pytest.mark.parametrize(
    ("text", "number"),
    [("KB893803", 893803), ("KB893803v2", 893803), ("KB951376-v2", 951376), ("kb951376-V3", 951376),
     ("Q123456", 123456), ("q319733", 319733), ("KB2492386", 2492386)],
)  # fmt: skip
def test_record_number(text: str, number: int) -> None:
    assert record_number(text) == number


@pytest.mark.parametrize("text", ["", "KB", "SP3", "KB12-34", "Q1234567890", "Package_for_KB981506", "KB934709x"])
def test_not_a_record(text: str) -> None:
    assert record_number(text) is None


def test_matched_by_number_never_by_prefix() -> None:
    assert recorded(["Q319733"], ["KB319733"])
    assert recorded(["KB934709-v2"], ["KB934709"])
    assert not recorded(["KB9347091"], ["KB934709"])
    assert not recorded([], ["KB934709"])
    assert matching(["KB934709-v2", "KB111111", "Q934709"], ["KB934709"]) == ["KB934709-V2", "Q934709"]


def test_spellings_for_a_lookup_by_name() -> None:
    # an article of 2007: it was never named Q934709, so no lookup is spent on that name
    assert spellings("KB934709") == ("KB934709", "KB934709-v2", "KB934709v2")
    # an article of 2000, recorded as Q323255 on NT 4.0 / 2000 and KB323255 later
    assert spellings("KB323255") == ("KB323255", "KB323255-v2", "KB323255v2", "Q323255")
