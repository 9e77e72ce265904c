from __future__ import annotations

import json
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
