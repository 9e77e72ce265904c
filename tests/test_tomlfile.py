"""A user's TOML file fails one way: one error naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbscan.errors import InputError
from kbscan.tomlfile import read_toml


def test_a_good_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('name = "change-board"\n', encoding="utf-8")
    assert read_toml(path, InputError, "a policy") == {"name": "change-board"}


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "empty file; not a policy"),
        (b"name = \n", "invalid TOML"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_files_are_one_error_naming_the_file(tmp_path: Path, content: bytes, said: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        read_toml(path, InputError, "a policy")
    assert said in str(raised.value) and "policy.toml" in str(raised.value)


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_toml(tmp_path / "absent.toml", InputError, "a policy")
