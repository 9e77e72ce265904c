"""Read a gate policy (TOML). Strict: an unknown key or value is an error, not ignored,
because a misspelt ``max_unkown = 0`` that is ignored lets a fleet of unreachable hosts
pass a change review.

    name = "CAB: SMTP gateways"
    max_unknown = 2               # hosts that could not be scanned, at most
    max_unknown_share = 0.05      # or as a share of the hosts in scope

    [scope]                       # every host when absent
    sites = ["London", "New York"]
    owners = ["mail-team"]
    tags = { group = "smtp_gateways" }
    hosts = ["lon-smtp01"]

    [kbs]                         # a baseline's KBs: fail (as the statuses say), warn, pass
    KB2492386 = "warn"
    [statuses]                    # fail | warn | pass; the default is shown
    NEEDS_HOTFIX = "fail"
    NEEDS_SERVICE_PACK = "fail"
    RESTART_PENDING = "fail"
    SUSPECT = "fail"
    UNKNOWN = "warn"              # limited by max_unknown / max_unknown_share
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kbscan.errors import InputError
from kbscan.gate.model import DEFAULT_TREATMENT, Policy, Scope, Treatment
from kbscan.model import Status
from kbscan.tomlfile import read_toml

MAX_POLICY_BYTES = 1024 * 1024
_TOP = {"name", "max_unknown", "max_unknown_share", "scope", "statuses", "kbs"}
_SCOPE = {"sites", "owners", "tags", "hosts"}


class PolicyError(InputError):
    """A policy file that cannot be read, or holds a key or value kbscan does not know."""


def load_policy(path: Path) -> Policy:
    empty = "empty policy file; leave out --policy for the default policy"
    return parse_policy(read_toml(path, PolicyError, "a policy", empty), str(path))


def parse_policy(data: dict[str, Any], source: str) -> Policy:
    def fail(key: str, message: str) -> PolicyError:
        return PolicyError(f"{key}: {message}", path=source)

    for key in data:
        if key not in _TOP:
            raise fail(key, f"unknown key (known: {', '.join(sorted(_TOP))})")
    name = data.get("name", "policy")
    if not isinstance(name, str):
        raise fail("name", "expected text")
    max_unknown = data.get("max_unknown")
    if max_unknown is not None and (
        not isinstance(max_unknown, int) or isinstance(max_unknown, bool) or max_unknown < 0
    ):
        raise fail("max_unknown", f"{max_unknown!r} is not a whole number of hosts, 0 or more")
    share = data.get("max_unknown_share")
    if share is not None:
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise fail("max_unknown_share", f"{share!r} is not a share from 0 to 1")
        share = float(share)
    scope = parse_scope(data.get("scope", {}), fail)
    treatment = dict(DEFAULT_TREATMENT)
    statuses = data.get("statuses", {})
    if not isinstance(statuses, dict):
        raise fail("statuses", "expected a table")
    for key, value in statuses.items():
        try:
            status = Status(key)
        except ValueError:
            raise fail(
                f"statuses.{key}", f"unknown status (known: {', '.join(s.value for s in Status)})"
            ) from None
        try:
            treatment[status] = Treatment(value)
        except ValueError:
            raise fail(f"statuses.{key}", f"{value!r} is not fail, warn or pass") from None
    kbs = data.get("kbs", {})
    if not isinstance(kbs, dict):
        raise fail("kbs", "expected a table of KB id = fail, warn or pass")
    per_kb: list[tuple[str, Treatment]] = []
    for key, value in kbs.items():
        if not (key.upper().startswith("KB") and key[2:].isdigit()):
            raise fail(f"kbs.{key}", "not a KB id such as KB934709")
        try:
            per_kb.append((key.upper(), Treatment(value)))
        except ValueError:
            raise fail(f"kbs.{key}", f"{value!r} is not fail, warn or pass") from None
    return Policy(
        name=name,
        kbs=tuple(per_kb),
        treatment=tuple(treatment.items()),
        max_unknown=max_unknown,
        max_unknown_share=share,
        scope=scope,
        source=source,
    )


def parse_scope(value: Any, fail: Any) -> Scope:
    if not isinstance(value, dict):
        raise fail("scope", "expected a table")
    for key in value:
        if key not in _SCOPE:
            raise fail(f"scope.{key}", f"unknown key (known: {', '.join(sorted(_SCOPE))})")

    def texts(key: str) -> tuple[str, ...]:
        items = value.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise fail(f"scope.{key}", "expected a list of names")
        return tuple(items)

    tags = value.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise fail("scope.tags", "expected a table of column = value")
    return Scope(
        sites=texts("sites"),
        owners=texts("owners"),
        tags=tuple((k.lower(), v) for k, v in tags.items()),
        hosts=texts("hosts"),
    )
