"""Import a folder of KB articles: import rate, rows accounted for, time per article.

    python benchmarks/bench_import.py ../shared/kb-corpus/kbarchive [--list]

For each article: does it import (and if not, the one-line reason), how long it takes
(best of ROUNDS runs), and whether every line that looks like a file row is accounted
for: a row of a judged table, of a table kept unjudged (Alpha, Windows 95, ...) or of a
table left out. "Looks like a file row" is decided here, by its own rule, independently
of the importer's parsing: a line that holds a date, a file name with an extension, and
a dotted version, a size with thousands separators or a processor. A row line the
importer did not account for is listed.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from kbscan.kb.article import ArticleError, ImportResult, import_article, read_article
from kbscan.kb.directory import default_source
from kbscan.kb.interface import KbError
from kbscan.kb.library import articles_in

ROUNDS = 3
_DATE = re.compile(
    r"\b\d{1,2}[-/](?:\d{1,2}|[A-Za-z]{3})[-/]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{2}-[A-Z][a-z]{2}-\d{4}"
)
_FILE = re.compile(r"[A-Za-z0-9_$~-]+\.[A-Za-z][A-Za-z0-9]{1,4}\b(?!:)")
_FIGURE = re.compile(
    r"\d+\.\d+\.\d+|\d{1,3}(?:,\d{3})+|\b(?:x86|x64|IA-64|Intel|i386|Alpha)\b", re.I
)


def looks_like_rows(text: str) -> list[int]:
    """Line numbers of the lines shaped like a file table row."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > 400 or "http" in line.lower():
            continue
        rest = _DATE.sub("", line)
        if _DATE.search(line) and _FILE.search(rest) and _FIGURE.search(rest):
            out.append(number)
    return out


def run(folder: Path, *, listing: bool) -> int:
    source = default_source()
    platforms, not_scanned = source.platforms(), source.not_scanned()
    articles = articles_in((folder,))
    times: list[float] = []
    failures: Counter[str] = Counter()
    detected = accounted = 0
    unaccounted: list[str] = []
    imported = 0
    for path in articles:
        text = read_article(path)
        result: ImportResult | None = None
        best = float("inf")
        error = None
        for _ in range(ROUNDS):
            start = time.perf_counter()
            try:
                result = import_article(text, str(path), platforms, not_scanned=not_scanned)
            except (ArticleError, KbError) as exc:
                error = str(exc)
            best = min(best, time.perf_counter() - start)
        times.append(best)
        rows = looks_like_rows(text)
        detected += len(rows)
        if result is None:
            failures[re.sub(r"^\S+?:\d*:? ?", "", error or "")[:90]] += 1
            if listing:
                print(f"{path.name}: failed: {error}")
            continue
        imported += 1
        missing = [n for n in rows if n not in result.row_lines]
        accounted += len(rows) - len(missing)
        unaccounted.extend(f"{path.name}:{n}" for n in missing)
        if listing:
            doc = result.document
            kept = doc.get("not_judged", [])
            print(f"{path.name}: {doc['id']}, {len(doc['tables'])} tables, "
                  f"{sum(len(t['rows']) for t in doc['tables'])} rows judged, "
                  f"{sum(len(t['rows']) for t in kept)} kept unjudged, {best * 1000:.1f} ms")  # fmt: skip
    total = len(articles)
    print(f"articles: {total}, imported: {imported} ({100 * imported / max(total, 1):.1f} %)")
    print(
        f"row-shaped lines: {detected}, of imported articles accounted for: {accounted} "
        f"(unaccounted: {len(unaccounted)})"
    )
    if times:
        print(
            f"time per article: median {statistics.median(times) * 1000:.1f} ms, "
            f"max {max(times) * 1000:.1f} ms, total {sum(times):.2f} s (best of {ROUNDS})"
        )
    for reason, count in failures.most_common():
        print(f"  failed x{count}: {reason}")
    for where in unaccounted[:40]:
        print(f"  unaccounted row: {where}")
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    sys.exit(run(Path(args[0]), listing="--list" in sys.argv))
