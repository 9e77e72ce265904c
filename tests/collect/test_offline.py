from __future__ import annotations

import json
import shutil
from pathlib import Path

from kbscan.collect.offline import FolderFactsSource, JsonlFactsSource, open_facts
from kbscan.facts_codec import facts_to_json
from kbscan.model import FailureCategory
from kbscan.versions import FileVersion
from tests.helpers import AQUEUE, fixture_dll, make_facts


def _line(**kw: object) -> str:
    return json.dumps(facts_to_json(make_facts(**kw))) + "\n"  # type: ignore[arg-type]


def test_jsonl_reads_every_host(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text(_line(host="a") + "\n" + _line(host="b"))
    batch = JsonlFactsSource(path).read()
    assert [f.host for f in batch.facts] == ["a", "b"] and batch.problems == ()


def test_bad_lines_are_reported_with_line_numbers_and_hosts_kept(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    bad_field = json.dumps({**facts_to_json(make_facts(host="c")), "architecture": "sparc"})
    path.write_text(_line(host="a") + "{not json\n" + bad_field + "\n" + _line(host="d"))
    batch = JsonlFactsSource(path).read()
    assert [str(p) for p in batch.problems] == [
        f"{path}:2: invalid JSON: Expecting property name enclosed in double quotes",
        f"{path}:3: architecture: 'sparc' is not one of: x86, x64, ia64",
    ]
    hosts = {f.host: f for f in batch.facts}
    assert set(hosts) == {"a", "c", "d"}  # c's line names its host: it stays, as UNKNOWN
    failure = hosts["c"].failure
    assert failure is not None and failure.category is FailureCategory.UNPARSEABLE_FACTS


def test_non_utf8_and_overlong_lines(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_bytes(
        b'{"host": "\xff"}\n' + b"x" * (5 * 1024 * 1024) + b"\n" + _line(host="ok").encode()
    )
    batch = JsonlFactsSource(path).read()
    assert [f.host for f in batch.facts] == ["ok"]
    messages = [str(p) for p in batch.problems]
    assert messages[0] == f"{path}:1: not UTF-8 (byte 10)"
    assert messages[1].startswith(f"{path}:2: line longer than")


def test_host_seen_twice_keeps_the_last_line(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text(_line(host="a", version="6.0.3790.3959") + _line(host="A"))
    batch = JsonlFactsSource(path).read()
    assert len(batch.facts) == 1 and batch.facts[0].host == "A"


def test_empty_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text("\n\n")
    batch = JsonlFactsSource(path).read()
    assert batch.facts == () and "holds no host facts" in str(batch.problems[0])


def _host_folder(root: Path, host: str, dll: Path | None, **kw: object) -> Path:
    folder = root / host
    folder.mkdir(parents=True)
    data = facts_to_json(make_facts(host=host, binary=False, **kw))  # type: ignore[arg-type]
    if dll is not None:
        data["files"][0]["collected"] = "aqueue.dll"
        shutil.copyfile(dll, folder / "aqueue.dll")
    (folder / "facts.json").write_text(json.dumps(data))
    return folder


def test_folder_reads_collected_binaries_with_pefile(tmp_path: Path) -> None:
    _host_folder(tmp_path, "x64host", fixture_dll("x64", "6.0.3790.2950"), arch="x64", sp=1,
                 version="6.0.3790.2950")  # fmt: skip
    batch = open_facts(tmp_path).read()
    (facts,) = batch.facts
    file = facts.files[0]
    assert file.path == AQUEUE
    assert file.binary is not None and file.binary.file_version == FileVersion(6, 0, 3790, 2950)
    assert file.binary.machine == "x64"
    assert file.binary_source == str(tmp_path / "x64host" / "aqueue.dll")


def test_unreadable_binary_is_a_problem_and_the_host_is_still_judged(tmp_path: Path) -> None:
    folder = _host_folder(tmp_path, "bad", fixture_dll("x86", "6.0.3790.4094"))
    (folder / "aqueue.dll").write_bytes(b"MZ" + b"\0" * 10)
    _host_folder(tmp_path, "good", fixture_dll("x86", "6.0.3790.4094"))
    batch = FolderFactsSource(tmp_path).read()
    assert [f.host for f in batch.facts] == ["bad", "good"]
    (problem,) = batch.problems
    assert str(problem).startswith(f"{folder / 'aqueue.dll'}: unreadable PE file:")
    assert batch.facts[0].files[0].binary_error is not None


def test_collected_name_cannot_escape_the_host_folder(tmp_path: Path) -> None:
    folder = _host_folder(tmp_path, "h", None)
    data = json.loads((folder / "facts.json").read_text())
    data["files"][0]["collected"] = "../../etc/passwd"
    (folder / "facts.json").write_text(json.dumps(data))
    batch = FolderFactsSource(tmp_path).read()
    assert "outside the host folder" in str(batch.problems[0])
    assert batch.facts[0].files[0].binary is None


def test_host_folder_without_facts_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "empty-host").mkdir()
    batch = FolderFactsSource(tmp_path).read()
    assert batch.facts[0].host == "empty-host" and batch.facts[0].failure is not None
    assert "no facts.json" in str(batch.problems[0])
