"""The collectors kbscan has, one per protocol: the one place that names them.

Adding a collector is a module with a ``Collector`` beside the others and one line here;
``choose.ProtocolCollector`` picks from this table and the scan knows no protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kbscan.collect.access import Access
from kbscan.collect.interface import Collector
from kbscan.collect.plan import CollectionPlan
from kbscan.collect.smb import SmbCollector
from kbscan.collect.winrm import WinrmCollector
from kbscan.model import Protocol


@dataclass(frozen=True)
class Registered:
    kind: type[Collector]
    build: Callable[[CollectionPlan, Access], Collector]


COLLECTORS: dict[Protocol, Registered] = {
    Protocol.WINRM: Registered(WinrmCollector, lambda plan, a: WinrmCollector(plan, a.winrm)),
    Protocol.SMB: Registered(SmbCollector, lambda plan, a: SmbCollector(plan, a.smb)),
}
