"""Build a KB library from articles: ``kbscan kb import FILE_OR_DIR... [-o DIR]``.

An administrator points this at an archive of KB texts and gets one KB file per
article that imports, and for each one that does not, the one-line reason: one
article's error never stops the others, and an article that fails writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbscan.kb.article import ArticleError, import_article, read_article
from kbscan.kb.directory import DirectoryKbSource, default_source
from kbscan.kb.interface import KbError

ARTICLE_SUFFIXES = frozenset({".txt", ".md", ".htm", ".html"})


@dataclass(frozen=True)
class Imported:
    """One article's outcome: its KB file, or why there is none."""

    article: Path
    document: dict[str, Any] | None = None
    written: Path | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def kb_id(self) -> str:
        return str(self.document["id"]) if self.document else ""

    @property
    def rows(self) -> int:
        if self.document is None:
            return 0
        kept = self.document.get("not_judged", [])
        return sum(len(t["rows"]) for t in self.document["tables"] + kept)

    @property
    def platforms(self) -> list[str]:
        if self.document is None:
            return []
        return list(dict.fromkeys(p for t in self.document["tables"] for p in t["platforms"]))


@dataclass(frozen=True)
class ImportRequest:
    inputs: tuple[Path, ...]
    output: Path | None  # a KB file (one article) or a folder (a batch); None: print it
    paths: dict[str, str] = field(default_factory=dict)
    platforms: tuple[str, ...] = ()  # --platform: the release of articles that name none
    force: bool = False

    @property
    def batch(self) -> bool:
        return (
            len(self.inputs) > 1
            or any(p.is_dir() for p in self.inputs)
            or (self.output is not None and self.output.is_dir())
        )


def articles_in(inputs: tuple[Path, ...]) -> list[Path]:
    """The article files named, and those in the folders named (sorted, not recursive)."""
    out: list[Path] = []
    for path in inputs:
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES))
        else:
            out.append(path)
    return out


def import_articles(request: ImportRequest) -> list[Imported]:
    """Import every article of the request; raises KbError only for the request itself
    (an output that exists without --force, a batch without an output folder)."""
    articles = articles_in(request.inputs)
    if request.batch and request.output is None:
        raise KbError("a batch import needs -o DIR, the folder to write the KB files to")
    out = request.output
    if request.batch and out is not None and out.is_file():
        raise KbError("is a file; a batch import writes a folder of KB files", path=str(out))
    if not request.batch and out is not None and out.exists() and not request.force:
        raise KbError("exists; give --force to replace it", path=str(out))
    source = default_source()  # the platform data, read once for the whole batch
    return [import_one(article, request, source) for article in articles]


def import_one(article: Path, request: ImportRequest, source: DirectoryKbSource) -> Imported:
    try:
        result = import_article(
            read_article(article),
            str(article),
            source.platforms(),
            request.paths,
            not_scanned=source.not_scanned(),
            forced=request.platforms,
        )
    except (ArticleError, KbError) as exc:
        return Imported(article, error=str(exc))
    document = result.document
    target = request.output
    if request.batch and target is not None:
        target = target / f"{document['id']}.json"
    warnings = tuple(result.warnings)
    if target is None:
        return Imported(article, document, None, warnings)
    if target.exists() and not request.force:
        return Imported(article, document, None, warnings, f"{target}: exists; give --force")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as exc:
        return Imported(article, document, None, warnings,
                        f"{target}: cannot write: {exc.strerror or exc}")  # fmt: skip
    return Imported(article, document, target, warnings)
