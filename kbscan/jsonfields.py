"""Strict reading of parsed JSON, with the field path in every error.

KB files, facts lines and collected facts are hostile input: a missing key, a string
where a number belongs or a key nobody knows about must be reported as exactly that
("files[2].version: ..."), never as a KeyError traceback or, worse, silently defaulted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, NoReturn, TypeVar

from kbscan.errors import KbscanError

T = TypeVar("T")


class FieldError(KbscanError):
    """A JSON value is missing, of the wrong type, or not allowed."""


class Fields:
    """A JSON object being read; remembers where it sits so errors can say so."""

    def __init__(self, data: Any, where: str = "", *, allowed: frozenset[str] | None = None):
        if not isinstance(data, dict):
            self._fail_at(where or "top level", f"expected an object, got {_kind(data)}")
        self._data: dict[str, Any] = data
        self._where = where
        if allowed is not None:
            unknown = sorted(set(data) - allowed)
            if unknown:
                self.fail(unknown[0], "unknown field (allowed: " + ", ".join(sorted(allowed)) + ")")

    def path(self, key: str) -> str:
        return f"{self._where}.{key}" if self._where else key

    def fail(self, key: str, message: str) -> NoReturn:
        self._fail_at(self.path(key), message)

    @staticmethod
    def _fail_at(where: str, message: str) -> NoReturn:
        raise FieldError(f"{where}: {message}")

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def raw(self, key: str) -> Any:
        return self._data.get(key)

    def raw_keys(self) -> list[str]:
        return list(self._data)

    def _get(self, key: str, required: bool) -> Any:
        if key not in self._data or self._data[key] is None:
            if required:
                self.fail(key, "missing")
            return None
        return self._data[key]

    def _text_value(self, key: str, value: Any, max_len: int) -> str:
        if not isinstance(value, str):
            self.fail(key, f"expected text, got {_kind(value)}")
        if len(value) > max_len:
            self.fail(key, f"longer than {max_len} characters")
        return value

    def text(self, key: str, *, max_len: int = 4096) -> str:
        return self._text_value(key, self._get(key, True), max_len)

    def opt_text(self, key: str, *, max_len: int = 4096) -> str | None:
        value = self._get(key, False)
        return None if value is None else self._text_value(key, value, max_len)

    def _int_value(self, key: str, value: Any, lo: int, hi: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(key, f"expected a whole number, got {_kind(value)}")
        if not lo <= value <= hi:
            self.fail(key, f"{value} is outside {lo}..{hi}")
        return value

    def integer(self, key: str, *, lo: int = 0, hi: int = 2**63) -> int:
        return self._int_value(key, self._get(key, True), lo, hi)

    def opt_integer(self, key: str, *, lo: int = 0, hi: int = 2**63) -> int | None:
        value = self._get(key, False)
        return None if value is None else self._int_value(key, value, lo, hi)

    def _bool_value(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {_kind(value)}")
        return value

    def boolean(self, key: str) -> bool:
        return self._bool_value(key, self._get(key, True))

    def opt_boolean(self, key: str) -> bool | None:
        value = self._get(key, False)
        return None if value is None else self._bool_value(key, value)

    def obj(self, key: str, *, allowed: frozenset[str] | None = None) -> Fields:
        return Fields(self._get(key, True), self.path(key), allowed=allowed)

    def opt_obj(self, key: str, *, allowed: frozenset[str] | None = None) -> Fields | None:
        value = self._get(key, False)
        return None if value is None else Fields(value, self.path(key), allowed=allowed)

    def _list_value(self, key: str, value: Any, max_items: int) -> list[Any]:
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {_kind(value)}")
        if len(value) > max_items:
            self.fail(key, f"more than {max_items} entries")
        return value

    def items(self, key: str, *, max_items: int = 100_000) -> list[Any]:
        return self._list_value(key, self._get(key, True), max_items)

    def objects(self, key: str, *, allowed: frozenset[str] | None = None) -> Iterator[Fields]:
        for i, item in enumerate(self.items(key)):
            yield Fields(item, f"{self.path(key)}[{i}]", allowed=allowed)

    def texts(self, key: str) -> list[str]:
        values = self.items(key)
        for i, v in enumerate(values):
            if not isinstance(v, str):
                self._fail_at(f"{self.path(key)}[{i}]", f"expected text, got {_kind(v)}")
        return values

    def opt_texts(self, key: str) -> list[str] | None:
        return None if self._get(key, False) is None else self.texts(key)

    def converted(self, key: str, convert: Callable[[str], T]) -> T:
        """Read text and convert it, reporting the converter's complaint at this field."""
        value = self.text(key)
        try:
            return convert(value)
        except (ValueError, KbscanError) as exc:
            self.fail(key, str(exc))

    def opt_converted(self, key: str, convert: Callable[[str], T]) -> T | None:
        return None if self._get(key, False) is None else self.converted(key, convert)

    def timestamp(self, key: str) -> datetime:
        return self.converted(key, _parse_datetime)

    def opt_timestamp(self, key: str) -> datetime | None:
        return self.opt_converted(key, _parse_datetime)

    def opt_day(self, key: str) -> date | None:
        return self.opt_converted(key, _parse_date)


def _parse_datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not an ISO 8601 date and time") from None


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )
