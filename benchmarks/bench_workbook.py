"""Time and peak memory of the remediation workbook beside a plain DataFrame.to_excel of
the same rows, for 10,000 and 100,000 hosts, in one run; and a baseline's workbook.

    python benchmarks/bench_workbook.py [--sizes 10000 100000] [--set-kbs 20]

With --set-kbs K, each size also writes the workbook of a baseline of K KBs (KB934709
and K-1 copies of it under other ids, so every host has K findings): the host x KB
matrix and the per-host remediation of a large set.

Each measurement runs in a fresh child process: it builds the findings (generated hosts,
judged by kbscan's evaluate), records its peak RSS, writes, and records the peak again;
the difference is what writing cost in memory. kbscan writes five sheets, streamed in
write-only mode; the baseline writes one sheet (the Hosts rows) with pandas' default
openpyxl engine, which holds the whole workbook in memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path


def build(n: int, kbs: int = 1) -> object:
    from kbscan.evaluate import evaluate
    from kbscan.kb.directory import default_source
    from kbscan.model import Target
    from kbscan.report.interface import Evaluation

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.helpers import make_facts

    kb = default_source().load("KB934709")
    kb_set = (kb, *(replace(kb, id=f"KB96{i:04d}") for i in range(1, kbs)))
    versions = ["6.0.3790.3959", "6.0.3790.4094", "6.0.3790.4300"]
    bases = [make_facts(version=v, binary=False) for v in versions]
    sites = ["London", "New York", "Frankfurt", "Tokyo"]
    findings = []
    for i in range(n):
        base = bases[i % 3]
        facts = replace(
            base,
            host=f"srv{i:06d}",
            target=Target(f"srv{i:06d}", site=sites[i % 4], owner=f"team{i % 7}"),
        )
        findings.extend(evaluate(facts, k) for k in kb_set)
    return Evaluation(
        kb_set,
        tuple(findings),
        "generated",
        datetime.now(UTC),
        "bench",
        name="baseline" if kbs > 1 else "",
    )


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, n: int, out: Path) -> dict[str, float]:
    evaluation = build(n, int(kind.split(":")[1]) if kind.startswith("set:") else 1)
    before = peak_mib()
    start = time.perf_counter()
    if kind == "kbscan" or kind.startswith("set:"):
        from kbscan.report.workbook import ExcelReport

        ExcelReport().write_to(evaluation, out)  # type: ignore[arg-type]
    else:
        import pandas as pd

        from kbscan.report.rows import finding_row

        frame = pd.DataFrame([finding_row(f) for f in evaluation.findings])  # type: ignore[attr-defined]
        frame.to_excel(out, sheet_name="Hosts", index=False)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "peak_mib": peak_mib(),
        "extra_mib": peak_mib() - before,
        "bytes": out.stat().st_size,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--set-kbs", type=int, default=0, help="also a baseline of this many KBs")
    p.add_argument("--child", nargs=3, metavar=("KIND", "N", "OUT"))
    args = p.parse_args()
    if args.child:
        kind, n, out = args.child
        print(json.dumps(child(kind, int(n), Path(out))))
        return 0
    print(
        f"{'hosts':>8} {'writer':<34} {'seconds':>8} {'peak MiB':>9} {'+MiB writing':>13} {'file MiB':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            kinds = [
                ("pandas", "DataFrame.to_excel (1 sheet)"),
                ("kbscan", "kbscan workbook (5 sheets, streamed)"),
            ]
            if args.set_kbs:
                kinds.append((f"set:{args.set_kbs}", f"baseline of {args.set_kbs} KBs (7 sheets)"))
            for kind, label in kinds:
                out = Path(tmp) / f"{kind.replace(':', '')}-{n}.xlsx"
                done = subprocess.run(
                    [sys.executable, __file__, "--child", kind, str(n), str(out)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(done.stdout)
                print(
                    f"{n:>8} {label:<34} {r['seconds']:>8.1f} {r['peak_mib']:>9.0f} "
                    f"{r['extra_mib']:>13.0f} {r['bytes'] / 2**20:>9.1f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
