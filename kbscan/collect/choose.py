"""Which protocol reads a host: WinRM, SMB, or WinRM with SMB when no listener answers.

The inventory's ``protocol`` column wins for its host; the scan's ``--protocol`` covers
the rest. ``auto`` falls back to SMB only when nothing answered on the WinRM port
(refused, unroutable, or silent until its connect timed out): an answer of any kind,
refused credentials included, is the host's word, and trying the same credentials over
another protocol would only add a failed logon to the account's lockout count. Both
attempts share the host's one deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from kbscan.collect.outcome import Collected
from kbscan.collect.plan import CollectionPlan
from kbscan.collect.smb import SmbCollector, SmbSettings, impacket_missing
from kbscan.collect.winrm import WinrmCollector, WinrmSettings
from kbscan.errors import InputError
from kbscan.model import Protocol, Target


@dataclass(frozen=True)
class Access:
    """How to reach the fleet: the settings of each protocol and the scan's choice."""

    winrm: WinrmSettings
    smb: SmbSettings
    protocol: Protocol = Protocol.WINRM

    @property
    def deadline(self) -> float:
        return self.winrm.deadline

    def protocols_for(self, targets: tuple[Target, ...]) -> set[Protocol]:
        return {t.protocol or self.protocol for t in targets}

    def check(self, targets: tuple[Target, ...]) -> None:
        """Refuse before scanning when a host needs SMB and impacket is not installed."""
        needed = self.protocols_for(targets) & {Protocol.SMB, Protocol.AUTO}
        missing = impacket_missing() if needed else None
        if missing:
            raise InputError(
                f"scanning over {'/'.join(sorted(p.value for p in needed))} needs impacket, "
                f"which is not installed: {missing}"
            )


class ProtocolCollector:
    """Collects each target over its protocol; build one per worker thread."""

    def __init__(self, plan: CollectionPlan, access: Access) -> None:
        self.plan = plan
        self.access = access
        self._winrm: WinrmCollector | None = None
        self._smb: SmbCollector | None = None

    def winrm(self) -> WinrmCollector:
        if self._winrm is None:
            self._winrm = WinrmCollector(self.plan, self.access.winrm)
        return self._winrm

    def smb(self) -> SmbCollector:
        if self._smb is None:
            self._smb = SmbCollector(self.plan, self.access.smb)
        return self._smb

    def collect(self, target: Target, deadline_at: float | None = None) -> Collected:
        protocol = target.protocol or self.access.protocol
        if protocol is Protocol.SMB:
            return self.smb().collect(target, deadline_at)
        at = deadline_at if deadline_at is not None else time.monotonic() + self.access.deadline
        first = self.winrm().collect(target, at)
        if protocol is Protocol.WINRM or first.answered or time.monotonic() >= at:
            return first
        second = self.smb().collect(target, at)
        return replace(second, round_trips=first.round_trips + second.round_trips)
