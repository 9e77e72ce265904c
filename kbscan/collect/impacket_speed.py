"""Less of impacket's CPU per message, without changing a byte it sends or reads.

impacket's generic ``Structure`` packs and parses every SMB, DCE/RPC and NDR message by
its field list: for each field it scanned the whole list twice (is another field this
field's address, or its length?), split the field's format again on every pack, unpack
and size, and compiled field expressions (``'<H=len(Data)'``) afresh. A profile of an SMB
host's 30 exchanges put most of the client's CPU there (findAddressFieldFor alone was
called 7,000 times a host), and the simulator's SMB endpoint, impacket's server, the same.

All of it is a pure function of the field list and the format's text, so the answers
are kept: a field list's address and length tables once per list object (its identity
and length checked), each format read once into plain (a struct format), code (a plain
head and an expression), literal (``:``) or other; plain and code formats of fields no
other field points at are packed and unpacked by ``struct`` directly, literal
expressions are not evaluated, other expressions are compiled once, NDR's padding is
kept per format. Everything else goes to impacket's own code as before.

``install()`` is idempotent; ``impacket_as_shipped()`` puts impacket's own methods back
for a block, which tests/collect/test_impacket_speed.py uses to pack and parse every
message of a real collection both ways and compare.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import re
import struct
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

_LIMIT = 4096  # field lists kept; impacket builds a few per message type, not per message
_lookups: dict[int, tuple[Any, Any, int, dict[str, str], dict[str, str]]] = {}
_installed = False


def _build(obj: Any) -> tuple[Any, Any, int, dict[str, str], dict[str, str]]:
    """(address field of, length field of) for the object's field list, built once."""
    common, structure = obj.commonHdr, obj.structure
    address: dict[str, str] = {}
    length: dict[str, str] = {}
    for field in (*common, *structure):
        name, form = field[0], field[1]
        for mark, table in (("&", address), ("-", length)):
            at = form.rfind(mark)
            if at >= 0:
                # impacket takes the first field whose format ends with mark + name
                table.setdefault(form[at + 1 :], name)
    if len(_lookups) >= _LIMIT:
        _lookups.clear()
    entry = (structure, common, len(structure), address, length)  # the lists kept alive
    _lookups[id(structure)] = entry
    return entry


def _find_address(self: Any, field_name: str) -> str | None:
    return _tables(self)[3].get(field_name)


def _find_length(self: Any, field_name: str) -> str | None:
    return _tables(self)[4].get(field_name)


# A format struct reads by itself, with none of impacket's own specifiers (quote, void,
# address "&", code "=", length "-", array "*", literal ":", z/u/w strings, printf "%").
_PLAIN = re.compile(r"[<>!]?(?:\d*[xcbBhHiIlLqQnNefdsp])+")


@lru_cache(maxsize=1024)
def _plain_size(form: str) -> int:
    """struct's size of a plain format; -1 for a format with impacket's specifiers."""
    return struct.calcsize(form) if _PLAIN.fullmatch(form) else -1


@lru_cache(maxsize=1024)
def _shape(form: str) -> tuple[str, str, int, str]:
    """What a format is, read once: ("plain", form, size, ""), ("code", plain head, its
    size, expression) for impacket's "<H=len(Data)", ("literal", ...) for ":", or
    ("other", ...) for the rest, which impacket's own code reads as ever."""
    size = _plain_size(form)
    if size >= 0:
        return "plain", form, size, ""
    if form == ":":
        return "literal", form, -1, ""
    parts = form.split("=")
    if (
        len(parts) == 2
        and "&" not in form
        and _plain_size(parts[0]) >= 0
        and not form.startswith(("_", "'", '"'))
    ):
        return "code", parts[0], _plain_size(parts[0]), parts[1]
    return "other", form, -1, ""


def _tables(obj: Any) -> tuple[Any, Any, int, dict[str, str], dict[str, str]]:
    structure = obj.structure
    hit = _lookups.get(id(structure))
    if (
        hit is None
        or hit[0] is not structure
        or hit[1] is not obj.commonHdr
        or hit[2] != len(structure)
    ):
        hit = _build(obj)
    return hit


def _calc_unpack_size(self: Any, form: str, data: Any, field: Any = None) -> Any:
    kind, _, size, _ = _shape(form)
    if kind != "other" and not self.debug:
        # field None: impacket's own recursion into a specifier's head, never a named field
        hit = None if field is None else _tables(self)
        if hit is None or (field not in hit[3] and field not in hit[4]):
            return len(data) if kind == "literal" else size
    return _ORIGINAL["calcUnpackSize"](self, form, data, field)


def _calc_pack_size(self: Any, form: str, data: Any, field: Any = None) -> Any:
    kind, _, size, _ = _shape(form)
    if kind != "other" and (field is None or field not in _tables(self)[3]):
        return len(data) if kind == "literal" else size
    return _ORIGINAL["calcPackSize"](self, form, data, field)


def _unpack(self: Any, form: str, data: Any, dataClassOrCode: Any = None, field: Any = None) -> Any:
    kind, head, _, _ = _shape(form)
    if kind != "other" and not self.debug and (field is None or field not in _tables(self)[3]):
        if kind != "literal":
            return struct.unpack(head, data)[0]
        if dataClassOrCode is None or dataClassOrCode is _BYTES:
            return data if isinstance(data, bytes) else _BYTES(data)
        return dataClassOrCode(data)
    if dataClassOrCode is None:
        return _ORIGINAL["unpack"](self, form, data, field=field)
    return _ORIGINAL["unpack"](self, form, data, dataClassOrCode, field)


def _pack_plain(self: Any, form: str, data: Any) -> bytes:
    if data is None:
        raise Exception("Trying to pack None")  # impacket's own words
    if form[-1:] == "s" and not isinstance(data, bytes | bytearray):
        data = self.b(data)
    return struct.pack(form, data)


def _pack(self: Any, form: str, data: Any, field: Any = None) -> Any:
    kind, head, _, expression = _shape(form)
    if kind == "other" or self.debug or (field is not None and field in _tables(self)[3]):
        return _ORIGINAL["pack"](self, form, data, field)
    if kind == "plain":
        return _pack_plain(self, head, data)
    if kind == "code":  # the value, else the expression over the other fields
        try:
            return _pack_plain(self, head, data)
        except Exception:
            known, value = _constant(expression)
            if not known:
                value = _eval(expression, {}, {"self": self, **self.fields})
            return _pack_plain(self, head, value)
    if data is None:
        raise Exception("Trying to pack None")
    if hasattr(data, "getData"):  # a Structure, or anything that serialises itself
        return data.getData()
    if isinstance(data, int):
        return bytes(data)
    return data if isinstance(data, bytes) else bytes(self.b(data))


@lru_cache(maxsize=512)
def _ndr_alignment(field_type: str) -> int:
    try:
        return struct.calcsize(field_type.split("=")[0])
    except Exception:  # impacket's own: a format struct cannot size aligns to nothing
        return 0


def _ndr_pad(field_type: Any, so_far: int) -> int:
    """NDR's padding before a primitive field, the alignment of its format kept."""
    if not isinstance(field_type, str):
        return 0
    alignment = _ndr_alignment(field_type)
    return (alignment - (so_far % alignment)) % alignment if alignment > 0 else 0


_ORIGINAL: dict[str, Any] = {}
_BYTES: Any = None  # impacket.structure.b, its default "data class": bytes as they are


@lru_cache(maxsize=2048)
def _constant(expression: str) -> tuple[bool, Any]:
    """(True, value) where the expression is a literal ("0", "b''", "65504"): nothing to
    evaluate; (False, None) where it reads other fields."""
    try:
        return True, ast.literal_eval(expression)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


@lru_cache(maxsize=2048)
def _compiled(source: str) -> Any:
    return compile(source, "<impacket field>", "eval")


def _eval(source: Any, globals_: Any = None, locals_: Any = None) -> Any:
    if isinstance(source, str):
        source = _compiled(source)
    return builtins.eval(source, globals_, locals_)


def install() -> None:
    """Put the kept lookups and the compiled expressions into impacket (once)."""
    global _installed
    if _installed:
        return
    from impacket import structure
    from impacket.dcerpc.v5 import ndr

    global _BYTES
    _BYTES = structure.b
    cls = structure.Structure
    for name in ("findAddressFieldFor", "findLengthFieldFor", "calcUnpackSize",
                 "calcPackSize", "unpack", "pack"):  # fmt: skip
        _ORIGINAL[name] = getattr(cls, name)
    cls.findAddressFieldFor = _find_address
    cls.findLengthFieldFor = _find_length
    cls.calcUnpackSize = _calc_unpack_size
    cls.calcPackSize = _calc_pack_size
    cls.unpack = _unpack
    cls.pack = _pack
    structure.eval = _eval
    ndr.eval = _eval
    _ORIGINAL["calculatePad"] = ndr.NDR.__dict__["calculatePad"]
    ndr.NDR.calculatePad = staticmethod(_ndr_pad)
    _installed = True


@contextlib.contextmanager
def impacket_as_shipped() -> Iterator[None]:
    """impacket's own Structure for the block: what the tests compare the kept answers with."""
    from impacket import structure
    from impacket.dcerpc.v5 import ndr

    install()
    cls = structure.Structure
    owners = {name: ndr.NDR if name == "calculatePad" else cls for name in _ORIGINAL}
    kept = {name: owner.__dict__[name] for name, owner in owners.items()}
    for name, original in _ORIGINAL.items():
        setattr(owners[name], name, original)
    structure.eval = ndr.eval = builtins.eval
    try:
        yield
    finally:
        for name, fast in kept.items():
            setattr(owners[name], name, fast)
        structure.eval = ndr.eval = _eval
