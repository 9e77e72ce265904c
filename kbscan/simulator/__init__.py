"""A WS-Management endpoint on loopback that behaves like Windows Server 2003 hosts.

It knows Windows (cmd, wmic, reg, sc, type and the formats they print), not kbscan: it
interprets whatever command line arrives against a host profile, so the real pywinrm
client and the real probe are exercised end to end.
"""
