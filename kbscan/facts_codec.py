"""HostFacts <-> JSON, the format of facts.jsonl and of ``<folder>/<host>/facts.json``.

The format is documented in README.md ("Facts format") and is the seam between
collecting and judging: what a scan wrote yesterday must read back to the very same
HostFacts today, so the codec is strict both ways and round-trip tested.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kbscan.jsonfields import FieldError, Fields
from kbscan.model import (
    Arch,
    BinaryInfo,
    CollectionFailure,
    FailureCategory,
    FileFacts,
    HostFacts,
    OsFacts,
    PendingRename,
    ReadBy,
    Target,
)
from kbscan.versions import FileVersion, parse_version_text

FACTS_SCHEMA = "kbscan.facts/1"

_HOST_KEYS = frozenset(
    {
        "schema", "host", "collected_at", "collector", "failure", "target", "computer_name",
        "system_root", "os", "architecture", "services", "products", "hotfixes",
        "pending_renames", "process_starts", "files", "system_started", "blind_spots",
    }
)  # fmt: skip
_FILE_KEYS = frozenset(
    {
        "path",
        "present",
        "version",
        "size",
        "modified",
        "collected",
        "binary",
        "binary_error",
        "binary_source",
    }
)
_BINARY_KEYS = frozenset(
    {
        "file_version", "product_version", "version_text", "machine", "machine_code", "size",
        "sha256", "bytes_read",
    }
)  # fmt: skip
_OS_KEYS = frozenset({"caption", "version", "csd_version", "service_pack", "product_type"})
_ARCHES = {a.value: a for a in Arch}
_CATEGORIES = {c.value: c for c in FailureCategory}
_READ_BY = {r.value: r for r in ReadBy}


def _collector(f: Fields) -> ReadBy:
    """What read the host; facts without the key were collected elsewhere (offline)."""
    if f.opt_text("collector") is None:
        return ReadBy.OFFLINE
    return f.converted("collector", lambda t: _choice(t, _READ_BY))  # type: ignore[no-any-return]


_FAILURE_KEYS = frozenset({"category", "message", "advice"})


def _failure_json(failure: CollectionFailure) -> dict[str, str]:
    out = {"category": failure.category.value, "message": failure.message}
    if failure.advice is not None:
        out["advice"] = failure.advice
    return out


def facts_from_json(data: Any) -> tuple[HostFacts, dict[str, str]]:
    """Parse one host's facts; also returns ``{path: collected-file-name}`` for offline use.

    Raises FieldError naming the field; the caller adds the file and line.
    """
    f = Fields(data, allowed=_HOST_KEYS)
    schema = f.text("schema")
    if schema != FACTS_SCHEMA:
        f.fail("schema", f"{schema!r} is not {FACTS_SCHEMA!r}")
    host = f.text("host", max_len=255)
    if not host.strip():
        f.fail("host", "empty host name")
    failure = None
    if (ff := f.opt_obj("failure", allowed=_FAILURE_KEYS)) is not None:
        failure = CollectionFailure(
            category=ff.converted("category", lambda t: _choice(t, _CATEGORIES)),
            message=ff.text("message"),
            advice=ff.opt_text("advice"),
        )
    collected: dict[str, str] = {}
    files = []
    for item in f.objects("files", allowed=_FILE_KEYS) if f.has("files") else ():
        file_facts = _file_from_json(item)
        files.append(file_facts)
        if (name := item.opt_text("collected")) is not None:
            collected[file_facts.path] = name
    facts = HostFacts(
        host=host,
        collected_at=f.opt_timestamp("collected_at"),
        collector=_collector(f),
        failure=failure,
        target=_target_from_json(
            host, f.opt_obj("target", allowed=frozenset({"site", "owner", "extra"}))
        ),
        computer_name=f.opt_text("computer_name"),
        system_root=f.opt_text("system_root"),
        os=_os_from_json(f.opt_obj("os", allowed=_OS_KEYS)),
        architecture=f.opt_converted("architecture", lambda t: _choice(t, _ARCHES)),
        services=_pairs(f, "services"),
        products=_products(f),
        hotfixes=_hotfixes(f),
        pending_renames=_renames(f),
        process_starts=_starts(f),
        files=tuple(files),
        system_started=f.opt_timestamp("system_started"),
        blind_spots=tuple(f.opt_texts("blind_spots") or ()),
    )
    return facts, collected


def facts_to_json(facts: HostFacts) -> dict[str, Any]:
    """The JSON object for one host; ``facts_from_json`` reads it back unchanged."""
    out: dict[str, Any] = {"schema": FACTS_SCHEMA, "host": facts.host}
    out["collected_at"] = facts.collected_at.isoformat() if facts.collected_at else None
    out["collector"] = facts.collector
    out["failure"] = _failure_json(facts.failure) if facts.failure else None
    if facts.target is not None:
        out["target"] = {
            "site": facts.target.site,
            "owner": facts.target.owner,
            "extra": dict(facts.target.extra),
        }
    out["computer_name"] = facts.computer_name
    out["system_root"] = facts.system_root
    if facts.os is not None:
        out["os"] = {
            "caption": facts.os.caption,
            "version": facts.os.version,
            "csd_version": facts.os.csd_version,
            "service_pack": facts.os.service_pack,
            "product_type": facts.os.product_type,
        }
    out["architecture"] = facts.architecture.value if facts.architecture else None
    out["services"] = dict(facts.services) if facts.services is not None else None
    out["products"] = (
        [{"name": n, "version": v} for n, v in facts.products]
        if facts.products is not None
        else None
    )
    out["hotfixes"] = list(facts.hotfixes) if facts.hotfixes is not None else None
    out["pending_renames"] = (
        [{"source": r.source, "destination": r.destination} for r in facts.pending_renames]
        if facts.pending_renames is not None
        else None
    )
    out["process_starts"] = (
        {name: started.isoformat() for name, started in facts.process_starts}
        if facts.process_starts is not None
        else None
    )
    out["files"] = [_file_to_json(f) for f in facts.files]
    if facts.system_started is not None:
        out["system_started"] = facts.system_started.isoformat()
    if facts.blind_spots:
        out["blind_spots"] = list(facts.blind_spots)
    return out


def _file_from_json(f: Fields) -> FileFacts:
    binary = None
    if (b := f.opt_obj("binary", allowed=_BINARY_KEYS)) is not None:
        binary = BinaryInfo(
            file_version=b.opt_converted("file_version", FileVersion.parse),
            product_version=b.opt_converted("product_version", FileVersion.parse),
            version_text=b.opt_converted("version_text", parse_version_text),
            machine=b.text("machine", max_len=16),
            machine_code=b.integer("machine_code", hi=0xFFFF),
            size=b.integer("size"),
            sha256=b.opt_text("sha256", max_len=64),
            bytes_read=b.opt_integer("bytes_read"),
        )
    return FileFacts(
        path=f.text("path", max_len=1024),
        present=f.opt_boolean("present"),
        version_text=f.opt_converted("version", parse_version_text),
        size=f.opt_integer("size"),
        modified=f.opt_timestamp("modified"),
        binary=binary,
        binary_source=f.opt_text("binary_source", max_len=2048),
        binary_error=f.opt_text("binary_error"),
    )


def _file_to_json(f: FileFacts) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": f.path,
        "present": f.present,
        "version": str(f.version_text) if f.version_text else None,
        "size": f.size,
        "modified": f.modified.isoformat() if f.modified else None,
    }
    if f.binary is not None:
        b = f.binary
        out["binary"] = {
            "file_version": str(b.file_version) if b.file_version else None,
            "product_version": str(b.product_version) if b.product_version else None,
            "version_text": str(b.version_text) if b.version_text else None,
            "machine": b.machine,
            "machine_code": b.machine_code,
            "size": b.size,
            "sha256": b.sha256,
        }
        if b.bytes_read is not None:
            out["binary"]["bytes_read"] = b.bytes_read
    if f.binary_source is not None:
        out["binary_source"] = f.binary_source
    if f.binary_error is not None:
        out["binary_error"] = f.binary_error
    return out


def _target_from_json(host: str, f: Fields | None) -> Target | None:
    if f is None:
        return None
    extra = f.opt_obj("extra")
    pairs = tuple((k, extra.text(k)) for k in extra.raw_keys()) if extra else ()
    return Target(host=host, site=f.opt_text("site"), owner=f.opt_text("owner"), extra=pairs)


def _os_from_json(f: Fields | None) -> OsFacts | None:
    if f is None:
        return None
    return OsFacts(
        caption=f.opt_text("caption"),
        version=f.opt_text("version"),
        csd_version=f.opt_text("csd_version"),
        service_pack=f.opt_integer("service_pack", hi=99),
        product_type=f.opt_integer("product_type", hi=99),
    )


def _pairs(f: Fields, key: str) -> tuple[tuple[str, str], ...] | None:
    obj = f.opt_obj(key)
    if obj is None:
        return None
    return tuple((k.upper(), obj.text(k, max_len=64)) for k in obj.raw_keys())


def _products(f: Fields) -> tuple[tuple[str, str], ...] | None:
    if f.raw("products") is None:
        return None
    return tuple(
        (p.text("name"), p.text("version"))
        for p in f.objects("products", allowed=frozenset({"name", "version"}))
    )


def _hotfixes(f: Fields) -> tuple[str, ...] | None:
    values = f.opt_texts("hotfixes")
    return None if values is None else tuple(v.strip().upper() for v in values)


def _renames(f: Fields) -> tuple[PendingRename, ...] | None:
    if f.raw("pending_renames") is None:
        return None
    return tuple(
        PendingRename(
            source=r.text("source", max_len=1024), destination=r.text("destination", max_len=1024)
        )
        for r in f.objects("pending_renames", allowed=frozenset({"source", "destination"}))
    )


def _starts(f: Fields) -> tuple[tuple[str, datetime], ...] | None:
    obj = f.opt_obj("process_starts")
    if obj is None:
        return None
    out = []
    for name in obj.raw_keys():
        out.append((name.lower(), obj.timestamp(name)))
    return tuple(out)


def _choice(text: str, options: dict[str, Any]) -> Any:
    if text not in options:
        raise ValueError(f"{text!r} is not one of: {', '.join(options)}")
    return options[text]


__all__ = ["FACTS_SCHEMA", "FieldError", "facts_from_json", "facts_to_json"]
