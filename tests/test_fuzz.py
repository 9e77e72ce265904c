"""Fuzzing the two readers of hostile bytes: the PE reader and the probe-output parser.

Every run tries 150 cases per property (derandomized, so CI is repeatable); a longer
campaign is ``HYPOTHESIS_PROFILE=fuzz pytest tests/test_fuzz.py`` (5,000 cases per
property, or ``KBSCAN_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import struct
import time
import tracemalloc
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from kbscan.collect.pe import PeError, read_pe_bytes
from kbscan.collect.plan import plan_for
from kbscan.collect.probe import parse_probe_output
from kbscan.evaluate import evaluate
from kbscan.kb.directory import default_source
from kbscan.model import Target
from kbscan.report.console import render_summary
from kbscan.report.interface import Evaluation
from tests.helpers import PE_DIR
from tests.simfleet import variant

KB = default_source().load("KB934709")
SEEDS = [p.read_bytes() for p in sorted(PE_DIR.glob("*.dll"))]
MAX_SECONDS = 1.0  # per file
MAX_BYTES = 32 * 1024 * 1024  # Python memory a single read may take


def _read_bounded(data: bytes) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        read_pe_bytes(data, "fuzz.dll")
    except PeError:
        pass
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, elapsed
    assert peak < MAX_BYTES, peak


@st.composite
def mutated_pe(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["flip", "byte", "dword", "cut", "grow"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "dword" and at + 4 <= len(data):
            # sizes, counts, offsets and RVAs: the fields a hostile file lies in
            value = draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, len(data), at]))
            struct.pack_into("<I", data, at, value)
        elif kind == "cut":
            del data[at:]
        elif kind == "grow":
            data += bytes(draw(st.integers(0, 4096)))
    return bytes(data)


@given(mutated_pe())
def test_mutated_pe_files_are_read_or_refused_in_bounded_time_and_memory(data: bytes) -> None:
    _read_bounded(data)


@given(st.binary(max_size=4096))
def test_random_bytes_are_never_a_crash(data: bytes) -> None:
    _read_bounded(b"MZ" + data)


def _probe_output() -> bytes:
    from kbscan.collect.probe import build_probe
    from kbscan.simulator.shell import Shell

    host = variant("lon-smtp02", "fz")
    return bytes(Shell(host).run(build_probe(plan_for([KB]), fetch=True)).stdout)


VALID = _probe_output()
HOSTILE_TEXT = [b"=HYPERLINK(\"x\")", b"\x1b[2J", b"\x00", b"\xff\xfe", b"\r\r\n", b"==KBSCAN:end==",
                b"==KBSCAN:fetch:f0==\r\n", b"Caption=\x1b]0;owned\x07", b"+cmd|' /C calc'!A0"]  # fmt: skip


@st.composite
def hostile_output(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "binary"]))
        if kind == "insert":
            data[at:at] = draw(st.sampled_from(HOSTILE_TEXT))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        elif kind == "replace":
            data[at : at + 1] = bytes([draw(st.integers(0, 255))])
        else:
            data[at:at] = draw(st.binary(max_size=300))
    return bytes(data)


@given(st.one_of(hostile_output(), st.binary(max_size=2000)))
def test_hostile_probe_output_is_parsed_or_rejected_cleanly(output: bytes) -> None:
    facts = parse_probe_output(output, plan_for([KB]), Target("fz"), datetime(2026, 11, 24, tzinfo=UTC))
    finding = evaluate(facts, KB)
    text = render_summary(
        Evaluation((KB,), (finding,), "fuzz", datetime(2026, 11, 24, tzinfo=UTC), "x")
    )
    assert "\x1b" not in text and "\x07" not in text and "\x00" not in text
    if facts.failure is not None:
        assert all(c.isprintable() for c in facts.failure.message)
