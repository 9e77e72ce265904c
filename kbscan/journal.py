"""facts.jsonl as an append-only journal: one host per line, flushed and fsynced.

A scan can be killed at any moment (Ctrl-C, SIGKILL, a reboot). Each host's facts are
written as one line and synced before the next is taken, so at worst the last line is
torn; opening the journal for a resume finds the last complete line, cuts the torn tail
off, and the host it belonged to is scanned again. No host is lost, none is twice.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from kbscan.facts_codec import facts_from_json, facts_to_json
from kbscan.jsonfields import FieldError
from kbscan.model import HostFacts


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None
        self.discarded_tail = 0  # bytes of a torn last line cut off on resume

    def recover(self) -> dict[str, HostFacts]:
        """Hosts already journalled (last line wins), after cutting off a torn tail."""
        done: dict[str, HostFacts] = {}
        if not self.path.exists():
            return done
        good_end = 0
        with self.path.open("rb") as handle:
            offset = 0
            for raw in handle:
                end = offset + len(raw)
                if not raw.endswith(b"\n"):
                    break  # torn: written without its newline
                try:
                    facts, _ = facts_from_json(json.loads(raw))
                except (ValueError, FieldError):
                    break  # a line that does not parse ends what can be trusted
                done[facts.host.lower()] = facts
                good_end = end
                offset = end
        size = self.path.stat().st_size
        if size > good_end:
            self.discarded_tail = size - good_end
            with self.path.open("r+b") as handle:
                handle.truncate(good_end)
                handle.flush()
                os.fsync(handle.fileno())
        return done

    def start(self, *, resume: bool) -> dict[str, HostFacts]:
        """Open for a scan: resume what is journalled, or keep the last scan's journal
        beside the new one (facts-<UTC time>.jsonl) and start afresh; returns the hosts
        already done."""
        done: dict[str, HostFacts] = {}
        if resume:
            done = self.recover()
        elif self.path.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            self.path.rename(self.path.with_name(f"facts-{stamp}.jsonl"))
        self.open(fresh=not resume)
        return done

    def open(self, *, fresh: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("wb" if fresh else "ab")

    def append(self, facts: HostFacts, *, sync: bool = True) -> None:
        """Write one host's line; ``sync=False`` leaves it to the next ``sync()``, so a
        batch of hosts that finished together costs one fsync (group commit)."""
        assert self._handle is not None, "open() the journal first"
        line = json.dumps(facts_to_json(facts), ensure_ascii=False, separators=(",", ":"))
        self._handle.write(line.encode("utf-8") + b"\n")
        if sync:
            self.sync()

    def sync(self) -> None:
        assert self._handle is not None, "open() the journal first"
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
