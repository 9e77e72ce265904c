"""Render the README's workbook screenshots from a demo run, as a person sees them.

``python data/demo/render_screenshots.py REPORTS_DIR`` (after ``kbscan demo -o
REPORTS_DIR``) converts the demo workbooks to PDF with LibreOffice (``soffice``, Debian's
libreoffice-calc) and crops pages to PNG with pdftoppm (poppler-utils) into
data/demo/screenshots/. Run by hand; nothing in the tests needs these tools.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "screenshots"

# (workbook under the reports folder, PDF page, PNG name, crop: dpi, x, y, width, height)
SHOTS = [
    ("KB934709-remediation.xlsx", 1, "summary", (110, 0, 0, 1280, 1100)),
    ("KB934709-remediation.xlsx", 3, "remediation", (220, 140, 190, 2250, 1150)),
    ("KB2492386-remediation.xlsx", 1, "summary-kb2492386", (110, 0, 0, 1280, 1100)),
    ("KB981506-remediation.xlsx", 3, "remediation-kb981506", (220, 140, 190, 2250, 380)),
    ("demo-baseline-remediation.xlsx", 3, "matrix", (110, 60, 90, 900, 760)),
    ("demo-baseline-remediation.xlsx", 5, "remediation-baseline", (160, 100, 150, 1750, 900)),
]


def main(reports: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for workbook, page, name, (dpi, x, y, w, h) in SHOTS:
            pdf_dir = Path(tmp) / name
            subprocess.run(
                ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(pdf_dir),
                 str(reports / workbook)],
                check=True, capture_output=True, timeout=300,
            )  # fmt: skip
            pdf = next(pdf_dir.glob("*.pdf"))
            subprocess.run(
                ["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-x", str(x),
                 "-y", str(y), "-W", str(w), "-H", str(h), "-png", "-singlefile", str(pdf),
                 str(OUT / name)],
                check=True, timeout=120,
            )  # fmt: skip
            print(OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "reports")))
