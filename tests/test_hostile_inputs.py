"""Every file an operator hands kbscan, made hostile: malformed, empty, enormous, or in
the wrong encoding. Each gives one clear error naming the file (and line where there is
one) and exit 2; none gives a traceback."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kbscan.cli import run
from kbscan.paths import data_dir

ARTICLE = Path(__file__).resolve().parent / "fixtures" / "KB934709-article.txt"
DEMO = data_dir() / "demo" / "collected"


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.truncate(size)


def _utf16(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-16"))


Writer = Callable[[Path], None]
CASES: dict[str, dict[str, tuple[Writer, str]]] = {
    "inventory": {
        "malformed": (lambda p: p.write_text("host,port\nlon-smtp01,notaport\n"),
                      ":2: port 'notaport' is not a number"),
        "empty": (lambda p: p.write_text(""), "no header row and no hosts"),
        "enormous": (lambda p: _sparse(p, 65 * 2**20), "larger than 64 MiB"),
        "encoding": (lambda p: _utf16(p, "host\nlon-smtp01\n"), "not UTF-8"),
    },
    "facts": {
        "malformed": (lambda p: p.write_text('{"schema": "kbscan.facts/1", "host": 5}\n'),
                      ":1: host: expected text, got int"),
        "empty": (lambda p: p.write_text(""), "holds no host facts"),
        "enormous": (lambda p: p.write_bytes(b"[" * (5 * 2**20) + b"\n"), ":1: line longer than"),
        "encoding": (lambda p: _utf16(p, '{"schema": "kbscan.facts/1"}\n'), ":1: not UTF-8"),
    },
    "kb": {
        "malformed": (lambda p: p.write_text('{"schema_version": 1,\n "id": }'), ":2: invalid JSON"),
        "empty": (lambda p: p.write_text(""), ":1: invalid JSON"),
        "enormous": (lambda p: _sparse(p, 5 * 2**20), "larger than 4194304 bytes"),
        "encoding": (lambda p: _utf16(p, "{}"), "not UTF-8"),
    },
    "policy": {
        "malformed": (lambda p: p.write_text("max_unknown = 1\nmax_unknown = 2\n"), "invalid TOML"),
        "empty": (lambda p: p.write_text(""), "empty policy file"),
        "enormous": (lambda p: _sparse(p, 2 * 2**20), "larger than 1 MiB"),
        "encoding": (lambda p: _utf16(p, "max_unknown = 1\n"), "not UTF-8"),
    },
    "exemptions": {
        "malformed": (lambda p: p.write_text("host,kb,reason,approver,expires\nh,KB1,r,,2026-01-01\n"),
                      ":2: empty approver"),
        "empty": (lambda p: p.write_text(""), ":1: missing column(s)"),
        "enormous": (lambda p: _sparse(p, 17 * 2**20), "larger than 16 MiB"),
        "encoding": (lambda p: p.write_bytes(b"host,kb\n\xff\xfe\xfa,KB1\n"), "not UTF-8"),
    },
    "article": {
        "malformed": (lambda p: p.write_text(ARTICLE.read_text().replace(
                          "Aqueue.dll6.0.3790.2950502", "Aqueue.dll6.0.3790.29505O2")),
                      ":49: row 'Aqueue.dll6.0.3790.29505O2"),
        "empty": (lambda p: p.write_text(""), "no file table"),
        "enormous": (lambda p: _sparse(p, 9 * 2**20), "larger than 8 MiB"),
        "encoding": (lambda p: p.write_bytes(b"\xff\xfe\x00\xd8" * 64), "neither UTF-8, UTF-16 nor"),
    },
}  # fmt: skip


def _argv(kind: str, path: Path, tmp: Path) -> list[str]:
    out = ["-o", str(tmp / "out")]
    if kind == "inventory":
        return ["scan", str(path), "--kb", "KB934709", "--transport", "basic",
                "--allow-basic-over-http", "--username", "u", "--no-progress", *out]  # fmt: skip
    if kind == "facts":
        return ["evaluate", str(path), "--kb", "KB934709", *out]
    if kind == "kb":
        return ["evaluate", str(DEMO), "--kb", "KB934709", "--kb-dir", str(path.parent), *out]
    if kind == "policy":
        return ["gate", str(DEMO), "--kb", "KB934709", "--policy", str(path), *out]
    if kind == "exemptions":
        return ["gate", str(DEMO), "--kb", "KB934709", "--exemptions", str(path), *out]
    return ["kb", "import", str(path), "-o", str(tmp / "out" / "KB1.json")]


NAMES = {"kb": "KB934709.json", "inventory": "hosts.csv", "facts": "facts.jsonl",
         "policy": "policy.toml", "exemptions": "exemptions.csv", "article": "article.txt"}  # fmt: skip


@pytest.mark.parametrize(("kind", "case"), [(k, c) for k in CASES for c in CASES[k]])
def test_hostile_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, case: str
) -> None:
    monkeypatch.setenv("KBSCAN_PASSWORD", "not-used")
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / NAMES[kind]
    write, expected = CASES[kind][case]
    write(path)
    out, err = io.StringIO(), io.StringIO()
    code = run(_argv(kind, path, tmp_path), out, err)
    errors = [line for line in err.getvalue().splitlines() if line.startswith("kbscan: error:")]
    assert code == 2, (kind, case, err.getvalue())
    assert errors, err.getvalue()
    assert any(str(path) in line and expected in line for line in errors), (expected, errors)
    assert "Traceback" not in err.getvalue() + out.getvalue()
    if kind == "article":
        assert not (tmp_path / "out" / "KB1.json").exists()


def test_bad_facts_line_leaves_the_other_hosts_judged(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    good = (DEMO / "lon-smtp02" / "facts.json").read_text()
    facts.write_text(json.dumps(json.loads(good)) + "\n\x00\x01garbage\n")
    out, err = io.StringIO(), io.StringIO()
    assert (
        run(["evaluate", str(facts), "--kb", "KB934709", "-o", str(tmp_path / "o")], out, err) == 2
    )
    doc = json.loads((tmp_path / "o" / "KB934709-findings.json").read_text())
    assert [f["status"] for f in doc["findings"]] == ["NEEDS_HOTFIX"]
    assert f"{facts}:2: invalid JSON" in err.getvalue()
