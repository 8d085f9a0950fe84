"""The review workbook model: named tables, canonical column keys, localized headers.

Excel Tables are the contract between reviewkit and its users. Every input lives in a
named table (``Scorecard``, ``KPIs`` …) whose columns are found by header text, not by
position, so users can add rows, reorder columns or move a table without breaking
anything. Each column has a stable canonical key (``target``), a Chinese and an English
header, and synonyms that a reader also accepts (``计划``, ``Plan`` …).

The tables, their columns, the drop-down lists and the settings are written in
``data/tables.toml`` (one line a column) and built into the frozen specs below at import.
This module is pure data: the template builder, the readers, ``fill`` and the xlwings
engine all take their table and column knowledge from here.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import caching
from .messages import Messages, pick

LANGS = ("zh", "en")

# Column kinds: how a cell is parsed and styled.
TEXT, NUMBER, PERCENT, DATE, CHOICE, INTEGER = "text", "number", "percent", "date", "choice", "integer"


@dataclass(frozen=True)
class Choice:
    """A drop-down value: canonical key plus what a user sees and may type."""

    key: str
    zh: str
    en: str
    synonyms: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)


@dataclass(frozen=True)
class Column:
    """One column of a table: its canonical key, its Chinese and English headers, how a cell is
    parsed (``kind``) and the other headers a reader accepts for it (``synonyms``)."""

    key: str
    zh: str
    en: str
    kind: str = TEXT
    required: bool = False
    synonyms: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    computed: bool = False  # written by ``fill``; never read as input
    width: float = 12
    help_zh: str = ""
    help_en: str = ""

    def header(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)

    def help(self, lang: str) -> str:
        return pick(lang, self.help_zh, self.help_en)


@dataclass(frozen=True)
class TableSpec:
    name: str  # the Excel table name (ASCII, stable across languages)
    sheet_zh: str
    sheet_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # columns that must be unique together
    open_columns: bool = False  # extra columns allowed (facts: dimensions and measures)
    part: str = "review"  # "settings", "review" or "plan"
    guide_zh: str = ""
    guide_en: str = ""

    @property
    def input_columns(self) -> tuple[Column, ...]:
        return _spec_index(self)[1]

    @property
    def computed_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.computed)

    def sheet(self, lang: str) -> str:
        return pick(lang, self.sheet_zh, self.sheet_en)

    def guide(self, lang: str) -> str:
        return pick(lang, self.guide_zh, self.guide_en)

    def column(self, key: str) -> Column:
        try:
            found = _spec_index(self)[0].get(key)
        except TypeError:  # an unhashable key names no column
            found = None
        if found is None:
            raise KeyError(f"table {self.name} has no column {key!r}")
        return found


_SPEC_INDEX = caching.Cache("model.spec_index", 1000, identity=True)


def _spec_index(spec: TableSpec) -> tuple[dict[str, Column], tuple[Column, ...]]:
    """(key → first column with it, input columns) of ``spec``, built once per spec object:
    the reader asks for them for every table of every workbook."""
    hit = _SPEC_INDEX.get(spec)
    if hit is None:
        by_key: dict[str, Column] = {}
        for c in spec.columns:
            by_key.setdefault(c.key, c)
        hit = _SPEC_INDEX.put(spec, (by_key, tuple(c for c in spec.columns if not c.computed)))
    return hit


# --- the tables (data/tables.toml) -------------------------------------------------
_DATA = tomllib.loads((Path(__file__).parent / "data" / "tables.toml").read_text(encoding="utf-8"))
#: drop-down lists by name (``DIRECTIONS``, ``AGGREGATIONS``, ``CAUSE_KINDS``, ``ACTION_STATUS``,
#: ``KEEP_STOP_START``)
CHOICES: dict[str, tuple[Choice, ...]] = {
    name: tuple(Choice(key, zh, en, tuple(synonyms)) for key, zh, en, synonyms in rows)
    for name, rows in _DATA["choices"].items()}
DIRECTIONS, AGGREGATIONS, CAUSE_KINDS, ACTION_STATUS, KEEP_STOP_START = (
    CHOICES[n] for n in ("DIRECTIONS", "AGGREGATIONS", "CAUSE_KINDS", "ACTION_STATUS", "KEEP_STOP_START"))
#: canonical setting keys: (zh label, en label, default) as the Settings table shows them
SETTING_KEYS: dict[str, tuple[str, str, object]] = {
    key: (v[0], v[1], v[2] if len(v) > 2 else None) for key, v in _DATA["settings"].items()}


def _column(key: str, name: list[str], choices: str = "", synonyms=(), help=("", ""), **kw) -> Column:
    """A column as ``data/tables.toml`` writes it: ``name`` and ``help`` are [zh, en]."""
    return Column(key, name[0], name[1], choices=CHOICES[choices] if choices else (), synonyms=tuple(synonyms),
                  help_zh=help[0], help_en=help[1], **kw)


def _table(sheet: list[str], columns: list[dict], guide: list[str], key=(), **kw) -> TableSpec:
    return TableSpec(sheet_zh=sheet[0], sheet_en=sheet[1], columns=tuple(_column(**c) for c in columns),
                     guide_zh=guide[0], guide_en=guide[1], key=tuple(key), **kw)


TABLES: tuple[TableSpec, ...] = tuple(_table(**t) for t in _DATA["tables"])
(SETTINGS, KPIS, SCORECARD, FACTS, CAUSES, PLAN, PROGRESS, RESULTS, ACTIONS, NEXT_YEAR, KEEP_STOP_START_TABLE,
 RISKS, BUDGET, CAMPAIGNS) = TABLES
TABLES_BY_NAME = {t.name: t for t in TABLES}

#: sheets reviewkit owns and rebuilds on every fill (never edited by users): key -> (zh, en)
_SHEETS = Messages.load("model")
OWNED_SHEETS = _SHEETS.labels
owned_sheet_name = _SHEETS.label


# --- header matching ----------------------------------------------------------------
_HEADER_NOISE = re.compile(r"[\s_\-\.:/（）()\[\]【】%％#*：]+")


def normalize_header(text: object) -> str:
    """Fold a header for matching: full-width to half-width, case, spaces, punctuation."""
    return _fold(text if type(text) is str else str(text or ""))


@caching.memo("model.normalize_header", 50_000)
def _fold(text: str) -> str:
    """``normalize_header`` of a text: the reader folds the same few hundred headers, aliases
    and choice labels for every workbook."""
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", text).strip().lower())


def header_aliases(column: Column) -> set[str]:
    return set(_aliases(column))


_ALIASES = caching.Cache("model.aliases", 1000, identity=True)


def _aliases(column: Column) -> frozenset[str]:
    """``header_aliases`` computed once per column object (the specs are module constants)."""
    hit = _ALIASES.get(column)
    if hit is None:
        names = {column.key, column.zh, column.en, *column.synonyms}
        hit = _ALIASES.put(column, frozenset(normalize_header(n) for n in names if n))
    return hit


def _alias_map(table: TableSpec) -> dict[str, str]:
    """Normalized alias → column key for ``table`` (the reader matches each template once:
    ``reading.matched_headers``)."""
    alias_to_key: dict[str, str] = {}
    # Exact headers take precedence over synonyms (e.g. "目标" is Target, not a synonym elsewhere).
    for col in table.columns:
        for alias in (normalize_header(col.key), normalize_header(col.zh), normalize_header(col.en)):
            alias_to_key.setdefault(alias, col.key)
    for col in table.columns:
        for alias in header_aliases(col):
            alias_to_key.setdefault(alias, col.key)
    return alias_to_key


def match_headers(table: TableSpec, headers: list[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Map canonical keys to header positions; return (found, unmatched headers).

    A header matches a column by its key, Chinese or English header, or a synonym, after
    ``normalize_header``. The first header to claim a key wins; later duplicates are
    reported as unmatched so the reader can say which column was ignored.
    """
    alias_to_key = _alias_map(table)
    found: dict[str, int] = {}
    unmatched: list[tuple[int, str]] = []
    for i, h in enumerate(headers):
        key = alias_to_key.get(normalize_header(h))
        if key is not None and key not in found:
            found[key] = i
        else:
            unmatched.append((i, h))
    return found, unmatched


_CHOICE_MAPS = caching.Cache("model.choice_maps", 1000, identity=True)


def choice_key(column: Column, value: object) -> str | None:
    """Canonical key for a drop-down value typed in either language; None if unknown."""
    table = _CHOICE_MAPS.get(column)
    if table is None:
        table = {}
        for ch in column.choices:  # the first choice naming a text wins, as in a linear scan
            for x in (ch.key, ch.zh, ch.en, *ch.synonyms):
                table.setdefault(normalize_header(x), ch.key)
        table = _CHOICE_MAPS.put(column, table)
    return table.get(normalize_header(value))


# --- the in-memory review -----------------------------------------------------------
@dataclass(frozen=True)
class TableLayout:
    """Where a table sits in its worksheet, so ``fill`` can write beside rows and errors name cells.

    Rows are 1-based worksheet rows. ``columns`` maps canonical keys (computed ones and, for
    Facts, dimension/measure names too) to column letters; ``rows[i]`` is the worksheet row of
    DataFrame row ``i`` (blank rows inside the table are skipped, so they may not be contiguous).
    """

    table: str
    sheet: str
    ref: str  # e.g. "B4:F20", header row included
    header_row: int
    first_row: int  # first data row (header_row + 1)
    last_row: int  # last data row, totals row excluded; == header_row when there are none
    columns: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # canonical key -> header text found
    rows: tuple[int, ...] = ()

    def cell(self, key: str, index: int | None = None) -> str:
        """A1 reference of column ``key`` in DataFrame row ``index`` (the header when None)."""
        row = self.header_row if index is None else self.rows[index]
        return f"{self.columns[key]}{row}"


@dataclass
class Review:
    """A review workbook as plain pandas: one DataFrame per table, columns by canonical key.

    ``locations`` maps (table, row index) to the worksheet row so validation and fill can
    name cells; ``settings`` is the Settings table as a dict of canonical keys.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)
    lang: str = "zh"
    source: str | None = None
    dimensions: list[str] = field(default_factory=list)  # fact columns that are dimensions
    measures: list[str] = field(default_factory=list)  # fact columns that are numeric measures
    layouts: dict[str, TableLayout] = field(default_factory=dict)  # table name -> where it sits
    #: a split department workbook's ranks among all units of its master (``split.read_peer_ranks``)
    peer_ranks: pd.DataFrame | None = None
    #: sheet -> {cell: number} for the input cells holding a number typed as text ('1,200万',
    #: '32%'), read in the column's unit; ``fill`` stores them as numbers
    text_numbers: dict[str, dict[str, float]] = field(default_factory=dict)
    #: sheet -> {cell: text} for key cells (unit, KPI code, task ID) typed with spaces around
    #: them, as read (trimmed); ``fill`` trims them so Excel's formulas match them too
    trimmed_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    #: KPI key -> how the Scorecard's rows spell it ('revenue', '销售额') when some row names
    #: a KPI by its name: the live rank formulas match every spelling
    kpi_spellings: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        if name in self.tables:
            return self.tables[name]
        spec = TABLES_BY_NAME[name]
        return pd.DataFrame(columns=[c.key for c in spec.input_columns])

    # the tables read most, as attributes (an empty table when the workbook has none)
    kpis = property(lambda self: self.table("KPIs"))
    scorecard = property(lambda self: self.table("Scorecard"))
    facts = property(lambda self: self.table("Facts"))
    causes = property(lambda self: self.table("Causes"))
