"""kbscan's version read per file beside a full pefile parse of the same files, same run.

    python benchmarks/bench_pe_read.py [EXTRA_PE_FILES...]

Files: the test fixture DLLs (resource-only, 5 KB), the real MSVC-built launchers that pip
vendors (x86, x64, arm64; 90-180 KB with imports and relocations), and any files named on
the command line. Each file is read REPEAT times by each method, interleaved, and the
best of ROUNDS rounds is kept, so background noise hits both sides alike. Reports the
median time per file for each method and their ratio.
"""

from __future__ import annotations

import gc
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import pefile

from kbscan.collect.pe import read_pe_file

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 20
ROUNDS = 5


def files(extra: list[str]) -> list[Path]:
    found = sorted((ROOT / "tests" / "fixtures" / "pe").glob("*.dll"))
    spec = importlib.util.find_spec("pip")
    if spec and spec.submodule_search_locations:
        distlib = Path(next(iter(spec.submodule_search_locations))) / "_vendor" / "distlib"
        found += sorted(distlib.glob("*.exe"))
    return found + [Path(p) for p in extra]


def full_parse(path: Path) -> object:
    pe = pefile.PE(str(path))
    fixed = getattr(pe, "VS_FIXEDFILEINFO", None)
    # No pe.close(): it runs gc.collect(), which would inflate this side's time.
    return (fixed[0].FileVersionMS, fixed[0].FileVersionLS) if fixed else None


def best_time(func: object, path: Path) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(REPEAT):
            func(path)  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / REPEAT)
    return best


def main(argv: list[str]) -> int:
    paths = files(argv)
    gc.collect()
    print(f"{'file':<40} {'bytes':>9} {'kbscan ms':>10} {'full ms':>10} {'ratio':>7}")
    ratios, ours_all, full_all = [], [], []
    for path in paths:
        ours = best_time(read_pe_file, path)
        full = best_time(full_parse, path)
        ratios.append(full / ours)
        ours_all.append(ours)
        full_all.append(full)
        print(
            f"{path.name[:40]:<40} {path.stat().st_size:>9} {ours * 1e3:>10.3f} "
            f"{full * 1e3:>10.3f} {full / ours:>6.1f}x"
        )
    print(
        f"\n{len(paths)} files; median per file: kbscan {statistics.median(ours_all) * 1e3:.3f} ms, "
        f"full pefile parse {statistics.median(full_all) * 1e3:.3f} ms; "
        f"median ratio {statistics.median(ratios):.1f}x (full parse / kbscan)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
