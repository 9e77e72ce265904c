from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kbscan.kb.directory import DirectoryKbSource, default_source
from kbscan.kb.interface import KbError
from kbscan.model import Arch, KbDefinition
from kbscan.paths import data_dir
from kbscan.versions import FileVersion
from tests.helpers import FIXTURES

# The article's file table, transcribed by hand: (heading, SP, arch, version, size, time, platform)
ARTICLE_TABLE = [
    ("Windows Server 2003 with Service Pack 1, x86-based versions", 1, Arch.X86,
     "6.0.3790.2950", 502272, "16:07", "x86"),
    ("Windows Server 2003 with Service Pack 2, x86-based versions", 2, Arch.X86,
     "6.0.3790.4094", 501760, "16:32", "x86"),
    ("Windows Server 2003 with Service Pack 1, Itanium-based versions", 1, Arch.IA64,
     "6.0.3790.2950", 1484800, "01:56", "IA-64"),
    ("Windows Server 2003 with Service Pack 2, Itanium-based versions", 2, Arch.IA64,
     "6.0.3790.4094", 1484800, "02:02", "IA-64"),
    ("Windows Server 2003, x64-based versions", 1, Arch.X64,
     "6.0.3790.2950", 774144, "01:56", "x64"),
    ("Windows Server 2003 with Service Pack 2, x64-based versions", 2, Arch.X64,
     "6.0.3790.4094", 773632, "02:01", "x64"),
]  # fmt: skip


def test_bundled_kb_holds_the_articles_six_rows(kb: KbDefinition) -> None:
    got = [
        (r.heading, r.service_pack, r.architecture, str(r.version), r.size, r.time, r.platform)
        for r in kb.files
    ]
    assert got == ARTICLE_TABLE
    assert all(r.date == date(2007, 6, 6) and r.name == "Aqueue.dll" for r in kb.files)
    assert all(r.path == "%SystemRoot%\\system32\\inetsrv\\aqueue.dll" for r in kb.files)


def test_every_row_stands_in_the_article_text(kb: KbDefinition) -> None:
    """Each row, glued as the archive prints it, occurs under its own heading."""
    article = (FIXTURES / "KB934709-article.txt").read_text(encoding="utf-8")
    for row in kb.files:
        glued = f"{row.name}{row.version}{row.size:,}{row.date:%d-%b-%Y}{row.time}{row.platform}"
        heading_at = article.index(row.heading + "\n")
        assert article.index(glued, heading_at) < heading_at + 300, glued


def test_rules_around_the_table(kb: KbDefinition) -> None:
    (need,) = kb.platforms
    assert need.platform.id == "windows-server-2003"
    assert need.service_packs == (1, 2)
    assert need.remedy_service_pack == 2
    assert [s.name for s in kb.required_services] == ["SMTPSVC"]
    assert kb.excluded_products[0].name == "Exchange Server"
    assert kb.excluded_products[0].versions == ("2000", "2003")
    assert [s.name for s in kb.restart.services] == ["IISADMIN"]
    assert kb.restart.dependents is True
    assert kb.restart.process == "inetinfo.exe"
    assert kb.hotfix_ids == ("KB934709",)
    x64_sp1 = kb.rows_for("windows-server-2003", 1, Arch.X64)[0]
    assert x64_sp1.service_pack_note and "SP1 code level" in x64_sp1.service_pack_note


def test_platform_ranges(kb: KbDefinition) -> None:
    p = kb.platforms[0].platform
    assert p.service_pack_of(FileVersion.parse("6.0.3790.1830")) == 1
    assert p.service_pack_of(FileVersion.parse("6.0.3790.3958")) == 1
    assert p.service_pack_of(FileVersion.parse("6.0.3790.3959")) == 2
    assert p.service_pack_of(FileVersion.parse("6.0.3790.0")) == 0
    assert p.service_pack_of(FileVersion.parse("6.0.6001.0")) is None
    assert p.service_branch_of(FileVersion.parse("6.0.3790.4094")) is None  # tag, not number


def test_six_x_platforms_take_sp_and_branch_from_build_and_revision() -> None:
    platforms = default_source().platforms()
    vista, r2 = platforms["windows-vista"], platforms["windows-server-2008-r2"]
    assert vista.service_pack_of(FileVersion.parse("6.0.6002.22601")) == 2
    assert vista.service_pack_of(FileVersion.parse("6.0.6000.16386")) == 0
    assert vista.service_branch_of(FileVersion.parse("6.0.6001.18612")) == "GDR"
    assert vista.service_branch_of(FileVersion.parse("6.0.6001.22867")) == "LDR"
    assert r2.service_pack_of(FileVersion.parse("6.1.7601.17514")) == 1
    assert r2.service_branch_of(FileVersion.parse("6.1.7600.20667")) == "LDR"
    assert r2.service_branch_of(FileVersion.parse("6.1.7600.16385")) == "RTM"  # as released
    assert r2.service_branch_of(FileVersion.parse("6.1.7600.16617")) == "GDR"
    assert Arch.X86 not in r2.architectures
    assert platforms["windows-server-2008"].first_service_pack() == 1


def test_a_version_1_file_still_loads_as_the_same_definition(kb: KbDefinition) -> None:
    old = DirectoryKbSource([FIXTURES / "kb-v1"], data_dir() / "platforms").load("KB934709")
    assert old.files == kb.files
    assert old.platforms == kb.platforms
    assert [(t.heading, t.architecture) for t in old.tables] == [
        (t.heading, t.architecture) for t in kb.tables
    ]
    for name in ("title", "source", "prerequisite_text", "required_services",
                 "excluded_products", "restart", "hotfix_ids"):  # fmt: skip
        assert getattr(old, name) == getattr(kb, name), name


def test_every_bundled_kb_file_is_valid() -> None:
    source = default_source()
    assert source.ids()
    for kb_id in source.ids():
        assert source.load(kb_id).id == kb_id


def _bundled() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((data_dir() / "kb" / "KB934709.json").read_text())
    return data


def _load(tmp_path: Path, data: Any, name: str = "KB934709") -> KbDefinition:
    path = tmp_path / f"{name}.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return DirectoryKbSource([tmp_path], data_dir() / "platforms").load(name)


def _mutate(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(_bundled())
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "tables.2.rows.0.version",
            "6.0.3790",
            "tables[2].rows[0].version: '6.0.3790' is not a Windows file version",
        ),
        (
            "tables.0.rows.0.service_pack",
            "one",
            "tables[0].rows[0].service_pack: expected a whole number, got text",
        ),
        (
            "tables.1.architecture",
            "amd64",
            "tables[1].architecture: 'amd64' is not one of x86, x64, ia64",
        ),
        ("tables.0.rows.0.path", KeyError, "tables[0].rows[0].path: missing"),
        (
            "tables.0.rows.0.date",
            "06-Jun-2007",
            "tables[0].rows[0].date: '06-Jun-2007' is not an ISO 8601 date",
        ),
        ("tables.0.rows.0.colour", "red", "tables[0].rows[0].colour: unknown field"),
        ("tables.0.rows.0.service_branch", "XYZ", "'XYZ' is not one of GDR, QFE, LDR"),
        ("excluded_when", KeyError, "excluded_when: missing"),
        ("exclude_when", {"products": []}, "exclude_when: unknown field"),
        ("schema_version", 3, "schema_version: 3 is not supported"),
        ("platforms.0.platform", "windows-nt4", "platform: unknown platform 'windows-nt4'"),
        ("tables.0.platforms", ["windows-vista"], "'windows-vista' is not one of the KB's"),
        ("id", "934709", "id: '934709' is not a KB id"),
        ("tables", [], "tables: the KB has no file table"),
        ("platforms.0.remedy_service_pack", 3, "remedy_service_pack: SP3 is not one"),
        (
            "tables.5.rows.0.service_pack",
            1,
            "Aqueue.dll is listed as 6.0.3790.2950 and as 6.0.3790.4094 for SP1 x64",
        ),
    ],
)
def test_bad_kb_file_names_file_and_field(
    tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    with pytest.raises(KbError) as err:
        _load(tmp_path, _mutate(path, value))
    message = str(err.value)
    assert message.startswith(str(tmp_path / "KB934709.json") + ": ")
    assert expected in message
    assert "\n" not in message


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    text = json.dumps(_bundled(), indent=2).replace('"title"', "title", 1)
    with pytest.raises(KbError) as err:
        _load(tmp_path, text)
    assert str(err.value).startswith(str(tmp_path / "KB934709.json") + ":4: invalid JSON")


def test_id_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(KbError, match="does not match the file name"):
        _load(tmp_path, _bundled(), name="KB999999")


def test_unknown_kb_lists_the_known_ones() -> None:
    with pytest.raises(KbError) as err:
        default_source().load("KB123")
    assert str(err.value) == (
        "unknown KB KB123 (known: KB318364, KB319733, KB934709, KB981506, KB2492386)"
    )
    with pytest.raises(KbError, match="is not a KB id"):
        default_source().load("../../etc/passwd")


def test_user_folder_comes_first(tmp_path: Path) -> None:
    data = _mutate("title", "Local override")
    (tmp_path / "KB934709.json").write_text(json.dumps(data))
    assert default_source(tmp_path).load("kb934709").title == "Local override"
    assert default_source(tmp_path).load("934709").title == "Local override"
