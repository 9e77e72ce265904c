"""Write the demo fleet: ``collected/<host>/facts.json`` and, where the demo pretends the
scan fetched it, a copy of aqueue.dll taken from the test fixtures.

``python data/demo/build_demo.py`` rewrites data/demo/collected. Every host is fictional;
the fleet is chosen to cover each status of DESIGN.md and all six rows of KB934709.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent.parent / "tests" / "fixtures" / "pe"
OUT = HERE / "collected"
COLLECTED_AT = "2026-11-24T08:00:00+00:00"
AQUEUE = "C:\\WINDOWS\\system32\\inetsrv\\aqueue.dll"

CAPTIONS = {
    "x86": "Microsoft(R) Windows(R) Server 2003, Standard Edition",
    "x64": "Microsoft(R) Windows(R) Server 2003 Standard x64 Edition",
    "ia64": "Microsoft(R) Windows(R) Server 2003, Enterprise Edition for Itanium-based Systems",
    "r2": "Microsoft(R) Windows(R) Server 2003 R2, Enterprise Edition",
}
TAGS = {
    "1830": "srv03_sp1_rtm.050324-1447",
    "2950": "srv03_sp1_qfe.070606-1226",
    "3959": "srv03_sp2_rtm.070216-1710",
    "4094": "srv03_sp2_qfe.070606-1234",
    "4186": "srv03_sp2_gdr.071102-1401",
    "4300": "srv03_sp2_qfe.080501-0900",
}
FILE_DATES = {
    "0": "2003-03-25T12:00:00+00:00",
    "1830": "2005-03-25T12:00:00+00:00",
    "2950": "2007-06-06T16:07:00+00:00",
    "3959": "2007-02-17T12:00:00+00:00",
    "4094": "2007-06-06T16:32:00+00:00",
    "4186": "2007-11-02T14:01:00+00:00",
    "4300": "2008-05-01T09:00:00+00:00",
}
INETINFO_START = "2026-11-01T06:00:00+00:00"


def host(
    name: str,
    site: str,
    owner: str,
    *,
    sp: int = 2,
    arch: str = "x86",
    rev: str | None = "4094",
    caption: str | None = None,
    version: str = "5.2.3790",
    product_type: int = 3,
    fetched: bool = True,
    binary_arch: str | None = None,
    smtp: bool = True,
    exchange: str | None = None,
    hotfix: bool | None = None,
    pending: bool = False,
    modified: str | None = None,
    failure: tuple[str, str] | None = None,
) -> dict:
    """One host's facts, as a scan would have stored them."""
    facts: dict = {
        "schema": "kbscan.facts/1",
        "host": name,
        "collected_at": COLLECTED_AT,
        "collector": "offline",
        "target": {"site": site, "owner": owner, "extra": {}},
    }
    if failure is not None:
        facts["failure"] = {"category": failure[0], "message": failure[1]}
        return facts
    if hotfix is None:
        hotfix = rev is not None and rev in ("2950", "4094")
    services = {"IISADMIN": "RUNNING"}
    if smtp:
        services["SMTPSVC"] = "RUNNING"
    if exchange:
        services.update({"MSEXCHANGEIS": "RUNNING", "MSEXCHANGESA": "RUNNING"})
    facts.update(
        {
            "computer_name": name.upper(),
            "system_root": "C:\\WINDOWS",
            "os": {
                "caption": caption or CAPTIONS[arch],
                "version": version,
                "csd_version": f"Service Pack {sp}" if sp else None,
                "service_pack": sp,
                "product_type": product_type,
            },
            "architecture": arch,
            "services": services,
            "products": [{"name": "Exchange Server", "version": exchange}] if exchange else [],
            "hotfixes": ["KB934709"] if hotfix else [],
            "pending_renames": (
                [
                    {
                        "source": "\\??\\C:\\WINDOWS\\system32\\inetsrv\\SET3F.tmp",
                        "destination": "!\\??\\" + AQUEUE,
                    }
                ]
                if pending
                else []
            ),
            "process_starts": {"inetinfo.exe": INETINFO_START},
            "files": [],
        }
    )
    if rev is None:
        facts["files"] = [{"path": AQUEUE, "present": False}]
        return facts
    file_version = f"6.0.3790.{rev}"
    entry: dict = {
        "path": AQUEUE,
        "present": True,
        "version": file_version,
        "size": 501760,
        "modified": modified or FILE_DATES[rev],
    }
    fixture_arch = binary_arch or arch
    if fetched:
        fixture = next(FIXTURES.glob(f"aqueue-{fixture_arch}-{file_version}-*.dll"))
        entry["size"] = fixture.stat().st_size
        entry["collected"] = "aqueue.dll"
        entry["_copy_from"] = fixture
    facts["files"] = [entry]
    return facts


FLEET = [
    # The six rows of KB934709, at, below and above the fixed version.
    host("lon-smtp01", "London", "mail-team", sp=2, arch="x86", rev="4094"),
    host("lon-smtp02", "London", "mail-team", sp=2, arch="x86", rev="3959"),
    host("lon-smtp03", "London", "mail-team", sp=2, arch="x86", rev="4300", hotfix=True),
    host("lon-smtp04", "London", "web-team", sp=1, arch="x86", rev="2950"),
    host("lon-smtp05", "London", "web-team", sp=1, arch="x86", rev="1830"),
    host("nyc-smtp01", "New York", "mail-team", sp=1, arch="ia64", rev="2950"),
    host("nyc-smtp02", "New York", "mail-team", sp=1, arch="ia64", rev="1830"),
    host("nyc-smtp03", "New York", "mail-team", sp=2, arch="ia64", rev="4094"),
    host("nyc-smtp04", "New York", "mail-team", sp=2, arch="ia64", rev="3959"),
    host("fra-smtp01", "Frankfurt", "infra", sp=1, arch="x64", rev="2950"),
    host("fra-smtp02", "Frankfurt", "infra", sp=0, arch="x64", rev="1830"),
    host("fra-smtp03", "Frankfurt", "infra", sp=2, arch="x64", rev="4094"),
    host("fra-smtp04", "Frankfurt", "infra", sp=2, arch="x64", rev="3959"),
    # Below the prerequisite.
    host("lon-relay01", "London", "infra", sp=0, arch="x86", rev=None, fetched=False),
    host("nyc-relay01", "New York", "infra", sp=0, arch="ia64", rev=None, fetched=False),
    # R2 is judged as its service pack.
    host("lon-r2-01", "London", "web-team", sp=2, arch="x86", rev="3959", caption=CAPTIONS["r2"]),
    host("fra-r2-02", "Frankfurt", "web-team", sp=2, arch="x64", rev="4094",
         caption="Microsoft(R) Windows(R) Server 2003 R2, Enterprise x64 Edition"),
    # Not applicable.
    host("lon-exch01", "London", "mail-team", exchange="2003", rev="3959"),
    host("nyc-exch02", "New York", "mail-team", exchange="2000", rev="3959", fetched=False),
    host("lon-web01", "London", "web-team", smtp=False, rev="3959", fetched=False),
    host("fra-dc01", "Frankfurt", "infra", version="6.0.6001", rev=None,
         caption="Microsoft(R) Windows(R) Server 2008 Standard", fetched=False),
    host("lon-ws01", "London", "infra", sp=2, arch="x64", product_type=1, rev="3959",
         caption="Microsoft(R) Windows(R) XP Professional x64 Edition", fetched=False),
    # Restart pending.
    host("nyc-smtp05", "New York", "mail-team", sp=2, rev="3959", hotfix=True, pending=True),
    host("fra-smtp05", "Frankfurt", "infra", sp=2, arch="x64", rev="4094",
         modified="2026-11-20T22:14:00+00:00"),
    # Suspect: evidence disagrees.
    host("lon-smtp06", "London", "mail-team", sp=2, arch="x86", rev="4094", binary_arch="x64"),
    host("lon-smtp07", "London", "mail-team", sp=2, arch="x86", rev="2950"),
    host("nyc-smtp06", "New York", "web-team", sp=1, arch="x86", rev="1830", hotfix=True),
    host("fra-smtp06", "Frankfurt", "infra", sp=2, arch="x86", rev="4186", hotfix=False),
    host("lon-smtp09", "London", "mail-team", sp=2, arch="x86", rev=None),
    # WMI evidence only (no copy fetched).
    host("nyc-smtp08", "New York", "mail-team", sp=2, arch="x86", rev="4094", fetched=False),
    host("fra-smtp09", "Frankfurt", "infra", sp=1, arch="x64", rev="1830", fetched=False),
    # Could not collect.
    host("lon-smtp08", "London", "mail-team",
         failure=("unreachable", "connection refused by 10.20.1.18:5985")),
    host("nyc-smtp07", "New York", "mail-team",
         failure=("refused credentials", "the server rejected the credentials (HTTP 401)")),
    host("fra-smtp07", "Frankfurt", "infra",
         failure=("timeout", "no answer within the 120 s per-host deadline")),
    host("fra-smtp08", "Frankfurt", "infra",
         failure=("WinRM fault", "w:QuotaLimit: the WS-Management service cannot process the "
                  "request because the maximum number of concurrent shells is reached")),
]  # fmt: skip


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    for facts in FLEET:
        folder = OUT / facts["host"]
        folder.mkdir(parents=True)
        for entry in facts.get("files", []):
            source = entry.pop("_copy_from", None)
            if source is not None:
                shutil.copyfile(source, folder / entry["collected"])
        (folder / "facts.json").write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(FLEET)} hosts under {OUT}")


if __name__ == "__main__":
    main()
