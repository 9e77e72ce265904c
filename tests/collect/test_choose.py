"""Which collector reads a host: the inventory's protocol, else the scan's; auto tries
WinRM and falls back to SMB only when nothing answered; a crash is the fault of the
collector that was talking."""

from __future__ import annotations

from typing import ClassVar

import pytest

from kbscan.collect import choose
from kbscan.collect.access import Access
from kbscan.collect.choose import ProtocolCollector
from kbscan.collect.interface import Collector
from kbscan.collect.outcome import Collected
from kbscan.collect.plan import CollectionPlan
from kbscan.collect.registry import Registered
from kbscan.collect.smb import SmbSettings
from kbscan.collect.winrm import WinrmSettings
from kbscan.limits import HostDeadline
from kbscan.model import FailureCategory, HostFacts, Protocol, ReadBy, Target

SOON = HostDeadline.from_now(30)


class _Fake(Collector):
    """Answers as told; remembers who asked it."""

    fault: ClassVar[FailureCategory] = FailureCategory.WINRM_FAULT
    read_by: ClassVar[ReadBy] = ReadBy.WINRM
    answered = True
    calls: ClassVar[list[tuple[str, str, HostDeadline]]] = []

    def __init__(self, plan: CollectionPlan, access: Access) -> None:
        self.name = type(self).__name__

    def collect(self, target: Target, deadline: HostDeadline) -> Collected:
        self.calls.append((self.name, target.host, deadline))
        return Collected(HostFacts(host=target.host, collector=self.name), 2, False, self.answered)


class _Winrm(_Fake):
    answered = False  # nothing listened on the WinRM port


class _Smb(_Fake):
    fault = FailureCategory.SMB_FAULT
    read_by = ReadBy.SMB


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> ProtocolCollector:
    _Fake.calls.clear()
    monkeypatch.setattr(choose, "COLLECTORS", {
        Protocol.WINRM: Registered(_Winrm, _Winrm), Protocol.SMB: Registered(_Smb, _Smb),
    })  # fmt: skip
    access = Access(WinrmSettings(), SmbSettings(), Protocol.AUTO)
    return ProtocolCollector(CollectionPlan((), (), False, (), ()), access)


def test_auto_falls_back_when_nothing_answered_and_sums_the_trips(
    collector: ProtocolCollector,
) -> None:
    at = HostDeadline.from_now(30)
    collected = collector.collect(Target("h1"), at)
    assert collected.facts.collector == "_Smb" and collected.round_trips == 4
    assert [(n, h) for n, h, _ in _Fake.calls] == [("_Winrm", "h1"), ("_Smb", "h1")]
    assert {d for _, _, d in _Fake.calls} == {at}  # both attempts share the one deadline


def test_an_answer_ends_auto_at_winrm(collector: ProtocolCollector) -> None:
    _Winrm.answered = True
    try:
        assert collector.collect(Target("h2"), SOON).facts.collector == "_Winrm"
    finally:
        _Winrm.answered = False
    assert len(_Fake.calls) == 1


def test_the_inventory_protocol_wins(collector: ProtocolCollector) -> None:
    assert collector.collect(Target("h3", protocol=Protocol.SMB), SOON).facts.collector == "_Smb"
    assert collector.fault_for(Target("h3")) is FailureCategory.SMB_FAULT
    collector.collect(Target("h4", protocol=Protocol.WINRM), SOON)
    assert collector.fault_for(Target("h4")) is FailureCategory.WINRM_FAULT
