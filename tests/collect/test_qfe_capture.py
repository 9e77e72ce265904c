"""wmic qfe and PowerShell's Get-HotFix as administrators save them: tables, lists and
csv, UTF-16 or ANSI, one host or several nodes."""

from __future__ import annotations

from kbscan.collect.captures import decode_text
from kbscan.collect.qfe_capture import parse_qfe
from tests.helpers import FIXTURES

CAPTURES = FIXTURES / "captures"


def test_wmic_qfe_as_a_table_a_list_and_csv_of_two_nodes() -> None:
    def read(name: str) -> list[tuple[str | None, tuple[str, ...]]]:
        return [
            (r.host, r.hotfixes) for r in parse_qfe(decode_text((CAPTURES / name).read_bytes()))
        ]

    # the table's Description "Security Update" holds a space; "File 1" names no update
    assert read("lon-smtp21.qfe.txt") == [
        ("LON-SMTP21", ("KB925876", "KB934709", "KB936021", "Q147222"))
    ]
    # list format after "Please wait while WMIC is being installed."; KB925398_WMP64
    assert read("nyc-smtp30-qfe.txt") == [("NYC-SMTP30", ("KB893756", "KB899591", "KB925398"))]
    assert read("w2k-nodes.qfe.csv") == [
        ("W2K-DC01", ("Q147222", "KB329115")),
        ("W2K-FS02", ("KB823182", "KB835732", "KB890046-V2")),
    ]


def test_powershell_get_hotfix_as_a_table_and_exported_csv() -> None:
    def read(name: str) -> list[tuple[str | None, tuple[str, ...]]]:
        return [
            (r.host, r.hotfixes) for r in parse_qfe(decode_text((CAPTURES / name).read_bytes()))
        ]

    assert read("tyo-fs01.get-hotfix.txt") == [("TYO-FS01", ("KB976902", "KB981506", "KB2425227"))]
    assert read("muc-ws112-hotfixes.csv") == [("MUC-WS112", ("KB976902", "KB2584146", "KB2641653"))]
    # Get-HotFix | Format-List: "Name   : value" records
    assert read("srv-fl01.hotfix-list.txt") == [("SRV-FL01", ("KB2849697", "KB2862330"))]
