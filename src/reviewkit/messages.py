"""Messages in the workbook's language: one (zh, en) template pair per key.

A Chinese workbook is read by people who may not read English, so what reviewkit says about it is
written in its language. Every word table lives in ``data/words.toml`` (one section per module:
``planning``, ``timeline``, ``execution``, ``reading``, ``fill``, ``templates``, ``split``,
``rollup``, ``presets``, ``model``), read once when this module is imported;
``Messages.load(section)`` gives a section's texts and labels. Texts are ``str.format`` templates
taking the same fields in both languages (the tests check that through ``fields``).
"""
from __future__ import annotations

import string
import tomllib
from pathlib import Path

#: section -> table -> key -> [zh, en], as ``data/words.toml`` has them
_TABLES = tomllib.loads((Path(__file__).parent / "data" / "words.toml").read_text(encoding="utf-8"))


def pick(lang: str, zh: str, en: str) -> str:
    """``zh`` for a Chinese workbook, ``en`` for any other: the one place a language is chosen."""
    return zh if lang == "zh" else en


def pairs(section: str, table: str) -> dict[str, tuple[str, str]]:
    """One table of ``data/words.toml``: key -> (zh, en)."""
    return {k: (v[0], v[1]) for k, v in _TABLES[section][table].items()}


class Messages:
    """A table of (zh, en) templates: ``say(key, lang, **fields)``."""

    def __init__(self, texts: dict[str, tuple[str, str]], labels: dict[str, tuple[str, str]] | None = None):
        self.texts = texts
        self.labels = labels or {}

    @classmethod
    def load(cls, section: str) -> Messages:
        """The ``texts`` and ``labels`` tables of ``section`` in ``data/words.toml``."""
        have = _TABLES[section]
        return cls(pairs(section, "texts") if "texts" in have else {},
                   pairs(section, "labels") if "labels" in have else {})

    def say(self, key: str, lang: str = "en", **fields) -> str:
        """The message ``key`` in ``lang`` ("zh", else English) with ``fields`` filled in."""
        return pick(lang, *self.texts[key]).format(**fields)

    def label(self, key: str, lang: str = "en") -> str:
        """A short name (a rule, a conflict kind) in ``lang``; unknown keys come back unchanged."""
        pair = self.labels.get(key)
        return key if pair is None else pick(lang, *pair)

    def fields(self, key: str) -> tuple[set[str], set[str]]:
        """The placeholder names of the zh and en templates of ``key`` (for the consistency test)."""
        return tuple({f for _, f, _, _ in string.Formatter().parse(t) if f}  # type: ignore[return-value]
                     for t in self.texts[key])

    def keys(self) -> tuple[str, ...]:
        return tuple(self.texts)
