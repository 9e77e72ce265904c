"""The gate's outputs: a machine-readable verdict, a Markdown summary for the change
ticket, JUnit XML for CI systems that gate changes, and the diff as JSON and text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from kbscan.gate.model import Change, Exemption, Outcome
from kbscan.report.interface import Evaluation, ReportError, ReportFormat
from kbscan.report.safety import printable


def _exemption(e: Exemption) -> dict[str, Any]:
    return {
        "host": e.host,
        "kb": e.kb_id,
        "reason": e.reason,
        "approver": e.approver,
        "expires": e.expires.isoformat(),
        "line": e.line,
    }


def verdict_to_json(ev: Evaluation) -> dict[str, Any]:
    v = ev.verdict
    assert v is not None
    p = v.policy
    return {
        "passed": v.passed,
        "kb": v.kb_id,
        "policy": {
            "name": p.name,
            "source": p.source,
            "statuses": {s.value: t.value for s, t in p.treatment},
            "max_unknown": p.max_unknown,
            "max_unknown_share": p.max_unknown_share,
            "scope": {
                "sites": list(p.scope.sites),
                "owners": list(p.scope.owners),
                "tags": dict(p.scope.tags),
                "hosts": list(p.scope.hosts),
            },
        },
        "reasons": list(v.reasons),
        "counts": {o.value: v.count(o) for o in Outcome},
        "status_counts": {s.value: n for s, n in ev.counts().items()},
        "failing_hosts": [
            {"host": h.host, "status": h.status.value, "reason": h.reason}
            | ({"kb": h.kb_id} if ev.several else {})
            for h in v.failing
        ],
        "exemptions_used": [_exemption(e) for e in v.exemptions_used],
        "exemptions_expired": [_exemption(e) for e in v.exemptions_expired],
        "exemptions_unused": [_exemption(e) for e in v.exemptions_unused],
        "inputs": [{"file": f, "sha256": h} for f, h in v.inputs],
        "kbscan_version": ev.kbscan_version,
        "generated_at": ev.generated_at.isoformat(),
        "today": v.today.isoformat(),
    }


def _md(text: str) -> str:
    return printable(text).replace("|", "\\|").replace("\n", " ")


def verdict_markdown(ev: Evaluation) -> str:
    v = ev.verdict
    assert v is not None
    word = "PASSED" if v.passed else "FAILED"
    lines = [
        f"### {v.kb_id} change gate: {word}",
        "",
        f"Policy **{_md(v.policy.name)}** ({_md(v.policy.source)}), judged {v.today.isoformat()} "
        f"by kbscan {ev.kbscan_version} from `{_md(ev.source)}`.",
        "",
    ]
    lines += [f"- {_md(r)}" for r in v.reasons]
    counts = ev.counts()
    lines += ["", "| status | hosts |", "|---|---|"]
    lines += [f"| {s.value} | {n} |" for s, n in counts.items() if n]
    if v.failing and ev.several:
        lines += ["", "Failing hosts:", "", "| host | KB | status | reason |", "|---|---|---|---|"]
        lines += [
            f"| {_md(h.host)} | {h.kb_id} | {h.status.value} | {_md(h.reason)} |"
            for h in v.failing[:50]
        ]
        if len(v.failing) > 50:
            lines.append(f"| ... | | | and {len(v.failing) - 50} more in the verdict JSON |")
    elif v.failing:
        lines += ["", "Failing hosts:", "", "| host | status | reason |", "|---|---|---|"]
        lines += [f"| {_md(h.host)} | {h.status.value} | {_md(h.reason)} |" for h in v.failing[:50]]
        if len(v.failing) > 50:
            lines.append(f"| ... | | and {len(v.failing) - 50} more in the verdict JSON |")
    if v.exemptions_used or v.exemptions_expired:
        lines += [
            "",
            "Exemptions:",
            "",
            "| host | state | expires | approver | reason |",
            "|---|---|---|---|---|",
        ]
        for state, group in (("used", v.exemptions_used), ("EXPIRED", v.exemptions_expired)):
            lines += [
                f"| {_md(e.host)} | {state} | {e.expires.isoformat()} | {_md(e.approver)} "
                f"| {_md(e.reason)} |"
                for e in group
            ]
    if v.inputs:
        lines += ["", "Inputs (sha256):", ""]
        lines += [f"- `{_md(f)}` `{h}`" for f, h in v.inputs]
    return "\n".join(lines) + "\n"


def junit_xml(ev: Evaluation) -> bytes:
    """One test case per host: failures for hosts that fail, skipped for out-of-scope."""
    v = ev.verdict
    assert v is not None
    suite = ET.Element(
        "testsuite",
        {
            "name": f"kbscan gate {v.kb_id}",
            "tests": str(len(v.hosts)),
            "failures": str(len(v.failing)),
            "skipped": str(v.count(Outcome.OUT_OF_SCOPE)),
            "timestamp": ev.generated_at.isoformat(),
        },
    )
    for h in v.hosts:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"{h.kb_id or v.kb_id}.{h.status.value}", "name": printable(h.host)},
        )
        message = printable(h.reason)
        if h.outcome is Outcome.FAIL:
            failure = ET.SubElement(case, "failure", {"message": message, "type": h.status.value})
            failure.text = message
        elif h.outcome is Outcome.OUT_OF_SCOPE:
            ET.SubElement(case, "skipped", {"message": message})
        elif h.outcome in (Outcome.WARN, Outcome.EXEMPT):
            out = ET.SubElement(case, "system-out")
            out.text = f"{h.outcome.value}: {message}"
    suites = ET.Element("testsuites")
    suites.append(suite)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


def diff_to_json(ev: Evaluation) -> dict[str, Any]:
    d = ev.diff
    assert d is not None
    return {
        **(
            {"baseline": ev.stem, "kbs": [kb.id for kb in ev.kbs]}
            if ev.several
            else {"kb": ev.kbs[0].id}
        ),
        "before": d.before_source,
        "after": d.after_source,
        "counts": {c.value: len(d.of(c)) for c in Change},
        "hosts": [
            {
                "host": h.host,
                **({"kb": h.kb_id} if ev.several else {}),
                "change": h.change.value,
                "before": h.before.value if h.before else None,
                "after": h.after.value if h.after else None,
                "before_version": h.before_version,
                "after_version": h.after_version,
            }
            for h in d.hosts
        ],
    }


def render_diff(ev: Evaluation) -> str:
    d = ev.diff
    assert d is not None
    lines = [f"{ev.stem}: {d.before_source} -> {d.after_source}", ""]
    for change in Change:
        lines.append(f"  {change.value:<11} {len(d.of(change)):>6}")
    interesting = [h for h in d.hosts if h.change not in (Change.UNCHANGED,)]
    if interesting:
        rows = [("HOST", "CHANGE", "BEFORE", "AFTER", "VERSION")]
        for h in interesting:
            rows.append(
                (
                    printable(h.host)[:40] + (f" {h.kb_id}" if ev.several else ""),
                    h.change.value,
                    h.before.value if h.before else "-",
                    h.after.value if h.after else "-",
                    f"{h.before_version or '-'} -> {h.after_version or '-'}",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines.append("")
        for r in rows:
            lines.append(
                "  "
                + "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True))
                + "  "
                + r[4]
            )
    return "\n".join(lines) + "\n"


class _Text(ReportFormat):
    """A format that is one rendered document, named ``<KB>-<name>.<suffix>``."""

    name: str

    def render(self, evaluation: Evaluation) -> str:
        raise NotImplementedError

    def path_for(self, evaluation: Evaluation, out_dir: Path) -> Path:
        return out_dir / f"{evaluation.stem}-{self.name}.{self.suffix}"

    def write(self, evaluation: Evaluation, out_dir: Path) -> Path:
        path = self.path_for(evaluation, out_dir)
        try:
            path.write_text(self.render(evaluation), encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
        return path


def _json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class VerdictJson(_Text):
    suffix, name = "json", "verdict"

    def render(self, evaluation: Evaluation) -> str:
        return _json_text(verdict_to_json(evaluation))


class VerdictMarkdown(_Text):
    suffix, name = "md", "verdict"

    def render(self, evaluation: Evaluation) -> str:
        return verdict_markdown(evaluation)


class DiffJson(_Text):
    suffix, name = "json", "diff"

    def render(self, evaluation: Evaluation) -> str:
        return _json_text(diff_to_json(evaluation))


def write_junit(evaluation: Evaluation, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(junit_xml(evaluation))
    except OSError as exc:
        raise ReportError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
    return path
