"""kbscan: does a hotfix apply to each Windows server, is it installed, and what must be done."""

__version__ = "0.1.0"
