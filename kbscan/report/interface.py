"""The report-format interface and the result every format receives."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from kbscan.errors import KbscanError
from kbscan.gate.model import Diff, Verdict
from kbscan.host_plan import HostPlan, host_plans
from kbscan.model import Finding, KbDefinition, Status


class ReportError(KbscanError):
    """A report could not be written (folder missing, disk full, file locked)."""


@dataclass(frozen=True)
class Evaluation:
    """A judged fleet: the input every report format and the gate read.

    One finding per (host, KB) of the set, hosts in order, KBs in the set's order. A set
    of one KB is written exactly as a single-KB evaluation always was.
    """

    kbs: tuple[KbDefinition, ...]
    findings: tuple[Finding, ...]
    source: str  # the facts file or folder judged
    generated_at: datetime
    kbscan_version: str
    verdict: Verdict | None = None  # set by kbscan gate
    diff: Diff | None = None  # set by kbscan diff
    name: str = ""  # the set's file-name stem: the KB id, or the baseline's name
    set_source: str = ""  # the baseline file, when there is one

    @cached_property
    def plans(self) -> tuple[HostPlan, ...]:
        """Each host's findings and the window they add up to, hosts by name."""
        plans = host_plans(self.findings, {kb.id: kb for kb in self.kbs})
        return tuple(sorted(plans, key=lambda p: p.host.lower()))

    @property
    def several(self) -> bool:
        """Whether a host has a row per KB: what a set of one never needs to say."""
        return len(self.kbs) > 1

    @property
    def stem(self) -> str:
        return self.name or self.kbs[0].id

    def counts(self) -> dict[Status, int]:
        counted = Counter(f.status for f in self.findings)
        return {status: counted.get(status, 0) for status in Status}


class ReportFormat(ABC):
    """One output format; ``write`` returns the path it wrote."""

    suffix: str

    @abstractmethod
    def write(self, evaluation: Evaluation, out_dir: Path) -> Path:
        """Write the report for ``evaluation`` under ``out_dir``."""

    def path_for(self, evaluation: Evaluation, out_dir: Path) -> Path:
        return out_dir / f"{evaluation.stem}-findings.{self.suffix}"
