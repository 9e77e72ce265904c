"""How to reach the fleet: each protocol's settings and the scan's protocol choice."""

from __future__ import annotations

from dataclasses import dataclass

from kbscan.collect.smb import SmbSettings, impacket_missing
from kbscan.collect.winrm import WinrmSettings
from kbscan.errors import InputError
from kbscan.model import Protocol, Target


@dataclass(frozen=True)
class Access:
    """How to reach the fleet: the settings of each protocol and the scan's choice."""

    winrm: WinrmSettings
    smb: SmbSettings
    protocol: Protocol = Protocol.WINRM

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
