"""The kept lookups change no byte: every message of a real SMB collection (client and
the simulator's server, SMB1 and SMB2, DCE/RPC, and every MS-RPC call's NDR) is packed
and parsed a second time with impacket as shipped, and both must agree."""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    not importlib.util.find_spec("impacket"), reason="impacket not installed (the smb extra)"
)


def _plain(value: Any) -> Any:
    """A field's value, comparable: nested structures by their own fields."""
    if hasattr(value, "fields") and isinstance(value.fields, dict):
        return (type(value).__name__, {k: _plain(v) for k, v in value.fields.items()})
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("host", ["lon-smtp01", "lon-fs01"])  # SMB1 (2003), SMB2 (2008 R2)
def test_every_message_of_a_collection_is_what_impacket_makes_of_it(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from impacket.dcerpc.v5.ndr import NDRCALL
    from impacket.structure import Structure

    from kbscan.collect import impacket_speed
    from kbscan.collect.plan import plan_for
    from kbscan.collect.smb import SmbCollector, SmbSettings
    from kbscan.kb.directory import default_source
    from kbscan.limits import HostDeadline
    from kbscan.model import Target
    from kbscan.simulator.smb_endpoint import SmbEndpoint
    from tests.simfleet import PASSWORD, USER, variant

    impacket_speed.install()
    lock = threading.RLock()  # one comparison at a time: the swap is process-wide
    seen = {"packed": 0, "parsed": 0, "calls": 0}
    differ: list[str] = []
    get_data, from_string = Structure.getData, Structure.fromString

    def packed_both_ways(self: Any) -> bytes:
        with lock:
            fast = get_data(self)
            if self.data is None:  # computed, not set by the caller
                with impacket_speed.impacket_as_shipped():
                    shipped = get_data(self)
                seen["packed"] += 1
                if fast != shipped:
                    differ.append(f"pack {type(self).__name__}")
            return fast

    def parsed_both_ways(self: Any, data: bytes) -> Any:
        with lock:
            result = from_string(self, data)
            fast = _plain(dict(self.fields))
            with impacket_speed.impacket_as_shipped():
                from_string(self, data)
            seen["parsed"] += 1
            if _plain(dict(self.fields)) != fast:
                shipped = _plain(dict(self.fields))
                keys = [k for k in set(fast) | set(shipped) if fast.get(k) != shipped.get(k)]
                said = [(k, fast.get(k), shipped.get(k)) for k in keys][:3]
                differ.append(f"parse {type(self).__name__}: {said}")
            return result

    ndr_get, ndr_from = NDRCALL.getData, NDRCALL.fromString

    def call_packed_both_ways(self: Any, so_far: int = 0) -> bytes:
        with lock:
            fast = ndr_get(self, so_far)
            with impacket_speed.impacket_as_shipped():
                shipped = ndr_get(self, so_far)
            seen["calls"] += 1
            if fast != shipped:
                differ.append(f"pack {type(self).__name__}")
            return fast

    def call_parsed_both_ways(self: Any, data: bytes, offset: int = 0) -> Any:
        with lock:
            result = ndr_from(self, data, offset)
            fast = _plain(dict(self.fields))
            with impacket_speed.impacket_as_shipped():
                ndr_from(self, data, offset)
            if _plain(dict(self.fields)) != fast:
                differ.append(f"parse {type(self).__name__}")
            return result

    monkeypatch.setattr(Structure, "getData", packed_both_ways)
    monkeypatch.setattr(Structure, "fromString", parsed_both_ways)
    monkeypatch.setattr(NDRCALL, "getData", call_packed_both_ways)
    monkeypatch.setattr(NDRCALL, "fromString", call_parsed_both_ways)
    kbs = [default_source().load(k) for k in ("KB934709", "KB981506", "KB2492386")]
    endpoint = SmbEndpoint(variant(host, "diff01"), USER, PASSWORD)
    try:
        target = Target(host="diff01", address="127.0.0.1", smb_port=endpoint.address[1])
        collected = SmbCollector(plan_for(kbs), SmbSettings(USER, PASSWORD)).collect(
            target, HostDeadline.from_now(30)
        )
    finally:
        endpoint.stop()
    assert collected.facts.failure is None, collected.facts.failure
    assert seen["packed"] > 100 and seen["parsed"] > 100 and seen["calls"] > 5
    assert not differ, sorted(set(differ))
