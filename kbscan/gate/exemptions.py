"""Read exemptions: host, KB, reason, approver, expiry date; one per CSV row.

An exemption is a decision someone signed: every field is required, the date is a real
date, and a bad row is an error naming its line, never a silently dropped waiver.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from kbscan.errors import InputError
from kbscan.gate.model import Exemption

REQUIRED = ("host", "kb", "reason", "approver", "expires")
MAX_EXEMPTIONS_BYTES = 16 * 1024 * 1024


class ExemptionError(InputError):
    """An exemptions file or row that cannot be used."""


def load_exemptions(path: Path) -> tuple[Exemption, ...]:
    try:
        if path.stat().st_size > MAX_EXEMPTIONS_BYTES:
            raise ExemptionError("larger than 16 MiB; not an exemptions file", path=str(path))
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ExemptionError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ExemptionError(f"not UTF-8 (byte {exc.start})", path=str(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ExemptionError(f"missing column(s): {', '.join(missing)}", path=str(path), line=1)
    reader.fieldnames = header
    found: list[Exemption] = []
    for row in reader:
        line = reader.line_num
        cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(cells.values()):
            continue
        empty = [c for c in REQUIRED if not cells.get(c)]
        if empty:
            raise ExemptionError(f"empty {', '.join(empty)}", path=str(path), line=line)
        try:
            expires = date.fromisoformat(cells["expires"])
        except ValueError:
            raise ExemptionError(
                f"expires {cells['expires'][:20]!r} is not a date (YYYY-MM-DD)",
                path=str(path),
                line=line,
            ) from None
        kb = cells["kb"].upper()
        if not kb.startswith("KB"):
            kb = "KB" + kb
        found.append(
            Exemption(cells["host"], kb, cells["reason"], cells["approver"], expires, line)
        )
    return tuple(found)
