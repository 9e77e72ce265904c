"""The digests a verdict records of what it was judged from."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kbscan.gate.inputs import input_digests, sha256_of


def test_a_file_s_digest_is_its_contents_and_a_folder_s_covers_names_and_contents(
    tmp_path: Path,
) -> None:
    facts = tmp_path / "facts.jsonl"
    facts.write_bytes(b'{"host": "a"}\n')
    assert sha256_of(facts) == hashlib.sha256(b'{"host": "a"}\n').hexdigest()
    folder = tmp_path / "collected"
    (folder / "h1").mkdir(parents=True)
    (folder / "h1" / "probe.txt").write_text("one")
    before = sha256_of(folder)
    (folder / "h1" / "probe.txt").write_text("two")
    assert sha256_of(folder) != before
    (folder / "h1" / "probe.txt").write_text("one")
    assert sha256_of(folder) == before
    (folder / "h1" / "probe.txt").rename(folder / "h1" / "other.txt")
    assert sha256_of(folder) != before  # a renamed file is another input


def test_inputs_not_given_are_left_out_in_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("a")
    b.write_text("b")
    assert [p for p, _ in input_digests([a, None, str(b)])] == [str(a), str(b)]
