"""The KB file schema (version 1), validated field by field.

The schema is documented in data/kb/README.md. Validation is strict, unknown fields
included, because a misspelt ``excluded_when`` that is silently ignored would turn
Exchange servers into NEEDS_HOTFIX.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kbscan.jsonfields import FieldError, Fields
from kbscan.kb.interface import KbError
from kbscan.model import (
    Arch,
    ExcludedProduct,
    FileRow,
    ImpliedServicePack,
    KbDefinition,
    KnownService,
    Platform,
    RestartRequirement,
    ServicePackRange,
    ServiceRef,
)
from kbscan.versions import FileVersion

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 4 * 1024 * 1024

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
        "known_services", "file_locations", "default_location",
    }
)  # fmt: skip
_ARCH_NAMES = {a.value: a for a in Arch}
_BRANCHES = ("GDR", "QFE", "LDR", "RTM")


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
        _check_schema_version(f)
        ranges = tuple(
            ServicePackRange(
                service_pack=r.integer("service_pack", hi=9),
                first_revision=r.integer("first_revision", hi=0xFFFF),
                last_revision=r.integer("last_revision", hi=0xFFFF),
            )
            for r in f.objects("service_pack_ranges", allowed=frozenset(
                {"service_pack", "first_revision", "last_revision", "note"}))
        )  # fmt: skip
        implied = tuple(
            ImpliedServicePack(
                architecture=i.converted("architecture", _arch),
                service_pack=i.integer("service_pack", hi=9),
                reason=i.text("reason"),
            )
            for i in f.objects("implied_service_packs", allowed=frozenset(
                {"architecture", "service_pack", "reason"}))
        )  # fmt: skip
        known = tuple(
            KnownService(
                phrases=tuple(k.texts("phrases")),
                service=ServiceRef(k.text("name"), k.text("display_name")),
                process=k.opt_text("process"),
            )
            for k in f.objects("known_services", allowed=frozenset(
                {"phrases", "name", "display_name", "process"}))
        ) if f.has("known_services") else ()  # fmt: skip
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
            **(
                {"default_location": location}
                if (location := f.opt_text("default_location"))
                else {}
            ),
        )
    except FieldError as exc:
        raise KbError(exc.message, path=origin) from None


def parse_kb(data: Any, origin: str, platforms: dict[str, Platform]) -> KbDefinition:
    """Turn a parsed KB file into a KbDefinition, or raise KbError naming the field."""
    try:
        return _parse_kb(data, platforms)
    except FieldError as exc:
        raise KbError(exc.message, path=origin) from None


def _parse_kb(data: Any, platforms: dict[str, Platform]) -> KbDefinition:
    f = Fields(data, allowed=_KB_KEYS)
    _check_schema_version(f)
    kb_id = f.text("id", max_len=32)
    if not (kb_id.startswith("KB") and kb_id[2:].isdigit()):
        f.fail("id", f"{kb_id!r} is not a KB id such as KB934709")
    platform_id = f.text("platform")
    if platform_id not in platforms:
        f.fail(
            "platform", f"unknown platform {platform_id!r} (known: {', '.join(sorted(platforms))})"
        )
    platform = platforms[platform_id]

    prereq = f.obj(
        "prerequisite", allowed=frozenset({"service_packs", "text", "remedy_service_pack"})
    )
    sps = prereq.items("service_packs")
    if not sps or not all(
        isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= 9 for s in sps
    ):
        prereq.fail("service_packs", "expected a non-empty list of service pack numbers")

    requires = f.obj("requires", allowed=frozenset({"services"}))
    services = tuple(_services(requires))
    excluded = f.obj("excluded_when", allowed=frozenset({"products"}))
    products = tuple(
        ExcludedProduct(
            name=p.text("name"), versions=tuple(p.texts("versions")), reason=p.text("reason")
        )
        for p in excluded.objects("products", allowed=frozenset({"name", "versions", "reason"}))
    )
    restart_f = f.obj(
        "restart", allowed=frozenset({"services", "dependents", "process", "text", "computer"})
    )
    restart = RestartRequirement(
        services=tuple(_services(restart_f)),
        dependents=restart_f.boolean("dependents"),
        process=restart_f.opt_text("process"),
        text=restart_f.text("text"),
        computer=bool(restart_f.opt_boolean("computer")),
    )
    evidence = f.obj("installed_evidence", allowed=frozenset({"hotfix_ids"}))
    paths_f = f.obj("file_paths")
    file_paths: dict[str, str] = {}
    for name in paths_f.raw_keys():
        file_paths[name.lower()] = paths_f.text(name)

    rows = []
    seen: set[tuple[int, Arch, str, str | None]] = set()
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
        )
        key = (row.service_pack, row.architecture, name.lower(), row.service_branch)
        if key in seen:
            branch = f" ({row.service_branch})" if row.service_branch else ""
            r.fail("name", f"{name} is listed twice for {row.label}{branch}")
        seen.add(key)
        rows.append(row)
    if not rows:
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
        platform=platform,
        prerequisite_service_packs=tuple(sps),
        prerequisite_text=prereq.text("text"),
        remedy_service_pack=remedy,
        required_services=services,
        excluded_products=products,
        restart=restart,
        hotfix_ids=tuple(evidence.texts("hotfix_ids")),
        files=tuple(rows),
    )


def _services(f: Fields) -> list[ServiceRef]:
    return [
        ServiceRef(name=s.text("name", max_len=256), display_name=s.text("display_name"))
        for s in f.objects("services", allowed=frozenset({"name", "display_name"}))
    ]


def _check_schema_version(f: Fields) -> None:
    version = f.integer("schema_version", hi=1000)
    if version != SCHEMA_VERSION:
        f.fail("schema_version", f"{version} is not supported (this kbscan reads {SCHEMA_VERSION})")


def _branch(text: str) -> str:
    if text not in _BRANCHES:
        raise ValueError(f"{text!r} is not one of {', '.join(_BRANCHES)}")
    return text


def _arch(text: str) -> Arch:
    try:
        return _ARCH_NAMES[text]
    except KeyError:
        raise ValueError(f"{text!r} is not one of {', '.join(_ARCH_NAMES)}") from None
