"""Which protocol reads a host: WinRM, SMB, or WinRM with SMB when no listener answers.

The inventory's ``protocol`` column wins for its host; the scan's ``--protocol`` covers
the rest. ``auto`` falls back to SMB only when nothing answered on the WinRM port
(refused, unroutable, or silent until its connect timed out): an answer of any kind,
refused credentials included, is the host's word, and trying the same credentials over
another protocol would only add a failed logon to the account's lockout count. Both
attempts share the host's one deadline.
"""

from __future__ import annotations

from dataclasses import replace

from kbscan.collect.access import Access
from kbscan.collect.interface import Collector
from kbscan.collect.outcome import Collected
from kbscan.collect.plan import CollectionPlan
from kbscan.collect.registry import COLLECTORS
from kbscan.limits import HostDeadline
from kbscan.model import FailureCategory, Protocol, ReadBy, Target


class ProtocolCollector(Collector):
    """Collects each target over its protocol (collect/registry.py); build one per
    worker thread."""

    fault = FailureCategory.WINRM_FAULT
    read_by = ReadBy.WINRM

    def __init__(self, plan: CollectionPlan, access: Access) -> None:
        self.plan = plan
        self.access = access
        self._built: dict[Protocol, Collector] = {}
        self._talking: Protocol = Protocol.WINRM  # the protocol of the attempt under way

    def over(self, protocol: Protocol) -> Collector:
        self._talking = protocol
        if protocol not in self._built:
            self._built[protocol] = COLLECTORS[protocol].build(self.plan, self.access)
        return self._built[protocol]

    def fault_for(self, target: Target) -> FailureCategory:
        """A crash is the fault of the collector that was talking to the host."""
        return COLLECTORS[self._talking].kind.fault

    def read_by_for(self, target: Target) -> ReadBy:
        return COLLECTORS[self._talking].kind.read_by

    def collect(self, target: Target, deadline: HostDeadline) -> Collected:
        protocol = target.protocol or self.access.protocol
        if protocol is not Protocol.AUTO:
            return self.over(protocol).collect(target, deadline)
        first = self.over(Protocol.WINRM).collect(target, deadline)
        if first.answered or deadline.passed():
            return first
        second = self.over(Protocol.SMB).collect(target, deadline)
        return replace(second, round_trips=first.round_trips + second.round_trips)
