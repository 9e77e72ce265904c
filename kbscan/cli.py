"""Command line: parse arguments, call one function in kbscan.app, map outcomes to exit codes.

Exit codes: 0 done; 2 bad usage or bad input (a malformed facts line, an unreadable PE
file, an unknown KB) -- in which case every host that could be judged still was, and its
reports were written. (1 is kept for a failed gate.)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from kbscan import __version__, app
from kbscan.errors import KbscanError
from kbscan.report.console import render_kb, render_summary
from kbscan.report.formats import DEFAULT_FORMATS, OutputFormat
from kbscan.report.safety import printable

EXIT_OK = 0
EXIT_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kbscan", description="Hotfix applicability and compliance scanner for Windows fleets."
    )
    parser.add_argument("--version", action="version", version=f"kbscan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="print the version and machine type of PE files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file")

    p = sub.add_parser("evaluate", help="judge stored facts (facts.jsonl or a folder) against a KB")
    p.add_argument("facts", type=Path, metavar="FACTS")
    _add_report_options(p)
    p.add_argument("--kb", required=True, help="KB id, e.g. KB934709")

    p = sub.add_parser("demo", help="judge the bundled demo fleet and write its reports")
    p.add_argument("-o", "--output", type=Path, default=Path("reports"), help="report folder")

    kb = sub.add_parser("kb", help="KB definitions: import an article, show, list")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    p = kb_sub.add_parser("import", help="turn a KB article's text into a KB definition")
    p.add_argument("article", type=Path, metavar="ARTICLE.txt")
    p.add_argument("-o", "--output", type=Path, help="KB file to write (default: print it)")
    p.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help=r"where a file lives, e.g. aqueue.dll=%%SystemRoot%%\system32\inetsrv\aqueue.dll",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p = kb_sub.add_parser("show", help="print a KB's file table and rules")
    p.add_argument("kb_id", metavar="KB")
    p.add_argument("--json", action="store_true", help="print the KB file as JSON")
    p.add_argument("--kb-dir", type=Path, help="a folder of extra KB files (or $KBSCAN_KB_DIR)")
    p = kb_sub.add_parser("list", help="list the KBs kbscan knows")
    p.add_argument("--kb-dir", type=Path, help="a folder of extra KB files (or $KBSCAN_KB_DIR)")
    return parser


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, default=Path("reports"), help="report folder")
    p.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=[f.value for f in OutputFormat],
        help="report format; repeat for several (default: json and csv)",
    )
    p.add_argument("--kb-dir", type=Path, help="a folder of extra KB files (or $KBSCAN_KB_DIR)")


def run(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message
        return EXIT_OK if exc.code == 0 else EXIT_INPUT
    try:
        if args.command == "inspect":
            return _inspect(args, stdout, stderr)
        if args.command == "evaluate":
            formats = [OutputFormat(f) for f in args.formats] if args.formats else DEFAULT_FORMATS
            outcome = app.evaluate_facts(args.facts, args.kb, args.output, formats, args.kb_dir)
            return _report(outcome, stdout, stderr)
        if args.command == "demo":
            return _report(app.run_demo(args.output), stdout, stderr)
        if args.command == "kb":
            return _kb(args, stdout, stderr)
    except KbscanError as exc:
        stderr.write(f"kbscan: error: {printable(str(exc))}\n")
        return EXIT_INPUT
    raise AssertionError(f"unhandled command {args.command}")


def _report(outcome: app.EvaluateOutcome, stdout: TextIO, stderr: TextIO) -> int:
    stdout.write(render_summary(outcome.evaluation))
    stdout.write("\nReports written:\n" + "".join(f"  {p}\n" for p in outcome.written))
    for problem in outcome.problems:
        stderr.write(f"kbscan: error: {printable(str(problem))}\n")
    return EXIT_INPUT if outcome.problems else EXIT_OK


def _kb(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.kb_command == "import":
        paths = {}
        for item in args.path:
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                stderr.write(f"kbscan: error: --path {item!r}: expected NAME=PATH\n")
                return EXIT_INPUT
            paths[name] = path
        outcome = app.import_kb(args.article, args.output, paths, force=args.force)
        for warning in outcome.warnings:
            stderr.write(f"kbscan: warning: {printable(warning)}\n")
        if outcome.written is None:
            stdout.write(json.dumps(outcome.document, indent=2, ensure_ascii=False) + "\n")
        else:
            files = len(outcome.document["files"])
            stdout.write(
                f"{outcome.document['id']}: {files} file rows written to {outcome.written}\n"
            )
        return EXIT_OK
    if args.kb_command == "show":
        kb, document = app.show_kb(args.kb_id, args.kb_dir)
        if args.json:
            stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        else:
            stdout.write(render_kb(kb))
        return EXIT_OK
    for known in app.list_kbs(args.kb_dir):
        stdout.write(f"{known.id:<10}  {printable(known.title)[:90]}  ({known.path})\n")
    return EXIT_OK


def _inspect(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    failed = False
    for result in app.inspect_files(args.files):
        info = result.info
        if info is None:
            failed = True
            if args.json:
                obj = {"path": str(result.path), "unreadable": True, "reason": result.error}
                stdout.write(json.dumps(obj) + "\n")
            stderr.write(
                f"kbscan: error: {printable(str(result.path))}: unreadable: {result.error}\n"
            )
            continue
        if args.json:
            stdout.write(
                json.dumps(
                    {
                        "path": str(result.path),
                        "file_version": str(info.file_version) if info.file_version else None,
                        "product_version": str(info.product_version)
                        if info.product_version
                        else None,
                        "version_string": str(info.version_text) if info.version_text else None,
                        "branch": info.version_text.branch if info.version_text else None,
                        "machine": info.machine,
                        "machine_code": f"0x{info.machine_code:04x}",
                        "size": info.size,
                        "sha256": info.sha256,
                    }
                )
                + "\n"
            )
        else:
            version = str(info.file_version) if info.file_version else "no version resource"
            tag = (
                f" ({info.version_text.tag})" if info.version_text and info.version_text.tag else ""
            )
            stdout.write(
                f"{printable(str(result.path))}: file {version}{printable(tag)}, "
                f"product {info.product_version or '-'}, machine {info.machine} "
                f"(0x{info.machine_code:04x}), {info.size} bytes\n"
            )
    return EXIT_INPUT if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
