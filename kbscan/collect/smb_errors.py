"""The status codes impacket's errors carry: one reader for SMB's and MS-RPC's.

Kept apart from the collector so that the reads (collect/smb_reads.py), which need
impacket, and the collector, which imports without it, can share it without importing
each other.
"""

from __future__ import annotations

import contextlib


def error_code(exc: BaseException) -> int | None:
    """The NTSTATUS of an SMB error, or the Win32 code of an MS-RPC one; None for others
    (impacket's SMB errors say getErrorCode, its RPC errors get_error_code)."""
    for name in ("getErrorCode", "get_error_code"):
        getter = getattr(exc, name, None)
        if callable(getter):
            with contextlib.suppress(Exception):
                return int(getter())
    return None
