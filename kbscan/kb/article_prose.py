"""The prose around an article's tables: the prerequisite per release, who the fix is
not for, the services it needs, and what must restart.

Read from the sections articles use ("Prerequisites", "Restart requirement") and from
the sentences that say "requires", "does not apply to", "applies only to", "restart";
what is not understood is a warning, never a guess that changes a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kbscan.kb.article_text import Line
from kbscan.kb.headings import PlatformNames
from kbscan.model import Platform

_SP_NUMBER = re.compile(r"(?:service pack\s*|\bsp)(\d)[a-z]?\b", re.IGNORECASE)
_EXCHANGE = re.compile(r"Exchange(?: Server)? (\d{4})", re.IGNORECASE)


class ArticleProse:
    def __init__(
        self,
        lines: tuple[Line, ...],
        names: PlatformNames,
        platforms: dict[str, Platform],
        warn: Callable[[str], None],
    ) -> None:
        self.lines = lines
        self.names = names
        self.platforms = platforms
        self.warn = warn

    def section(self, title: str) -> list[Line]:
        """The non-empty lines after a line equal to ``title``, up to the next blank line
        or heading."""
        for index, line in enumerate(self.lines):
            if line.text.lower().rstrip(":") != title.lower():
                continue
            out: list[Line] = []
            for x in self.lines[index + 1 :]:
                if x.heading and x.text:
                    break
                if not x.text:
                    if out:
                        break
                    continue
                out.append(x)
            return out
        return []

    def prerequisites(
        self, covered: list[str], tables: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], str]:
        """Per platform, the service packs the packages install on: what the article's
        prerequisite names for that platform, else the levels of its rows, else none (the
        file versions alone decide)."""
        stated, text = self.stated_prerequisites()
        out = []
        notes = []
        for pid in covered:
            platform = self.platforms[pid]
            sps = sorted(s for s in stated.get(pid, set()) if _level_exists(platform, s))
            if set(stated.get(pid, set())) - set(sps):
                self.warn(
                    f"the prerequisite names a {platform.name} service pack that does not exist "
                    f"in its platform data ({sorted(stated[pid])}); ignored"
                )
            if not sps:
                sps = sorted({r["service_pack"] for t in tables if pid in t["platforms"]
                              for r in t["rows"] if r["service_pack"] is not None})  # fmt: skip
                if sps:
                    notes.append(f"{platform.name}: the service packs of its file table")
            out.append({
                "platform": pid,
                "service_packs": sps,
                "remedy_service_pack": max(sps) if sps else None,
            })  # fmt: skip
        if not text:
            text = "Not stated in the article" + (
                "; " + "; ".join(notes) + "." if notes else "; no service pack is required."
            )
            self.warn(f"no prerequisite stated; {text[len('Not stated in the article; ') :]}")
        return out, text

    def stated_prerequisites(self) -> tuple[dict[str, set[int]], str]:
        lines = [x.text for x in self.section("Prerequisites")]
        candidates: list[str] = []
        for text in lines:
            for s in re.split(r"(?<=\.)\s+|\s+(?=For more information)", text):
                mentions = self.names.mentions(s)
                if s and (
                    re.search(r"\b(must|requires?|running|prerequisite)\b", s, re.IGNORECASE)
                    or s.startswith(("-", "+"))
                    or (mentions and mentions[0][0] == 0)
                ):
                    candidates.append(s)
        if not candidates:
            candidates = [
                s for s in self.sentences()
                if re.search(r"\b(requires?|must have|must be running)\b", s, re.IGNORECASE)
                and _SP_NUMBER.search(s)
            ]  # fmt: skip
        stated: dict[str, set[int]] = {}
        used: list[str] = []
        for sentence in candidates:
            mentions = self.names.mentions(sentence)
            hit = False
            for i, (_start, end, platforms) in enumerate(mentions):
                stop = mentions[i + 1][0] if i + 1 < len(mentions) else len(sentence)
                after = sentence[end:stop]
                numbers = {int(n) for n in _SP_NUMBER.findall(after)}
                if not numbers and re.match(r"\s*service pack", after, re.IGNORECASE):
                    continue  # "a Windows XP service pack": no level named
                for p in platforms:
                    stated.setdefault(p.id, set()).update(numbers or {p.first_service_pack()})
                hit = True
            if hit or re.search(r"\bmust\b|\brequire", sentence, re.IGNORECASE):
                used.append(sentence.lstrip("-* ").strip())
        return stated, " ".join(used) if stated else ""

    def sentences(self) -> list[str]:
        """Sentences line by line (articles keep a paragraph on one line), with the
        "Note" label the archive glues in front of notes taken off."""
        paragraphs: list[str] = []
        current: list[str] = []
        for line in self.lines:  # hard-wrapped text (the original KB shape) is rejoined
            if not line.text or line.heading or line.text.startswith(("-", "+")):
                paragraphs.append(" ".join(current))
                current = []
            if line.text:
                current.append(line.text)
        paragraphs.append(" ".join(current))
        out: list[str] = []
        for paragraph in paragraphs:
            for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
                sentence = re.sub(r"^(?:Note|NOTE):?\s+", "", sentence)
                if sentence:
                    out.append(sentence)
        return out

    def exclusions(self) -> list[dict[str, Any]]:
        out = []
        for sentence in self.sentences():
            if not re.search(r"does not apply to", sentence, re.IGNORECASE):
                continue
            versions = sorted(set(_EXCHANGE.findall(sentence)))
            if versions:
                out.append({"name": "Exchange Server", "versions": versions, "reason": sentence})
            else:
                self.warn(f"not understood, so not applied: {sentence!r}")
        return out

    def known_services(self, covered: list[str]) -> list[Any]:
        seen: dict[str, Any] = {}
        for pid in covered:
            for known in self.platforms[pid].known_services:
                seen.setdefault(known.service.name, known)
        return list(seen.values())

    def required_services(self, covered: list[str]) -> list[dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for sentence in self.sentences():
            if not re.search(r"applies only to", sentence, re.IGNORECASE):
                continue
            for known in self.known_services(covered):
                if any(p.lower() in sentence.lower() for p in known.phrases):
                    found[known.service.name] = {
                        "name": known.service.name,
                        "display_name": known.service.display_name,
                    }
        return list(found.values())

    def restart(self, covered: list[str]) -> dict[str, Any]:
        lines = self.section("Restart requirement")
        text = " ".join(x.text for x in lines)
        if not text:
            self.warn("no restart requirement stated; a server restart is assumed")
            return {"services": [], "dependents": False, "process": None, "computer": True,
                    "text": "Not stated in the article."}  # fmt: skip
        lowered = text.lower()
        services = [
            known
            for known in self.known_services(covered)
            if any(p.lower() in lowered for p in known.phrases)
        ]
        must_restart_computer = re.search(
            r"(?<!not have to )(?<!not need to )restart the (computer|server)", lowered
        ) and not re.search(
            r"(do not|don't|does not) (have to|need to) restart the (computer|server)", lowered
        )
        if services and not must_restart_computer:
            return {
                "services": [
                    {"name": k.service.name, "display_name": k.service.display_name}
                    for k in services
                ],
                "dependents": "depend" in lowered,
                "process": services[0].process,
                "computer": False,
                "text": text,
            }
        if not must_restart_computer and re.search(
            r"(do not|don't|does not) (have to|need to) restart", lowered
        ):
            return {"services": [], "dependents": False, "process": None, "computer": False,
                    "text": text}  # fmt: skip
        if "restart" not in lowered:
            self.warn(f"restart requirement not understood: {text!r}")
        return {"services": [], "dependents": False, "process": None, "computer": True,
                "text": text}  # fmt: skip


def _level_exists(platform: Platform, sp: int) -> bool:
    return not platform.service_packs or sp in platform.service_packs
