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


def test_wmic_qfe_of_xp_xp_x64_vista_and_2008_in_their_languages() -> None:
    def read(name: str) -> list[tuple[str | None, tuple[str, ...]]]:
        return [
            (r.host, r.hotfixes) for r in parse_qfe(decode_text((CAPTURES / name).read_bytes()))
        ]

    # German XP: wmic's first-run message in German, list format, UTF-16
    assert read("muc-xp07.qfe.txt") == [("MUC-XP07", ("KB951376-V2", "KB952954"))]
    # XP x64 through `more`: CR CR LF, ANSI, three columns chosen by the administrator
    assert read("xp64-cad03.qfe.txt") == [("XP64-CAD03", ("KB934709", "KB936021"))]
    # French Vista, `list brief`: no CSName, so the file's name says the host
    assert read("vista-lab04.qfe-brief.txt") == [(None, ("KB948465", "KB955430"))]
    assert read("par-app01.qfe.csv") == [("PAR-APP01", ("KB955430", "KB2492386"))]
