"""The whole CLI in-process: exit codes, files written, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kbscan.cli import main, run
from kbscan.facts_codec import facts_to_json
from kbscan.paths import data_dir
from tests.helpers import fixture_dll, make_facts


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_inspect_prints_version_and_machine() -> None:
    code, out, err = _run("inspect", str(fixture_dll("ia64", "6.0.3790.4094")))
    assert code == 0 and err == ""
    assert "file 6.0.3790.4094 (srv03_sp2_qfe.070606-0202)" in out
    assert "machine ia64 (0x0200)" in out


def test_inspect_json_and_unreadable(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dll"
    junk.write_bytes(b"\0" * 100)
    code, out, err = _run("inspect", "--json", str(fixture_dll("x86", "6.0.3790.2950")), str(junk))
    assert code == 2
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["file_version"] == "6.0.3790.2950" and first["machine"] == "x86"
    assert first["product_version"] == "6.0.3790.2950" and first["size"] > 0
    assert second == {"path": str(junk), "unreadable": True, "reason": second["reason"]}
    assert err.count("\n") == 1 and "junk.dll: unreadable: not a PE file" in err


def test_demo_writes_reports_for_every_host(tmp_path: Path) -> None:
    code, out, err = _run("demo", "-o", str(tmp_path))
    assert code == 0, err
    hosts = sorted(p.name for p in (data_dir() / "demo" / "collected").iterdir())
    with (tmp_path / "KB934709-findings.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["host"] for r in rows) == hosts
    assert len(hosts) >= 30
    statuses = {r["status"] for r in rows}
    assert statuses == {
        "COMPLIANT", "NEEDS_HOTFIX", "NEEDS_SERVICE_PACK", "RESTART_PENDING",
        "NOT_APPLICABLE", "SUSPECT", "UNKNOWN",
    }  # fmt: skip
    matched = {r["matched_row"] for r in rows if r["status"] in ("COMPLIANT", "NEEDS_HOTFIX")}
    assert len(matched) == 6  # all six rows of the article are exercised
    doc = json.loads((tmp_path / "KB934709-findings.json").read_text())
    assert len(doc["findings"]) == len(hosts)
    assert "Hosts that need attention" in out
    book = load_workbook(tmp_path / "KB934709-remediation.xlsx", read_only=True)
    sheet_hosts = [r[0] for r in book["Hosts"].iter_rows(min_row=2, max_col=1, values_only=True)]
    assert sorted(sheet_hosts) == hosts  # hosts in = rows out
    # part of the fleet is read over SMB (the inventory says so), the rest over WinRM,
    # and the workbook says which collector read each host
    rows_read = list(book["Hosts"].iter_rows(values_only=True))
    column = rows_read[0].index("Collector")
    read_by = {r[0]: r[column] for r in rows_read[1:]}
    over_smb = {"fra-smtp01", "fra-smtp02", "fra-smtp03", "nyc-smtp04", "nyc-smtp05"}
    assert {h for h, c in read_by.items() if c == "smb"} >= over_smb
    assert sum(c == "winrm" for c in read_by.values()) > 30
    assert "Hosts read over SMB: " in out and "WinRM: " in out


def test_report_writes_the_workbook_where_asked(tmp_path: Path) -> None:
    target = tmp_path / "cab" / "KB934709-remediation.xlsx"
    code, _out, err = _run("report", str(data_dir() / "demo" / "collected"), "--kb", "KB934709",
                          "-o", str(target), "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert target.exists() and (tmp_path / "cab" / "KB934709-findings.csv").exists()
    assert not (tmp_path / "cab" / "KB934709-findings.json").exists()
    assert load_workbook(target).sheetnames == [
        "Summary",
        "Remediation",
        "Hosts",
        "Unreachable",
        "KB",
    ]


def test_evaluate_jsonl_with_a_bad_line(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    good = json.dumps(facts_to_json(make_facts(host="good", version="6.0.3790.3959")))
    facts.write_text(good + "\n" + '{"host": "broken", "schema": 1}\n')
    code, _out, err = _run("evaluate", str(facts), "--kb", "KB934709", "-o", str(tmp_path / "r"))
    assert code == 2
    assert err == f"kbscan: error: {facts}:2: schema: expected text, got int\n"
    doc = json.loads((tmp_path / "r" / "KB934709-findings.json").read_text())
    assert {f["host"]: f["status"] for f in doc["findings"]} == {
        "good": "NEEDS_HOTFIX",
        "broken": "UNKNOWN",
    }


def test_evaluate_folder_with_unreadable_pe(tmp_path: Path) -> None:
    root = tmp_path / "collected"
    shutil.copytree(data_dir() / "demo" / "collected", root)
    (root / "lon-smtp01" / "aqueue.dll").write_bytes(b"MZ\0\0")
    code, _out, err = _run("evaluate", str(root), "--kb", "KB934709", "-o", str(tmp_path / "r"),
                          "--format", "csv")  # fmt: skip
    assert code == 2
    assert err.startswith(f"kbscan: error: {root / 'lon-smtp01' / 'aqueue.dll'}: unreadable PE")
    assert err.count("\n") == 1
    with (tmp_path / "r" / "KB934709-findings.csv").open(encoding="utf-8-sig") as handle:
        rows = {r["host"]: r for r in csv.DictReader(handle)}
    assert len(rows) == len(list(root.iterdir()))
    # The WMI version still judges the host, and says so.
    assert rows["lon-smtp01"]["status"] == "COMPLIANT"
    assert rows["lon-smtp01"]["decided_by"] == "WMI file version string"
    assert not (tmp_path / "r" / "KB934709-findings.json").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "FACTS", "--kb", "KB1"], "kbscan: error: unknown KB KB1 (known: KB318364, KB319733, KB934709, KB981506, KB2492386)\n"),
        (
            ["evaluate", "missing.jsonl", "--kb", "KB934709"],
            "missing.jsonl: no such file or folder",
        ),
    ],
)
def test_input_errors_are_one_line_and_exit_2(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    facts = tmp_path / "facts.jsonl"
    facts.write_text(json.dumps(facts_to_json(make_facts())) + "\n")
    argv = [str(facts) if a == "FACTS" else a for a in argv]
    code, _out, err = _run(*argv, "-o", str(tmp_path / "r"))
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_malformed_kb_file_via_kb_dir(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    data = json.loads((data_dir() / "kb" / "KB934709.json").read_text())
    data["tables"][3]["rows"][0]["version"] = "6.0.3790.99999"
    (kb_dir / "KB934709.json").write_text(json.dumps(data))
    facts = tmp_path / "facts.jsonl"
    facts.write_text(json.dumps(facts_to_json(make_facts())) + "\n")
    code, _, err = _run("evaluate", str(facts), "--kb", "KB934709", "--kb-dir", str(kb_dir))
    assert code == 2
    assert err == (
        f"kbscan: error: {kb_dir / 'KB934709.json'}: tables[3].rows[0].version: "
        "'6.0.3790.99999' has a part above 65535\n"
    )


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate"]) == 2
    assert "required" in capsys.readouterr().err


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "kbscan", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith("kbscan ")


ARTICLE = Path(__file__).resolve().parent / "fixtures" / "KB934709-article.txt"


def test_kb_import_writes_a_file_that_equals_the_bundled_one(tmp_path: Path) -> None:
    out = tmp_path / "kb" / "KB934709.json"
    code, stdout, err = _run("kb", "import", str(ARTICLE), "-o", str(out))
    assert code == 0, err
    assert stdout == (
        f"KB934709: 6 file rows in 6 tables (0 other tables left out) written to {out}\n"
    )
    bundled = json.loads((data_dir() / "kb" / "KB934709.json").read_text())
    assert json.loads(out.read_text()) == bundled
    # An existing file is not replaced without --force.
    code, _, err = _run("kb", "import", str(ARTICLE), "-o", str(out))
    assert code == 2 and "exists; give --force" in err
    assert _run("kb", "import", str(ARTICLE), "-o", str(out), "--force")[0] == 0


def test_kb_import_error_writes_no_file(tmp_path: Path) -> None:
    article = tmp_path / "cut.txt"
    text = ARTICLE.read_text(encoding="utf-8")
    article.write_text(text[: text.index("Aqueue.dll6.0.3790.4094501") + 20], encoding="utf-8")
    out = tmp_path / "KB934709.json"
    code, stdout, err = _run("kb", "import", str(article), "-o", str(out))
    assert code == 2 and stdout == ""
    assert err.startswith(f"kbscan: error: {article}:52: row ")
    assert not out.exists()


def test_kb_import_to_stdout_and_path_option(tmp_path: Path) -> None:
    code, stdout, _ = _run("kb", "import", str(ARTICLE), "--path", r"aqueue.dll=D:\IIS\aqueue.dll")
    assert code == 0
    tables = json.loads(stdout)["tables"]
    assert {r["path"] for t in tables for r in t["rows"]} == {"D:\\IIS\\aqueue.dll"}
    code, _, err = _run("kb", "import", str(ARTICLE), "--path", "nonsense")
    assert code == 2 and "expected NAME=PATH" in err


def test_kb_show_and_list(tmp_path: Path) -> None:
    code, out, _ = _run("kb", "show", "KB934709")
    assert code == 0
    assert "Windows Server 2003, x64-based versions (line 60)" in out
    assert "SP1          Aqueue.dll  6.0.3790.2950  774,144" in out
    assert "Not for: Exchange Server 2000/2003" in out
    code, out, _ = _run("kb", "show", "KB934709", "--json")
    assert json.loads(out)["id"] == "KB934709"
    extra = tmp_path / "kbs"
    assert _run("kb", "import", str(FIXTURE_ARTICLES / "KB945005-x64-nosp.txt"),
                "-o", str(extra / "KB945005.json"))[0] == 0  # fmt: skip
    code, out, _ = _run("kb", "list", "--kb-dir", str(extra))
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [
        "KB318364", "KB319733", "KB934709", "KB945005", "KB981506", "KB2492386",
    ]  # fmt: skip
    assert _run("kb", "show", "KB1")[0] == 2


FIXTURE_ARTICLES = Path(__file__).resolve().parent / "fixtures" / "articles"
