"""Allow ``python -m kbscan``."""

from kbscan.cli import main

raise SystemExit(main())
