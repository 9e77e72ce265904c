"""Host-supplied text never becomes a formula or a terminal command."""

from __future__ import annotations

import pytest

from kbscan.report.safety import neutralise_csv, printable


@pytest.mark.parametrize(
    "cell", ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "\uff1dcmd"]
)
def test_formula_starts_get_an_apostrophe(cell: str) -> None:
    assert neutralise_csv(cell) == "'" + cell


def test_plain_text_is_left_alone() -> None:
    assert neutralise_csv("smtp01.corp.example.com") == "smtp01.corp.example.com"


def test_control_characters_cannot_reach_the_terminal() -> None:
    assert printable("host\x1b[2J01\x07") == "host\ufffd[2J01\ufffd"
    assert printable("a b") == "a b"
