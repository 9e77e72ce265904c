"""Findings as one JSON document: everything a later audit or the gate needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kbscan.facts_codec import facts_to_json
from kbscan.model import FileRow, Finding
from kbscan.report.interface import Evaluation, ReportError, ReportFormat


class JsonReport(ReportFormat):
    suffix = "json"

    def write(self, evaluation: Evaluation, out_dir: Path) -> Path:
        path = self.path_for(evaluation, out_dir)
        document = evaluation_to_json(evaluation)
        try:
            with path.open("w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2, ensure_ascii=False)
                handle.write("\n")
        except OSError as exc:
            raise ReportError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
        return path


def evaluation_to_json(evaluation: Evaluation) -> dict[str, Any]:
    """The judged fleet: one finding per (host, KB); a set names its KBs, one KB as ever."""
    if evaluation.several or evaluation.set_source:
        head: dict[str, Any] = {
            "baseline": evaluation.stem,
            "baseline_file": evaluation.set_source or None,
            "kbs": [
                {"kb": kb.id, "kb_title": kb.title, "kb_file": kb.origin} for kb in evaluation.kbs
            ],
        }
    else:
        head = {
            "kb": evaluation.kbs[0].id,
            "kb_title": evaluation.kbs[0].title,
            "kb_file": evaluation.kbs[0].origin,
        }
    return {
        **head,
        "source": evaluation.source,
        "generated_at": evaluation.generated_at.isoformat(),
        "kbscan_version": evaluation.kbscan_version,
        "counts": {s.value: n for s, n in evaluation.counts().items()},
        "findings": [finding_to_json(f) for f in evaluation.findings],
    }


def row_to_json(row: FileRow) -> dict[str, Any]:
    return {
        "heading": row.heading,
        "service_pack": row.service_pack,
        "architecture": row.architecture.value,
        "name": row.name,
        "version": str(row.version) if row.version else None,
        "size": row.size,
        "date": row.date.isoformat() if row.date else None,
        "time": row.time,
        "platform": row.platform,
        "platforms": list(row.platforms),
        "service_branch": row.service_branch,
        "path": row.path,
    }


def finding_to_json(f: Finding) -> dict[str, Any]:
    return {
        "host": f.host,
        "kb": f.kb_id,
        "status": f.status.value,
        "reason": f.reason,
        "action": f.action,
        "decided_by": f.decided_by.value,
        "platform": f.platform.id if f.platform else None,
        "service_pack": f.service_pack,
        "architecture": f.architecture.value if f.architecture else None,
        "row": row_to_json(f.row) if f.row else None,
        "required_version": str(f.required_version) if f.required_version else None,
        "installed_version": str(f.installed_version) if f.installed_version else None,
        "version_source": f.version_source,
        "evidence": list(f.evidence),
        "files": [
            {
                "name": j.row.name,
                "status": j.status.value,
                "reason": j.reason,
                "required_version": str(j.row.version) if j.row.version else None,
                "installed_version": str(j.installed_version) if j.installed_version else None,
                "version_source": j.version_source,
            }
            for j in f.files
        ],
        "facts": facts_to_json(f.facts),
    }
