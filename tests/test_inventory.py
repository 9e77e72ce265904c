from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from kbscan.inventory import InventoryError, read_inventory


def test_csv_with_extra_columns_blank_lines_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text(
        "Host,Port,Transport,Site,Owner,Rack\n"
        "lon-smtp01,5985,ntlm,London,mail-team,R12\n"
        "\n"
        "# decommissioned next month\n"
        "lon-smtp02,,kerberos,London,,R13\n"
        "LON-SMTP01,5986,basic,London,mail-team,R12\n"
        "nyc-smtp01,80,ntlm,New York,mail-team,\n"
    )
    inv = read_inventory(path)
    assert [t.host for t in inv.targets] == ["lon-smtp01", "lon-smtp02", "nyc-smtp01"]
    first = inv.targets[0]
    assert (first.port, first.transport, first.site, first.owner) == (
        5985,
        "ntlm",
        "London",
        "mail-team",
    )
    assert first.extra == (("rack", "R12"),)
    assert inv.targets[2].port == 80  # WinRM 1.1 on Windows Server 2003
    assert [str(p) for p in inv.problems] == [
        f"{path}:6: LON-SMTP01 is listed again (first on line 2); scanned once"
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("h1,70000,ntlm", "port '70000' is not a number from 1 to 65535"),
        ("h1,5985,telnet", "transport 'telnet' is not one of"),
        ("bad host!,5985,ntlm", "'bad host!' is not a host name or address"),
        (",5985,ntlm", "no host name"),
        ("h1,5985,ntlm,extra", "4 cells but 3 columns"),
    ],
)
def test_bad_csv_rows_name_the_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text("host,port,transport\nok,5985,ntlm\n" + row + "\n")
    inv = read_inventory(path)
    assert [t.host for t in inv.targets] == ["ok"]
    (problem,) = inv.problems
    assert str(problem) == f"{path}:3: {message}" or str(problem).startswith(f"{path}:3: {message}")


def test_csv_without_host_column(tmp_path: Path) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text("name2,port\nx,1\n")
    with pytest.raises(InventoryError, match="no 'host' column"):
        read_inventory(path)


def test_xlsx(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Host", "Site", "Owner", "ansible_port"])
    sheet.append(["lon-smtp01", "London", "mail-team", 5985])
    sheet.append([None, None, None, None])
    sheet.append(["nyc-smtp01", "New York", None, 5986])
    path = tmp_path / "hosts.xlsx"
    book.save(path)
    inv = read_inventory(path)
    assert [(t.host, t.site, t.port) for t in inv.targets] == [
        ("lon-smtp01", "London", 5985), ("nyc-smtp01", "New York", 5986),
    ]  # fmt: skip


def test_plain_list(tmp_path: Path) -> None:
    path = tmp_path / "hosts.txt"
    path.write_text("lon-smtp01\n\n  nyc-smtp01  # the New York gateway\nlon-smtp01\n10.0.0.5\n")
    inv = read_inventory(path)
    assert [t.host for t in inv.targets] == ["lon-smtp01", "nyc-smtp01", "10.0.0.5"]
    assert "listed again" in str(inv.problems[0])


def test_ansible_ini(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text(
        "[smtp_gateways]\n"
        "lon-smtp01 ansible_host=10.1.0.11 ansible_port=5986 ansible_winrm_transport=ntlm\n"
        "nyc-smtp01 ansible_host=10.2.0.11 site=NewYork\n"
        "\n[smtp_gateways:vars]\nansible_winrm_scheme=https\nowner=mail-team\n"
        "\n[legacy:children]\nsmtp_gateways\n"
        "[relays]\nlon-relay01 ansible_port=80 ansible_winrm_transport=plaintext\n"
        "broken-host ansible_port\n"
    )
    inv = read_inventory(path)
    by = {t.host: t for t in inv.targets}
    assert set(by) == {"lon-smtp01", "nyc-smtp01", "lon-relay01"}
    assert (by["lon-smtp01"].address, by["lon-smtp01"].port, by["lon-smtp01"].transport) == (
        "10.1.0.11", 5986, "ntlm",
    )  # fmt: skip
    assert by["nyc-smtp01"].scheme == "https" and by["nyc-smtp01"].owner == "mail-team"
    assert ("group", "smtp_gateways") in by["nyc-smtp01"].extra
    assert by["lon-relay01"].transport == "basic" and by["lon-relay01"].port == 80
    assert [str(p) for p in inv.problems] == [f"{path}:13: 'ansible_port' is not key=value"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfeh\x00o\x00s\x00t\x00", "not UTF-8"),
        (b"host\n\x00\x01\x02", "binary data"),
    ],
)
def test_wrong_encodings(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "hosts.csv"
    path.write_bytes(content)
    with pytest.raises(InventoryError, match=message):
        read_inventory(path)
