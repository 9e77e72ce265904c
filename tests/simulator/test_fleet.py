"""The simulated fleet: a host that is down keeps its port to itself."""

from __future__ import annotations

import socket

import pytest

from tests.simfleet import fleet, variant


def test_a_down_host_keeps_its_port_while_the_fleet_runs() -> None:
    """A down host's port was only free when it was chosen: a listener started later
    (another host's SMB endpoint, say) could be handed the same number, and a scan of
    the down host then read that other host's facts (seen once in the demo: lon-smtp08
    answered as NYC-FS01). The port stays bound, without listening, until the end."""
    down = variant("lon-smtp01", "down01", behaviour="down")
    with fleet([down]) as f:
        _, port = f.endpoints["down01"]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
            with pytest.raises(OSError):
                other.bind(("127.0.0.1", port))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.settimeout(2)
            with pytest.raises(ConnectionRefusedError):
                client.connect(("127.0.0.1", port))
