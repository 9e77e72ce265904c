"""The KB file schema (version 2; version 1 still loads), validated field by field.

The schema is documented in data/kb/README.md. Validation is strict, unknown fields
included, because a misspelt ``excluded_when`` that is silently ignored would turn
Exchange servers into NEEDS_HOTFIX. Version 1 held one platform and one flat file table;
version 2 holds the article's tables as published (several platforms and branches per
KB), and a version 1 file is read into the same records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kbscan.jsonfields import FieldError, Fields
from kbscan.kb.interface import KbError
from kbscan.model import (
    Arch,
    Branch,
    BranchRange,
    ExcludedProduct,
    FileRow,
    FileTable,
    ImpliedServicePack,
    KbDefinition,
    KnownService,
    LeftOutTable,
    Platform,
    PlatformRequirement,
    RestartRequirement,
    ServicePackRange,
    ServiceRef,
    UnjudgedRow,
    UnjudgedTable,
)
from kbscan.versions import FileVersion

SCHEMA_VERSION = 2
PLATFORM_SCHEMA_VERSION = 1
MAX_FILE_BYTES = 4 * 1024 * 1024

_KB_KEYS_V2 = frozenset(
    {
        "schema_version", "id", "title", "source", "platforms", "prerequisite_text", "requires",
        "excluded_when", "restart", "installed_evidence", "tables", "left_out", "not_judged",
    }
)  # fmt: skip
_UNJUDGED_KEYS = frozenset({"heading", "line", "platforms", "architecture", "note", "rows"})
_UNJUDGED_ROW_KEYS = frozenset({"name", "version", "size", "date", "time", "platform"})
_TABLE_KEYS = frozenset({"heading", "line", "platforms", "architecture", "note", "rows"})
_ROW_KEYS_V2 = frozenset(
    {
        "name", "version", "size", "date", "time", "platform", "service_pack",
        "service_pack_note", "service_branch", "branch_note", "path",
    }
)  # fmt: skip
_KB_KEYS = frozenset(
    {
        "schema_version", "id", "title", "source", "platform", "prerequisite", "requires",
        "excluded_when", "restart", "installed_evidence", "file_paths", "files",
    }
)  # fmt: skip
_ROW_KEYS = frozenset(
    {
        "heading", "service_pack", "service_pack_note", "architecture", "name", "version",
        "size", "date", "time", "platform", "service_branch",
    }
)  # fmt: skip
_PLATFORM_KEYS = frozenset(
    {
        "schema_version", "id", "name", "aliases", "os_version", "build", "product_types",
        "product_types_note", "service_pack_ranges", "implied_service_packs",
        "known_services", "file_locations", "default_location", "architectures",
        "service_packs", "service_packs_note", "branch_ranges", "branch_ranges_note",
        "products", "products_note", "other_architectures", "other_architectures_note",
        "aliases_note",
    }
)  # fmt: skip
_ARCH_NAMES = {a.value: a for a in Arch}
_BRANCHES = {b.value: b for b in Branch}


def read_json(path: Path) -> Any:
    """Read a JSON file of bounded size; errors name the file and line."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise KbError(f"cannot read: {exc.strerror}", path=str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise KbError(f"larger than {MAX_FILE_BYTES} bytes; not a KB file", path=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KbError(f"not UTF-8 (byte {exc.start})", path=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise KbError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None


def parse_platform(data: Any, origin: str) -> Platform:
    try:
        f = Fields(data, allowed=_PLATFORM_KEYS)
        _check_schema_version(f, PLATFORM_SCHEMA_VERSION)
        ranges, branches, implied = _revision_ranges(f)
        arches = (
            tuple(_arch(a) for a in f.texts("architectures"))
            if f.has("architectures")
            else tuple(Arch)
        )
        levels = f.items("service_packs") if f.has("service_packs") else []
        if not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 9 for x in levels):
            f.fail("service_packs", "expected service pack numbers 0 to 9")
        known = _known_services(f)
        locations_f = f.opt_obj("file_locations")
        locations = (
            tuple((k.lower(), locations_f.text(k)) for k in locations_f.raw_keys())
            if locations_f
            else ()
        )
        product_types = f.items("product_types")
        if not all(isinstance(p, int) and 1 <= p <= 3 for p in product_types):
            f.fail("product_types", "expected numbers 1 (workstation) to 3 (server)")
        return Platform(
            id=f.text("id"),
            name=f.text("name"),
            os_version=f.text("os_version"),
            build=f.integer("build", hi=0xFFFF),
            product_types=tuple(product_types),
            service_pack_ranges=ranges,
            implied_service_packs=implied,
            aliases=tuple(f.opt_texts("aliases") or ()),
            known_services=known,
            file_locations=locations,
            architectures=arches,
            service_packs=tuple(levels),
            branch_ranges=branches,
            products=tuple(f.opt_texts("products") or ()),
            other_architectures=tuple(f.opt_texts("other_architectures") or ()),
            **(
                {"default_location": location}
                if (location := f.opt_text("default_location"))
                else {}
            ),
        )
    except FieldError as exc:
        raise KbError(exc.message, path=origin) from None


def _revision_ranges(
    f: Fields,
) -> tuple[tuple[ServicePackRange, ...], tuple[BranchRange, ...], tuple[ImpliedServicePack, ...]]:
    """A release's service pack and branch revision ranges, and the levels implied by
    an architecture (x64 2003 shipped at SP1)."""
    ranges = tuple(
        ServicePackRange(
            service_pack=r.integer("service_pack", hi=9),
            first_revision=r.integer("first_revision", hi=0xFFFF),
            last_revision=r.integer("last_revision", hi=0xFFFF),
            build=r.opt_integer("build", hi=0xFFFF),
        )
        for r in f.objects("service_pack_ranges", allowed=frozenset(
            {"service_pack", "first_revision", "last_revision", "note", "build"}))
    )  # fmt: skip
    branches = tuple(
        BranchRange(
            build=b.integer("build", hi=0xFFFF),
            first_revision=b.integer("first_revision", hi=0xFFFF),
            last_revision=b.integer("last_revision", hi=0xFFFF),
            branch=b.converted("branch", _branch),
        )
        for b in f.objects("branch_ranges", allowed=frozenset(
            {"build", "first_revision", "last_revision", "branch", "note"}))
    ) if f.has("branch_ranges") else ()  # fmt: skip
    implied = tuple(
        ImpliedServicePack(
            architecture=i.converted("architecture", _arch),
            service_pack=i.integer("service_pack", hi=9),
            reason=i.text("reason"),
        )
        for i in f.objects("implied_service_packs", allowed=frozenset(
            {"architecture", "service_pack", "reason"}))
    )  # fmt: skip
    return ranges, branches, implied


def _known_services(f: Fields) -> tuple[KnownService, ...]:
    if not f.has("known_services"):
        return ()
    return tuple(
        KnownService(
            phrases=tuple(k.texts("phrases")),
            service=ServiceRef(k.text("name"), k.text("display_name")),
            process=k.opt_text("process"),
        )
        for k in f.objects("known_services", allowed=frozenset(
            {"phrases", "name", "display_name", "process"}))
    )  # fmt: skip


def parse_kb(data: Any, origin: str, platforms: dict[str, Platform]) -> KbDefinition:
    """Turn a parsed KB file into a KbDefinition, or raise KbError naming the field."""
    try:
        return _parse_kb(data, platforms)
    except FieldError as exc:
        raise KbError(exc.message, path=origin) from None


def _parse_kb(data: Any, platforms: dict[str, Platform]) -> KbDefinition:
    probe = Fields(data)
    version = probe.integer("schema_version", hi=1000)
    if version == 1:
        return _parse_kb_v1(data, platforms)
    if version != SCHEMA_VERSION:
        probe.fail(
            "schema_version",
            f"{version} is not supported (this kbscan reads 1 and {SCHEMA_VERSION})",
        )
    f = Fields(data, allowed=_KB_KEYS_V2)
    kb_id = _kb_id(f)
    requirements = []
    for p in f.objects(
        "platforms", allowed=frozenset({"platform", "service_packs", "remedy_service_pack"})
    ):
        platform = _platform(p, "platform", platforms)
        sps = _service_packs(p, allow_empty=True)
        remedy = p.opt_integer("remedy_service_pack", hi=9)
        if remedy is not None and remedy not in sps:
            p.fail("remedy_service_pack", f"SP{remedy} is not one of service_packs")
        if sps and remedy is None:
            p.fail("remedy_service_pack", "required when service_packs is not empty")
        requirements.append(PlatformRequirement(platform, tuple(sps), remedy))
    covered = {r.platform.id for r in requirements}
    if len(covered) != len(requirements):
        f.fail("platforms", "a platform is listed twice")
    tables = _tables(f, covered)
    if not tables:
        f.fail("tables", "the KB has no file table")
    unused = covered - {pid for t in tables for pid in t.platforms}
    if unused:
        f.fail("platforms", f"no table covers {', '.join(sorted(unused))}")
    left_out = tuple(
        LeftOutTable(
            line=x.opt_integer("line"), heading=x.text("heading"), kind=x.text("kind"),
            note=x.text("note"),
        )
        for x in f.objects("left_out", allowed=frozenset({"line", "heading", "kind", "note"}))
    ) if f.has("left_out") else ()  # fmt: skip
    return KbDefinition(
        id=kb_id,
        title=f.text("title"),
        source=f.text("source"),
        not_judged=_not_judged(f, platforms),
        platforms=tuple(requirements),
        prerequisite_text=f.text("prerequisite_text"),
        required_services=tuple(_services(f.obj("requires", allowed=frozenset({"services"})))),
        excluded_products=_excluded(f),
        restart=_restart(f),
        hotfix_ids=_hotfix_ids(f),
        tables=tuple(tables),
        left_out=left_out,
    )


def _parse_kb_v1(data: Any, platforms: dict[str, Platform]) -> KbDefinition:
    """Version 1: one platform, a flat table, paths by file name; read as version 2."""
    f = Fields(data, allowed=_KB_KEYS)
    kb_id = _kb_id(f)
    platform = _platform(f, "platform", platforms)
    prereq = f.obj(
        "prerequisite", allowed=frozenset({"service_packs", "text", "remedy_service_pack"})
    )
    sps = _service_packs(prereq, allow_empty=False)
    paths_f = f.obj("file_paths")
    file_paths: dict[str, str] = {}
    for name in paths_f.raw_keys():
        file_paths[name.lower()] = paths_f.text(name)

    tables: dict[tuple[str, Arch], list[FileRow]] = {}
    seen: set[tuple[int | None, Arch, str, str | None]] = set()
    for r in f.objects("files", allowed=_ROW_KEYS):
        name = r.text("name")
        if name.lower() not in file_paths:
            r.fail("name", f"{name!r} has no entry in file_paths (where it lives on the host)")
        row = FileRow(
            heading=r.text("heading"),
            service_pack=r.integer("service_pack", hi=9),
            service_pack_note=r.opt_text("service_pack_note"),
            architecture=r.converted("architecture", _arch),
            name=name,
            version=r.converted("version", FileVersion.parse),
            size=r.opt_integer("size"),
            date=r.opt_day("date"),
            time=r.opt_text("time"),
            platform=r.text("platform"),
            path=file_paths[name.lower()],
            service_branch=r.opt_converted("service_branch", _branch),
            platforms=(platform.id,),
        )
        key = (row.service_pack, row.architecture, name.lower(), row.service_branch)
        if key in seen:
            branch = f" ({row.service_branch})" if row.service_branch else ""
            r.fail("name", f"{name} is listed twice for SP{row.service_pack} "
                   f"{row.architecture.value}{branch}")  # fmt: skip
        seen.add(key)
        tables.setdefault((row.heading, row.architecture), []).append(row)
    if not tables:
        f.fail("files", "the file table is empty")
    remedy = prereq.integer("remedy_service_pack", hi=9)
    if remedy not in sps:
        prereq.fail(
            "remedy_service_pack", f"SP{remedy} is not one of the prerequisite service packs"
        )
    return KbDefinition(
        id=kb_id,
        title=f.text("title"),
        source=f.text("source"),
        platforms=(PlatformRequirement(platform, tuple(sps), remedy),),
        prerequisite_text=prereq.text("text"),
        required_services=tuple(_services(f.obj("requires", allowed=frozenset({"services"})))),
        excluded_products=_excluded(f),
        restart=_restart(f),
        hotfix_ids=_hotfix_ids(f),
        tables=tuple(
            FileTable(heading, (platform.id,), arch, tuple(rows))
            for (heading, arch), rows in tables.items()
        ),
    )


def _tables(f: Fields, covered: set[str]) -> list[FileTable]:
    """The file tables as published; one version per (platform, SP, architecture, path,
    branch)."""
    tables = []
    seen: dict[tuple[str, int | None, Arch, str, str | None], FileVersion] = {}
    for t in f.objects("tables", allowed=_TABLE_KEYS):
        table_platforms = tuple(t.texts("platforms"))
        for pid in table_platforms:
            if pid not in covered:
                t.fail("platforms", f"{pid!r} is not one of the KB's platforms")
        if not table_platforms:
            t.fail("platforms", "a table covers at least one platform")
        heading = t.text("heading")
        arch = t.converted("architecture", _arch)
        rows = []
        for r in t.objects("rows", allowed=_ROW_KEYS_V2):
            row = FileRow(
                heading=heading,
                service_pack=r.opt_integer("service_pack", hi=9),
                service_pack_note=r.opt_text("service_pack_note"),
                architecture=arch,
                name=r.text("name", max_len=260),
                version=r.opt_converted("version", FileVersion.parse),
                size=r.opt_integer("size"),
                date=r.opt_day("date"),
                time=r.opt_text("time"),
                platform=r.text("platform"),
                path=r.text("path", max_len=1024),
                service_branch=r.opt_converted("service_branch", _branch),
                platforms=table_platforms,
                branch_note=r.opt_text("branch_note"),
            )
            for pid in table_platforms:
                # The same file twice (a WOW row repeated per branch) is harmless; two
                # versions for one scope leave the judge nothing to hold a host to.
                key = (pid, row.service_pack, arch, row.path.lower(), row.service_branch)
                if row.version is None:
                    continue
                if seen.setdefault(key, row.version) != row.version:
                    r.fail("version", f"{row.name} is listed as {seen[key]} and as "
                           f"{row.version} for {row.label} on {pid}")  # fmt: skip
            rows.append(row)
        if not rows:
            t.fail("rows", "a file table has rows")
        tables.append(
            FileTable(heading, table_platforms, arch, tuple(rows), t.opt_text("note"),
                      t.opt_integer("line"))
        )  # fmt: skip
    return tables


def _not_judged(f: Fields, platforms: dict[str, Platform]) -> tuple[UnjudgedTable, ...]:
    """Rows for an architecture or release kbscan does not scan, kept as published."""
    if not f.has("not_judged"):
        return ()
    out = []
    for t in f.objects("not_judged", allowed=_UNJUDGED_KEYS):
        table_platforms = tuple(t.texts("platforms"))
        for pid in table_platforms:
            if pid not in platforms:
                t.fail("platforms", f"unknown platform {pid!r}")
        rows = tuple(
            UnjudgedRow(
                name=r.text("name", max_len=260),
                version=r.opt_text("version"),
                size=r.opt_integer("size"),
                date=r.opt_day("date"),
                time=r.opt_text("time"),
                platform=r.text("platform"),
            )
            for r in t.objects("rows", allowed=_UNJUDGED_ROW_KEYS)
        )
        if not rows:
            t.fail("rows", "a table has rows")
        out.append(
            UnjudgedTable(t.text("heading"), t.opt_integer("line"), table_platforms,
                          t.text("architecture"), t.text("note"), rows)
        )  # fmt: skip
    return tuple(out)


def parse_not_scanned(data: Any, origin: str) -> tuple[str, ...]:
    """The names of Windows releases kbscan does not scan (data/releases-not-scanned.json)."""
    try:
        f = Fields(data, allowed=frozenset({"schema_version", "note", "releases"}))
        _check_schema_version(f, PLATFORM_SCHEMA_VERSION)
        names: list[str] = []
        for r in f.objects("releases", allowed=frozenset({"name", "aliases"})):
            names.extend([r.text("name"), *r.texts("aliases")])
        return tuple(dict.fromkeys(names))
    except FieldError as exc:
        raise KbError(exc.message, path=origin) from None


def _kb_id(f: Fields) -> str:
    kb_id = f.text("id", max_len=32)
    if not (kb_id.startswith("KB") and kb_id[2:].isdigit()):
        f.fail("id", f"{kb_id!r} is not a KB id such as KB934709")
    return kb_id


def _platform(f: Fields, key: str, platforms: dict[str, Platform]) -> Platform:
    platform_id = f.text(key)
    if platform_id not in platforms:
        f.fail(key, f"unknown platform {platform_id!r} (known: {', '.join(sorted(platforms))})")
    return platforms[platform_id]


def _service_packs(f: Fields, *, allow_empty: bool) -> list[int]:
    sps = f.items("service_packs")
    if (not sps and not allow_empty) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= 9 for s in sps
    ):
        f.fail("service_packs", "expected a non-empty list of service pack numbers")
    return sps


def _excluded(f: Fields) -> tuple[ExcludedProduct, ...]:
    excluded = f.obj("excluded_when", allowed=frozenset({"products"}))
    return tuple(
        ExcludedProduct(
            name=p.text("name"), versions=tuple(p.texts("versions")), reason=p.text("reason")
        )
        for p in excluded.objects("products", allowed=frozenset({"name", "versions", "reason"}))
    )


def _restart(f: Fields) -> RestartRequirement:
    restart_f = f.obj(
        "restart", allowed=frozenset({"services", "dependents", "process", "text", "computer"})
    )
    return RestartRequirement(
        services=tuple(_services(restart_f)),
        dependents=restart_f.boolean("dependents"),
        process=restart_f.opt_text("process"),
        text=restart_f.text("text"),
        computer=bool(restart_f.opt_boolean("computer")),
    )


def _hotfix_ids(f: Fields) -> tuple[str, ...]:
    evidence = f.obj("installed_evidence", allowed=frozenset({"hotfix_ids"}))
    return tuple(evidence.texts("hotfix_ids"))


def _services(f: Fields) -> list[ServiceRef]:
    return [
        ServiceRef(name=s.text("name", max_len=256), display_name=s.text("display_name"))
        for s in f.objects("services", allowed=frozenset({"name", "display_name"}))
    ]


def _check_schema_version(f: Fields, supported: int) -> None:
    version = f.integer("schema_version", hi=1000)
    if version != supported:
        f.fail("schema_version", f"{version} is not supported (this kbscan reads {supported})")


def _branch(text: str) -> Branch:
    if text not in _BRANCHES:
        raise ValueError(f"{text!r} is not one of {', '.join(_BRANCHES)}")
    return _BRANCHES[text]


def _arch(text: str) -> Arch:
    try:
        return _ARCH_NAMES[text]
    except KeyError:
        raise ValueError(f"{text!r} is not one of {', '.join(_ARCH_NAMES)}") from None
