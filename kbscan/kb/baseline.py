"""A set of KBs judged together: named on the command line, all known KBs, or a baseline.

A baseline file names the KBs a review asks about, and optionally which hosts it is for:

    name = "Mail gateways baseline"
    kbs = ["KB934709", "KB2492386"]
    [scope]                      # every host when absent; as in a gate policy
    sites = ["London"]
    tags = { group = "smtp_gateways" }

One KB is the simplest set: its name is the KB id, and every output is as it always was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kbscan.errors import InputError
from kbscan.gate.model import Scope
from kbscan.gate.policy import parse_scope
from kbscan.kb.interface import KbSource
from kbscan.model import KbDefinition
from kbscan.tomlfile import read_toml

_KEYS = {"name", "kbs", "scope"}


class BaselineError(InputError):
    """A baseline file that cannot be read, or names what kbscan does not know."""


@dataclass(frozen=True)
class KbSet:
    name: str  # the KB id for one KB; the baseline's name otherwise
    kbs: tuple[KbDefinition, ...]
    source: str  # the baseline file, or where the KBs were named
    scope: Scope = field(default_factory=Scope)

    @property
    def file_stem(self) -> str:
        """The name as a file name part: reports are ``<stem>-findings.csv``."""
        return re.sub(r"[^A-Za-z0-9._-]+", "-", self.name).strip("-.") or "baseline"


def load_kb_set(
    source: KbSource, kb_ids: Sequence[str] = (), baseline: Path | None = None
) -> KbSet:
    """The KBs named by ``--kb`` (repeatable; ``all`` is every KB kbscan knows) and
    ``--baseline``, in the order named, each once."""
    named: list[str] = []
    scope = Scope()
    name = ""
    where = "command line"
    if baseline is not None:
        name, listed, scope = _read_baseline(baseline)
        named += listed
        where = str(baseline)
    for kb_id in kb_ids:
        named += source.ids() if kb_id.strip().lower() == "all" else [kb_id]
    if not named:
        raise BaselineError("no KB named: give --kb KBnnnnnn (repeatable, or all) or --baseline")
    kbs: dict[str, KbDefinition] = {}
    for kb_id in named:
        kb = source.load(kb_id)
        kbs.setdefault(kb.id, kb)
    ordered = tuple(kbs.values())
    if not name:
        name = ordered[0].id if len(ordered) == 1 else "baseline"
    return KbSet(name, ordered, where, scope)


def _read_baseline(path: Path) -> tuple[str, list[str], Scope]:
    def fail(key: str, message: str) -> BaselineError:
        return BaselineError(f"{key}: {message}" if key else message, path=str(path))

    data = read_toml(path, BaselineError, "a baseline")
    for key in data:
        if key not in _KEYS:
            raise fail(key, f"unknown key (known: {', '.join(sorted(_KEYS))})")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise fail("name", "expected text")
    kbs = data.get("kbs")
    if not isinstance(kbs, list) or not kbs or not all(isinstance(k, str) and k for k in kbs):
        raise fail("kbs", "expected a non-empty list of KB ids")
    scope = parse_scope(data.get("scope", {}), fail)
    return name, kbs, scope
