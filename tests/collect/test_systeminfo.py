"""systeminfo as administrators keep it, written by hand from each release's output
(2000 read with systeminfo /s, XP, XP x64, 2003, 2003 R2, IA-64, Vista, 2008, 7, 2008
R2; English, German, French and Japanese; cmd's OEM code pages and PowerShell's
UTF-16; list, csv and table formats), parsed by field order and value shapes."""

from __future__ import annotations

import json

import pytest

from kbscan.collect.captures import decode_text
from kbscan.collect.systeminfo import parse_systeminfo
from tests.helpers import FIXTURES

CAPTURES = FIXTURES / "captures"
EXPECTED = json.loads((FIXTURES / "captures.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_systeminfo_of_each_release_and_language(name: str) -> None:
    found = parse_systeminfo(decode_text((CAPTURES / name).read_bytes()))
    got = [
        {
            "host": i.host,
            "version": i.version,
            "service_pack": i.service_pack,
            "product_type": i.product_type,
            "architecture": i.architecture.value if i.architecture else None,
            "windows_directory": i.windows_directory,
            "hotfixes": list(i.hotfixes),
        }
        for i in found
    ]
    assert got == EXPECTED[name]
