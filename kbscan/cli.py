"""Command line: parse arguments, call one function in kbscan.app, map outcomes to exit codes.

Exit codes: 0 done (for gate: the fleet passes); 1 the gate fails; 2 bad usage or bad
input (a malformed facts line, an unreadable PE file, an unknown KB, a bad policy) -- in
which case every host that could be judged still was, and its reports were written;
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TextIO

from kbscan import __version__, app
from kbscan.collect.smb import impacket_missing
from kbscan.collect.winrm import HTTP_PORT, HTTPS_PORT, WinrmSettings, transport_missing
from kbscan.credentials import obtain_password
from kbscan.errors import KbscanError
from kbscan.inventory import TRANSPORTS
from kbscan.inventory_ldap import DirectoryQuery
from kbscan.kb.library import ImportRequest, import_articles
from kbscan.limits import DEFAULTS, Limits
from kbscan.model import Protocol, ReadBy
from kbscan.report.console import render_inspection, render_kb, render_summary
from kbscan.report.formats import DEFAULT_FORMATS, OutputFormat
from kbscan.report.gate_outputs import render_diff, verdict_markdown
from kbscan.report.import_table import render_imports
from kbscan.report.safety import printable
from kbscan.simulator.demo import run_demo
from kbscan.terminal import Progress, configure_logging

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, where it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], 0, argparse.SUPPRESS) or action.help is None:
            return action.help
        return super()._get_help_string(action)


Sub = Callable[[str, str], argparse.ArgumentParser]


def _parser() -> argparse.ArgumentParser:
    verbosity = argparse.ArgumentParser(add_help=False)
    verbosity.add_argument(
        "-v",
        "--verbose",
        dest="verbose_here",
        action="count",
        default=0,
        help="log progress to stderr (-v hosts, -vv protocol detail)",
    )
    parser = argparse.ArgumentParser(
        prog="kbscan",
        description="Hotfix applicability and compliance scanner for Windows fleets.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"kbscan {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log progress to stderr (-v hosts, -vv protocol detail)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)

    def sub(name: str, help: str) -> argparse.ArgumentParser:
        return subparsers.add_parser(
            name, help=help, parents=[verbosity], formatter_class=_Formatter
        )

    _facts_commands(sub)
    _scan_commands(sub)
    _offline_commands(sub)
    _kb_commands(sub("kb", "KB definitions: import an article, show, list"))
    return parser


def _facts_commands(sub: Sub) -> None:
    """The commands that read stored facts: inspect, evaluate, report, gate, diff."""
    p = sub("inspect", "print the version and machine type of PE files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file")

    p = sub("evaluate", "judge stored facts (facts.jsonl or a folder) against a KB")
    p.add_argument("facts", type=Path, metavar="FACTS")
    _add_report_options(p)
    _add_kb_args(p)

    p = sub("report", "write the remediation workbook (and more) from stored facts")
    p.add_argument("facts", type=Path, metavar="FACTS")
    _add_kb_args(p)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("reports"),
        help="the .xlsx to write, or a folder (default: reports/)",
    )
    p.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=[f.value for f in OutputFormat],
        help="also write these formats beside it; repeat for several",
    )
    _add_kb_dir(p)

    p = sub("gate", "pass or fail a change review: policy, exemptions, verdict")
    p.add_argument("facts", type=Path, metavar="FACTS")
    _add_kb_args(p)
    p.add_argument(
        "--policy",
        type=Path,
        help="policy.toml (default: fail on any host that "
        "needs a hotfix, a service pack or a restart, or is SUSPECT)",
    )
    p.add_argument("--exemptions", type=Path, help="CSV: host, kb, reason, approver, expires")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    p.add_argument("--today", type=date.fromisoformat, help="judge exemptions as of this date")
    p.add_argument("-o", "--output", type=Path, default=Path("reports"), help="report folder")
    _add_kb_dir(p)

    p = sub("diff", "what changed per host between two scans")
    p.add_argument("before", type=Path, metavar="BEFORE")
    p.add_argument("after", type=Path, metavar="AFTER")
    _add_kb_args(p)
    p.add_argument("-o", "--output", type=Path, default=Path("reports"), help="report folder")
    _add_kb_dir(p)


def _scan_commands(sub: Sub) -> None:
    p = sub("scan", "scan an inventory over WinRM, journal, judge, report")
    p.add_argument(
        "inventory",
        metavar="INVENTORY",
        help="CSV, .xlsx, a plain list of hosts, an Ansible INI inventory, or a directory: "
        "ldap://dc.example.com/OU=Servers,DC=example,DC=com (or ldaps://)",
    )
    _add_kb_args(p)
    _add_report_options(p)
    _add_scan_options(p)
    _add_directory_options(p)

    p = sub("demo", "serve the demo fleet on loopback, scan it over WinRM, write its reports")
    p.add_argument("-o", "--output", type=Path, default=Path("reports"), help="report folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _offline_commands(sub: Sub) -> None:
    """Hosts no scan reaches: a script to run on them by hand, and a judge of its output."""
    p = sub("probe-script", "write the batch file to run by hand on hosts no scan reaches")
    _add_kb_args(p)
    p.add_argument(
        "-o", "--output", type=Path, default=Path("kbscan-probe.cmd"), help="the .cmd to write"
    )
    p.add_argument(
        "--copy-files",
        action="store_true",
        help="the script also copies the KBs' files beside its output (read with pefile)",
    )
    _add_kb_dir(p)

    p = sub("offline", "judge probe-script outputs, systeminfo and wmic qfe captures")
    p.add_argument("paths", type=Path, nargs="+", metavar="OUTPUT_OR_FOLDER")
    _add_kb_args(p)
    p.add_argument(
        "--inventory",
        type=Path,
        help="the hosts expected (their site, owner, tags); a host without output is UNKNOWN",
    )
    _add_report_options(p)


def _kb_commands(kb: argparse.ArgumentParser) -> None:
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    p = kb_sub.add_parser(
        "import", help="turn KB articles' text into KB definitions (one file, or many into -o DIR)"
    )
    p.add_argument("articles", type=Path, nargs="+", metavar="ARTICLE_OR_DIR")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="KB file to write for one article, the folder for several (default: print it)",
    )
    p.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="NAME",
        help="the Windows release of an article that names none (e.g. windows-nt-4.0)",
    )
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
    _add_kb_dir(p)
    p = kb_sub.add_parser("list", help="list the KBs kbscan knows")
    _add_kb_dir(p)


def _add_kb_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kb",
        dest="kbs",
        action="append",
        default=[],
        metavar="KB",
        help="KB id, e.g. KB934709; repeat for a set, or 'all' for every KB kbscan knows",
    )
    p.add_argument(
        "--baseline", type=Path, metavar="FILE.toml", help="a baseline: its name, KBs and scope"
    )


def _add_kb_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kb-dir", type=Path, help="a folder of extra KB files (or $KBSCAN_KB_DIR)")


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, default=Path("reports"), help="report folder")
    p.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=[f.value for f in OutputFormat],
        help="report format; repeat for several (when none: xlsx, csv and json)",
    )
    _add_kb_dir(p)


def _add_scan_options(p: argparse.ArgumentParser) -> None:
    c = p.add_argument_group("connection")
    c.add_argument("--username", help="account (DOMAIN\\user); an inventory column wins")
    c.add_argument("--transport", default="ntlm", choices=TRANSPORTS, help="authentication")
    c.add_argument(
        "--kdc",
        help="Kerberos: the KDC SMB asks for service tickets (default: the domain's name, "
        "as AD's DNS resolves it to its domain controllers)",
    )
    c.add_argument("--https", action="store_true", help=f"connect over HTTPS (port {HTTPS_PORT})")
    c.add_argument(
        "--port",
        type=int,
        help=f"default port ({HTTP_PORT} http, {HTTPS_PORT} https; WinRM 1.1: 80/443)",
    )
    c.add_argument("--ca-bundle", help="CA certificates to validate the hosts' HTTPS certificates")
    c.add_argument(
        "--insecure-skip-cert-validation",
        action="store_true",
        help="do not validate HTTPS certificates (prints a warning)",
    )
    c.add_argument("--cert-pem", help="client certificate (certificate transport)")
    c.add_argument("--cert-key-pem", help="client certificate key (certificate transport)")
    c.add_argument(
        "--allow-basic-over-http",
        action="store_true",
        help="allow basic authentication without TLS (the password travels in clear)",
    )
    c.add_argument("--keyring", metavar="SERVICE", help="read the password from the system keyring")
    c.add_argument(
        "--protocol",
        choices=[p.value for p in Protocol],
        default="winrm",
        help="how to read hosts the inventory's protocol column does not name: WinRM, SMB "
        "with the remote registry (needs kbscan[smb]), or WinRM falling back to SMB where no "
        "WinRM listener answers",
    )
    f = p.add_argument_group("fleet")
    f.add_argument("--workers", type=int, default=DEFAULTS.workers, help="hosts at once")
    f.add_argument(
        "--processes",
        type=int,
        help="collecting processes (when none: the machine's cores, one per 50 hosts at least)",
    )
    f.add_argument(
        "--retries", type=int, default=DEFAULTS.retries, help="retries for transient network errors"
    )
    f.add_argument(
        "--read-timeout",
        type=int,
        default=DEFAULTS.read_timeout,
        help="connect and read timeout per HTTP request, seconds",
    )
    f.add_argument(
        "--operation-timeout",
        type=int,
        default=DEFAULTS.operation_timeout,
        help="WS-Man OperationTimeout",
    )
    f.add_argument(
        "--deadline", type=float, default=DEFAULTS.deadline, help="seconds per host, all in"
    )
    f.add_argument(
        "--fetch-files",
        action="store_true",
        help="copy each file of the KBs back and read it with pefile",
    )
    f.add_argument("--resume", action="store_true", help="skip hosts already in facts.jsonl")
    f.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_directory_options(p: argparse.ArgumentParser) -> None:
    d = p.add_argument_group("directory (an ldap:// or ldaps:// inventory)")
    d.add_argument(
        "--ldap-filter", default="(objectClass=computer)", help="which entries are computers"
    )
    d.add_argument("--ldap-scope", default="sub", choices=("sub", "one", "base"))
    d.add_argument(
        "--ldap-user",
        metavar="ACCOUNT",
        help="bind as this account (a DN, user@domain or DOMAIN\\user; the scan's password) "
        "instead of --username",
    )
    d.add_argument("--ldap-starttls", action="store_true", help="StartTLS on an ldap:// URL")
    d.add_argument("--ldap-ca-bundle", help="CA certificates to validate the directory's TLS")
    d.add_argument(
        "--stale-days", type=int, default=90, help="skip computers not logged on for this long"
    )
    d.add_argument(
        "--site-from",
        default="ou",
        metavar="ou|ATTRIBUTE",
        help="the site: the first OU, or an attribute",
    )
    d.add_argument(
        "--allow-ldap-plain-bind",
        action="store_true",
        help="allow a simple bind without TLS (the password travels in clear)",
    )


def _directory(args: argparse.Namespace) -> DirectoryQuery:
    return DirectoryQuery(
        url=args.inventory,
        filter=args.ldap_filter,
        scope=args.ldap_scope,
        starttls=args.ldap_starttls,
        stale_days=args.stale_days,
        site_from=args.site_from,
        ca_bundle=args.ldap_ca_bundle,
        allow_plain=args.allow_ldap_plain_bind,
        user=args.ldap_user,
    )


def run(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message
        return EXIT_OK if exc.code == 0 else EXIT_INPUT
    restore = configure_logging(args.verbose + getattr(args, "verbose_here", 0), stderr)
    try:
        return _command(args, stdout, stderr)
    finally:
        restore()


def _command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        if args.command == "inspect":
            return _inspect(args, stdout, stderr)
        if args.command == "evaluate":
            formats = [OutputFormat(f) for f in args.formats] if args.formats else DEFAULT_FORMATS
            evaluated = app.evaluate_facts(
                args.facts, args.kbs, args.output, formats, args.kb_dir, baseline=args.baseline
            )
            return _report(evaluated, stdout, stderr)
        if args.command == "report":
            formats = [OutputFormat.XLSX] + [OutputFormat(f) for f in args.formats or []]
            reported = app.report_facts(
                args.facts, args.kbs, args.output, formats, args.kb_dir, baseline=args.baseline
            )
            return _report(reported, stdout, stderr)
        if args.command == "gate":
            return _gate(args, stdout, stderr)
        if args.command == "diff":
            changed = app.diff_facts(
                args.before, args.after, args.kbs, args.output, args.kb_dir,
                baseline=args.baseline,
            )  # fmt: skip
            stdout.write(render_diff(changed.evaluation))
            stdout.write("\nReports written:\n" + "".join(f"  {p}\n" for p in changed.written))
            for problem in changed.problems:
                stderr.write(f"kbscan: error: {printable(str(problem))}\n")
            return EXIT_INPUT if changed.problems else EXIT_OK
        if args.command == "scan":
            return _scan(args, stdout, stderr)
        if args.command == "demo":
            with Progress(stderr, args.no_progress) as progress:
                outcome = run_demo(args.output, on_start=progress.start, on_result=progress.update)
            return _report(outcome, stdout, stderr)
        if args.command == "kb":
            return _kb(args, stdout, stderr)
        if args.command == "probe-script":
            written = app.write_probe_script(
                args.kbs, args.output, kb_dir=args.kb_dir, baseline=args.baseline,
                copy_files=args.copy_files,
            )  # fmt: skip
            stdout.write(f"Probe script written to {written}\n")
            return EXIT_OK
        if args.command == "offline":
            formats = [OutputFormat(f) for f in args.formats] if args.formats else DEFAULT_FORMATS
            judged = app.judge_offline(
                args.paths, args.kbs, args.output, formats, kb_dir=args.kb_dir,
                baseline=args.baseline, inventory=args.inventory,
            )  # fmt: skip
            return _report(judged, stdout, stderr)
    except KbscanError as exc:
        stderr.write(f"kbscan: error: {printable(str(exc))}\n")
        return EXIT_INPUT
    except KeyboardInterrupt:
        stderr.write(
            "kbscan: interrupted; what was collected is in facts.jsonl: rerun with --resume\n"
        )
        return EXIT_INTERRUPTED
    raise AssertionError(f"unhandled command {args.command}")


def _gate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    outcome = app.gate_facts(
        args.facts,
        args.kbs,
        args.output,
        args.policy,
        args.exemptions,
        args.junit,
        args.kb_dir,
        args.today,
        baseline=args.baseline,
    )
    stdout.write(verdict_markdown(outcome.evaluation))
    stdout.write("\nReports written:\n" + "".join(f"  {p}\n" for p in outcome.written))
    for problem in outcome.problems:
        stderr.write(f"kbscan: error: {printable(str(problem))}\n")
    if outcome.problems:
        stderr.write("kbscan: error: the facts had errors; the gate cannot vouch for them\n")
        return EXIT_INPUT
    return EXIT_OK if outcome.verdict.passed else EXIT_GATE_FAILED


def _scan(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.insecure_skip_cert_validation:
        stderr.write(
            "kbscan: warning: HTTPS certificates are not validated; a host can be impersonated\n"
        )
    if args.transport == "basic" and not args.https and not args.allow_basic_over_http:
        stderr.write(
            "kbscan: error: --transport basic over plain HTTP would send the password in "
            "clear text; add --https, choose another transport, or --allow-basic-over-http\n"
        )
        return EXIT_INPUT
    missing = transport_missing(args.transport)
    if missing is not None:
        stderr.write(
            f"kbscan: error: the {args.transport} transport needs a library "
            f"pywinrm does not have here: {missing}\n"
        )
        return EXIT_INPUT
    if args.protocol != "winrm" and (needs := impacket_missing()) is not None:
        stderr.write(
            f"kbscan: error: --protocol {args.protocol} reads hosts over SMB with impacket, "
            f"which is not installed: {needs}\n"
        )
        return EXIT_INPUT
    password = obtain_password(args.transport, args.username, args.keyring)
    limits = Limits(
        deadline=args.deadline,
        read_timeout=max(args.read_timeout, args.operation_timeout + 1),
        operation_timeout=args.operation_timeout,
        retries=args.retries,
        workers=args.workers,
        processes=args.processes,
    )
    settings = WinrmSettings(
        username=args.username,
        password=password,
        transport=args.transport,
        scheme="https" if args.https else "http",
        port=args.port,
        ca_bundle=args.ca_bundle,
        verify_certificates=not args.insecure_skip_cert_validation,
        cert_pem=args.cert_pem,
        cert_key_pem=args.cert_key_pem,
        operation_timeout=limits.operation_timeout,
        read_timeout=limits.read_timeout,
        fetch_files=args.fetch_files,
        allow_basic_over_http=args.allow_basic_over_http,
        kdc=args.kdc,
    )
    formats = [OutputFormat(f) for f in args.formats] if args.formats else DEFAULT_FORMATS
    with Progress(stderr, args.no_progress) as progress:
        outcome = app.scan_fleet(
            args.inventory,
            args.kbs,
            args.output,
            settings,
            limits=limits,
            resume=args.resume,
            formats=formats,
            kb_dir=args.kb_dir,
            on_start=progress.start,
            on_result=progress.update,
            baseline=args.baseline,
            protocol=Protocol(args.protocol),
            directory=_directory(args),
        )
    return _report(outcome, stdout, stderr)


def _report(outcome: app.EvaluateOutcome | app.ScanOutcome, stdout: TextIO, stderr: TextIO) -> int:
    stdout.write(render_summary(outcome.evaluation))
    if isinstance(outcome, app.ScanOutcome):
        st = outcome.stats
        rate = st.hosts / st.seconds if st.seconds else 0.0
        stdout.write(
            f"\nScanned {st.hosts} hosts in {st.seconds:.1f} s ({rate:.1f} hosts/s, "
            f"{st.round_trips} round trips, {st.retries} retries"
            + (f", {st.skipped} resumed from the journal" if st.skipped else "")
            + f"); facts in {outcome.journal}\n"
        )
        read_by = Counter({f.host: f.facts.collector for f in outcome.evaluation.findings}.values())
        if len(read_by) > 1 or ReadBy.SMB in read_by:
            stdout.write(
                "Hosts read over "
                + ", ".join(f"{c.label}: {n}" for c, n in sorted(read_by.items()))
                + "\n"
            )
        if outcome.skipped:
            stdout.write(
                f"Skipped from the inventory: {len(outcome.skipped)} (the list is in "
                "skipped-hosts.csv)\n"
                + "".join(
                    f"  {printable(s.host)}: {printable(s.reason)}\n" for s in outcome.skipped[:20]
                )
                + (
                    f"  ... and {len(outcome.skipped) - 20} more\n"
                    if len(outcome.skipped) > 20
                    else ""
                )
            )
        if outcome.discarded_tail:
            stderr.write(
                f"kbscan: warning: {outcome.journal}: a torn last line "
                f"({outcome.discarded_tail} bytes) was discarded; its host was scanned again\n"
            )
    stdout.write("\nReports written:\n" + "".join(f"  {p}\n" for p in outcome.written))
    for problem in outcome.problems:
        stderr.write(f"kbscan: error: {printable(str(problem))}\n")
    return EXIT_INPUT if outcome.problems else EXIT_OK


def _kb(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.kb_command == "import":
        return _kb_import(args, stdout, stderr)
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


def _kb_import(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    paths = {}
    for item in args.path:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            stderr.write(f"kbscan: error: --path {item!r}: expected NAME=PATH\n")
            return EXIT_INPUT
        paths[name] = path
    request = ImportRequest(
        tuple(args.articles), args.output, paths, tuple(args.platform), force=args.force
    )
    results = import_articles(request)
    for result in results:
        for warning in result.warnings:
            stderr.write(f"kbscan: warning: {printable(warning)}\n")
    if request.batch:
        stdout.write(render_imports(results))
    for result in results:
        if result.error is not None:
            stderr.write(f"kbscan: error: {printable(result.error)}\n")
        elif not request.batch and result.written is None and result.document is not None:
            stdout.write(json.dumps(result.document, indent=2, ensure_ascii=False) + "\n")
        elif not request.batch and result.document is not None:
            doc = result.document
            rows = sum(len(t["rows"]) for t in doc["tables"])
            stdout.write(
                f"{doc['id']}: {rows} file rows in {len(doc['tables'])} tables "
                f"({len(doc['left_out'])} other tables left out) written to "
                f"{result.written}\n"
            )
    return EXIT_INPUT if any(r.error for r in results) or not results else EXIT_OK


def _inspect(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    results = app.inspect_files(args.files)
    for result in results:
        stdout.write(render_inspection(result, as_json=args.json))
        if result.info is None:
            stderr.write(
                f"kbscan: error: {printable(str(result.path))}: unreadable: {result.error}\n"
            )
    return EXIT_INPUT if any(r.info is None for r in results) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
