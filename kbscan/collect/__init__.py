"""Collectors: ways of learning a host's facts (offline files now, WinRM later)."""
