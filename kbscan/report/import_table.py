"""The table ``kbscan kb import DIR -o DIR`` prints: one line per article."""

from __future__ import annotations

from kbscan.kb.library import Imported
from kbscan.report.safety import printable


def render_imports(results: list[Imported]) -> str:
    """Article, KB, tables, rows and platforms of each import, or the one-line reason
    it failed; then how many imported."""
    header = ("ARTICLE", "KB", "TABLES", "ROWS", "PLATFORMS OR REASON")
    rows = [header]
    for r in results:
        if r.error is not None or r.document is None:
            rows.append((r.article.name, r.kb_id or "-", "-", "-", f"failed: {r.error}"))
            continue
        tables = len(r.document["tables"]) + len(r.document.get("not_judged", []))
        rows.append((r.article.name, r.kb_id, str(tables), str(r.rows), ", ".join(r.platforms)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in rows
    ]
    done = sum(1 for r in results if r.error is None)
    lines.append(f"{done} of {len(results)} articles imported")
    return "".join(printable(line) + "\n" for line in lines)
