"""The summary an operator reads in the terminal after a run."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kbscan.model import BinaryInfo, Finding, KbDefinition, Status
from kbscan.report.interface import Evaluation
from kbscan.report.rows import kb_rules, platform_label
from kbscan.report.safety import printable

MAX_HOST_LINES = 40


@dataclass(frozen=True)
class Inspection:
    """One file given to ``kbscan inspect``: what it is, or why it is unreadable."""

    path: Path
    info: BinaryInfo | None
    error: str | None


def render_summary(evaluation: Evaluation, *, max_hosts: int = MAX_HOST_LINES) -> str:
    """Counts by status, then the hosts that need someone's attention, worst first."""
    if evaluation.several:
        return render_set_summary(evaluation, max_hosts=max_hosts)
    kb = evaluation.kbs[0]
    lines = [
        f"{kb.id}: {kb.title}",
        f"{len(evaluation.findings)} hosts judged from {evaluation.source}",
        "",
    ]
    counts = evaluation.counts()
    width = max(len(s.value) for s in Status)
    for status in Status:
        lines.append(f"  {status.value:<{width}}  {counts[status]:>6}")
    attention = [
        f for f in evaluation.findings if f.status.needs_action or f.status is Status.UNKNOWN
    ]
    if attention:
        attention.sort(key=lambda f: (f.status.severity, f.host.lower()))
        rows = [("HOST", "STATUS", "PLATFORM", "INSTALLED", "REQUIRED", "REASON")]
        for f in attention[:max_hosts]:
            sp_arch = platform_label(f)
            rows.append(
                (
                    printable(f.host)[:40],
                    f.status.value,
                    sp_arch,
                    str(f.installed_version or ""),
                    str(f.required_version or ""),
                    printable(f.reason)[:90],
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines += ["", "Hosts that need attention:"]
        for r in rows:
            cells = "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True))
            lines.append(f"  {cells}  {r[5]}")
        if len(attention) > max_hosts:
            lines.append(
                f"  ... and {len(attention) - max_hosts} more (see the CSV or JSON report)"
            )
    return "\n".join(lines) + "\n"


def render_set_summary(evaluation: Evaluation, *, max_hosts: int = MAX_HOST_LINES) -> str:
    """A set: each KB's counts by status, then the hosts needing action and for which KBs."""
    hosts = sorted({f.host for f in evaluation.findings}, key=str.lower)
    lines = [
        f"{evaluation.stem}: {len(evaluation.kbs)} KBs, {len(hosts)} hosts judged from "
        f"{evaluation.source}",
        "",
    ]
    short = {s: s.value.replace("NEEDS_", "").replace("_", " ").lower() for s in Status}
    header = ("KB", *(short[s] for s in Status))
    rows = [header]
    for kb in evaluation.kbs:
        counted = Counter(f.status for f in evaluation.findings if f.kb_id == kb.id)
        rows.append((kb.id, *(str(counted.get(s, 0)) for s in Status)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        cells = enumerate(zip(row, widths, strict=True))
        lines.append("  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in cells))
    by_host: dict[str, list[Finding]] = {}
    for f in evaluation.findings:
        if f.status.needs_action or f.status is Status.UNKNOWN:
            by_host.setdefault(f.host, []).append(f)
    if by_host:
        lines += ["", "Hosts that need attention (worst first):"]
        ranked = sorted(
            by_host.items(),
            key=lambda item: (min(f.status.severity for f in item[1]), item[0].lower()),
        )
        for host, findings in ranked[:max_hosts]:
            what = ", ".join(f"{f.kb_id} {f.status.value}" for f in findings)
            lines.append(f"  {printable(host)[:40]:<16}  {printable(what)[:140]}")
        if len(ranked) > max_hosts:
            lines.append(f"  ... and {len(ranked) - max_hosts} more (see the CSV or JSON report)")
    return "\n".join(lines) + "\n"


def render_kb(kb: KbDefinition) -> str:
    """A KB's file tables and rules, table by table as the article prints them, each row
    with the service pack and branch it was read as, so an administrator can check them
    against the article."""
    lines = [f"{kb.id}: {kb.title}", f"Source: {kb.source}", f"File: {kb.origin}", ""]
    names = {p.platform.id: p.platform.name for p in kb.platforms}
    header = ("SP", "BRANCH", "FILE", "VERSION", "SIZE", "DATE", "TIME", "PLATFORM", "PATH")
    notes: list[str] = []
    for table in kb.tables:
        where = f" (line {table.line})" if table.line else ""
        lines.append(f"{table.heading}{where}")
        lines.append(
            f"  {', '.join(names.get(p, p) for p in table.platforms)}; {table.architecture.value}"
        )
        if table.note:
            lines.append(f"  {table.note}")
        rows = [header]
        for r in table.rows:
            rows.append(
                (
                    "any" if r.service_pack is None else f"SP{r.service_pack}",
                    r.service_branch or "",
                    r.name,
                    str(r.version) if r.version else "(none: not checked)",
                    f"{r.size:,}" if r.size is not None else "",
                    r.date.isoformat() if r.date else "",
                    r.time or "",
                    r.platform,
                    r.path,
                )
            )
            for note in (r.service_pack_note, r.branch_note):
                if note and note not in notes:
                    notes.append(note)
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            lines.append(
                "    " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )
        lines.append("")
    if notes:
        lines += ["How service packs and branches were read:", *(f"  {n}" for n in notes), ""]
    for kept in kb.not_judged:
        where = f" (line {kept.line})" if kept.line else ""
        lines.append(f"Not judged: {kept.heading}{where}; {kept.architecture}")
        lines.append(f"  {kept.note}")
        for kept_row in kept.rows:
            size = f"{kept_row.size:,}" if kept_row.size is not None else ""
            version = kept_row.version or "(no version)"
            lines.append(f"    {kept_row.name}  {version}  {size}  {kept_row.platform}".rstrip())
        lines.append("")
    if kb.left_out:
        lines.append("Tables left out:")
        for t in kb.left_out:
            where = f"line {t.line}: " if t.line else ""
            lines.append(f"  {where}{t.kind} ({t.heading or 'no heading'}): {t.note}")
        lines.append("")
    lines += [f"{label}: {text}" for label, text in kb_rules(kb, reasons=False)]
    return "\n".join(printable(line) for line in lines) + "\n"


def render_inspection(result: Inspection, *, as_json: bool) -> str:
    """One line for ``kbscan inspect``: text, or a JSON object per file."""
    info = result.info
    if info is None:
        if as_json:
            return (
                json.dumps({"path": str(result.path), "unreadable": True, "reason": result.error})
                + "\n"
            )
        return ""
    if as_json:
        return (
            json.dumps(
                {
                    "path": str(result.path),
                    "file_version": str(info.file_version) if info.file_version else None,
                    "product_version": str(info.product_version) if info.product_version else None,
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
    version = str(info.file_version) if info.file_version else "no version resource"
    tag = f" ({info.version_text.tag})" if info.version_text and info.version_text.tag else ""
    return (
        f"{printable(str(result.path))}: file {version}{printable(tag)}, "
        f"product {info.product_version or '-'}, machine {info.machine} "
        f"(0x{info.machine_code:04x}), {info.size} bytes\n"
    )
