from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from kbscan.facts_codec import facts_from_json, facts_to_json
from kbscan.jsonfields import FieldError
from kbscan.model import CollectionFailure, FailureCategory, HostFacts
from tests.helpers import make_facts


@pytest.mark.parametrize(
    "facts",
    [
        make_facts(),
        make_facts(binary=False, hotfix=True, pending=True),
        make_facts(version=None, exchange="2003", smtp=False, sp=0, arch="ia64"),
        HostFacts(host="down", failure=CollectionFailure(FailureCategory.TIMEOUT, "slow")),
    ],
)
def test_round_trip_through_json_text(facts: HostFacts) -> None:
    text = json.dumps(facts_to_json(facts))
    back, collected = facts_from_json(json.loads(text))
    assert back == facts
    assert collected == {}


def _as_read_over_smb() -> HostFacts:
    """A host read over SMB: a ranged version read (no digest), no process start times,
    the Server service's start, and what the collector could not see."""
    facts = make_facts(inetinfo_start=None)
    file = facts.files[0]
    assert file.binary is not None
    binary = replace(file.binary, sha256=None, bytes_read=1536)
    return replace(
        facts,
        collector="smb",
        process_starts=None,
        files=(replace(file, version_text=None, binary=binary),),
        system_started=datetime(2026, 11, 2, 5, 0, tzinfo=UTC),
        blind_spots=("process start times (inetinfo.exe)",),
    )


def test_round_trip_of_facts_read_over_smb() -> None:
    facts = _as_read_over_smb()
    data = json.loads(json.dumps(facts_to_json(facts)))
    assert data["files"][0]["binary"]["bytes_read"] == 1536
    assert data["files"][0]["binary"]["sha256"] is None
    back, _ = facts_from_json(data)
    assert back == facts
    assert back.bytes_read == 1536


def test_facts_written_before_smb_read_back_unchanged() -> None:
    data = facts_to_json(make_facts())
    assert "system_started" not in data and "blind_spots" not in data
    assert "bytes_read" not in data["files"][0]["binary"]
    back, _ = facts_from_json(data)
    assert back.system_started is None and back.blind_spots == () and back.bytes_read is None


def _good() -> dict[str, Any]:
    return facts_to_json(make_facts())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "kbscan.facts/9"}, "schema: 'kbscan.facts/9' is not 'kbscan.facts/1'"),
        ({"host": ""}, "host: empty host name"),
        ({"host": 12}, "host: expected text, got int"),
        ({"architecture": "amd64"}, "architecture: 'amd64' is not one of: x86, x64, ia64"),
        ({"os": {"service_pack": "2"}}, "os.service_pack: expected a whole number, got text"),
        ({"files": [{"path": "x", "version": "6.0.3790"}]}, "files[0].version: '6.0.3790' is not"),
        ({"collected_at": "yesterday"}, "collected_at: 'yesterday' is not an ISO 8601"),
        ({"failure": {"category": "bad luck", "message": "x"}}, "failure.category: 'bad luck'"),
        ({"hotfixes": "KB934709"}, "hotfixes: expected a list, got text"),
        ({"surprise": 1}, "surprise: unknown field"),
    ],
)
def test_malformed_facts_name_the_field(change: dict[str, Any], message: str) -> None:
    data = {**_good(), **change}
    with pytest.raises(FieldError) as err:
        facts_from_json(data)
    assert message in str(err.value)


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(FieldError, match="top level: expected an object, got a list"):
        facts_from_json([1, 2])
