"""Excel formulas for the computed scorecard columns, giving the analysis engine's values.

``fill`` writes every row-level figure of the scorecard as a live formula (with the engine's
value cached beside it), so a user who changes an actual in Excel sees achievement, gap,
change, status and rank update without Python. Each function here returns the formula text
(without the leading ``=``) for one cell, given the A1 references of that row's input cells and
the KPI's parameters. The rules are the engine's (``reviewkit.analysis.compare`` / ``rank``):

* **achievement** — higher: ``actual / target`` (negative target: ``1 + (actual − target) /
  |target|``); lower (linear rule): ``2 − actual / target`` (negative target: ``1 − (actual −
  target) / |target|``); lower (inverse rule): ``target / actual`` bounded by the cap or 2;
  range: 1 inside the band, ``max(0, 1 − distance / |bound|)`` outside. Target 0 gives
  ``"n.m."`` (not meaningful); a missing actual or target gives ``""``. An optional cap applies.
* **gap, change, vs benchmarks** — plain differences; for ratio KPIs (``pp=True``) they are
  percentage points, i.e. the difference × 100.
* **% changes** — ``(new − base) / base`` when the base is positive, ``"n.m."`` when it is zero
  or negative, ``""`` when a value is missing.
* **status** — the RAG label: grey without actual (or target, unless a range KPI); target 0
  takes the sign of the gap; a neutral band around 100% wins over the thresholds; then
  ``ROUND(achievement, 9) >= green`` / ``>= amber`` / red.
* **rank** — among the rows of the same KPI, direction-aware, ties share the best rank, blanks
  get no rank and are not counted. Written with ``SUMPRODUCT`` over exact comparisons: a
  ``COUNTIFS(range, ">"&cell)`` criterion turns the number into 15-digit text, so a value
  such as 45/54 would then count itself as larger and rank one place too low.
* **rank change** — ``rank last year − rank`` (positive = moved up).

Only functions that Excel 2016 and LibreOffice 7.4 both know are used: IF, AND, OR, COUNT,
ISNUMBER, ABS, MIN, MAX, ROUND, SUMPRODUCT.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import InputError

NM = "n.m."  #: shown where a percentage would mislead (zero or negative base, target 0)

#: the engine's statuses and how the status column spells them
STATUS_LABELS = {
    "zh": {"green": "达标", "amber": "预警", "red": "未达标", "grey": "无数据", "neutral": "持平"},
    "en": {"green": "Green", "amber": "Amber", "red": "Red", "grey": "No data", "neutral": "Neutral"},
}

#: rounding applied to an achievement before comparing it with a threshold (the engine's)
THRESHOLD_DIGITS = 9
#: bound of the inverse lower-is-better rule when the KPI has no cap (the engine's)
INVERSE_BOUND = 2.0

DIRECTIONS = ("higher", "lower", "range")
LOWER_RULES = ("linear", "inverse")


def _blank(x) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return str(x).strip() == ""


def num(x: float) -> str:
    """A number as formula text: ``0.9``, ``1``, ``-2.5``, ``1E-05``."""
    x = float(x)
    if not math.isfinite(x):
        raise InputError("a formula constant must be a finite number", value=x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x).replace("e", "E")


def _text(s: str) -> str:
    return '"' + str(s).replace('"', '""') + '"'


@dataclass(frozen=True)
class KpiParams:
    """What a KPI contributes to its rows' formulas (constants baked into each formula).

    ``pp``: the KPI is a ratio, so differences are shown in percentage points (× 100).
    ``range_low``/``range_high``/``neutral_band``/``cap`` are ``None`` when not set.
    """

    direction: str = "higher"
    green: float = 1.0
    amber: float = 0.9
    neutral_band: float | None = None
    range_low: float | None = None
    range_high: float | None = None
    cap: float | None = None
    pp: bool = False
    lower_rule: str = "linear"

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise InputError("unknown KPI direction", value=self.direction, expected=" | ".join(DIRECTIONS))
        if self.lower_rule not in LOWER_RULES:
            raise InputError("unknown lower_rule", value=self.lower_rule, expected=" | ".join(LOWER_RULES))
        for name in ("neutral_band", "range_low", "range_high", "cap"):
            if _blank(getattr(self, name)):
                object.__setattr__(self, name, None)
            else:
                object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "green", 1.0 if _blank(self.green) else float(self.green))
        object.__setattr__(self, "amber", 0.9 if _blank(self.amber) else float(self.amber))
        if self.direction == "range" and self.range_low is None and self.range_high is None:
            raise InputError("a 'range' KPI needs range_low or range_high", expected="a bound of the band")

    @classmethod
    def from_kpi(cls, row, *, lower_rule: str = "linear", cap: float | None = None) -> KpiParams:
        """From a row of ``analysis._common.kpi_table`` (a Series or mapping with its columns).

        ``cap`` is the workbook-wide cap used when the KPI row has none (as ``compare(cap=)``).
        """
        get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
        unit = str(get("unit", "") or "")
        agg = str(get("aggregation", "") or "")
        is_pct = bool(get("is_percent", False)) if not _blank(get("is_percent", None)) else unit == "%"
        kpi_cap = get("cap", None)
        return cls(direction=str(get("direction", "higher") or "higher"), green=get("green", 1.0),
                   amber=get("amber", 0.9), neutral_band=get("neutral_band", None),
                   range_low=get("range_low", None), range_high=get("range_high", None),
                   cap=cap if _blank(kpi_cap) else kpi_cap,
                   pp=is_pct or (agg == "ratio" and unit in ("", "%")), lower_rule=lower_rule)

    # range helpers: the reference distance below / above the band (the engine's ``ref``)
    def _ref(self, bound: float) -> float:
        if bound != 0:
            return abs(bound)
        lo, hi = self.range_low, self.range_high
        if lo is not None and hi is not None and hi - lo > 0:
            return hi - lo
        return 1.0


@dataclass(frozen=True)
class RowRefs:
    """A1 references of one scorecard row's cells; ``None`` where the table lacks the column.

    ``achievement`` lets ``status`` reuse the achievement cell instead of repeating its formula.
    """

    kpi: str
    target: str | None = None
    actual: str | None = None
    last_year: str | None = None
    year_before: str | None = None
    industry_avg: str | None = None
    competitor: str | None = None
    industry_top: str | None = None
    achievement: str | None = None
    rank: str | None = None
    rank_ly: str | None = None
    #: every spelling of this row's KPI in the table (code and name) when they differ
    kpi_spellings: tuple[str, ...] = ()

    def get(self, key: str) -> str | None:
        return getattr(self, key)


@dataclass(frozen=True)
class ColumnRanges:
    """Absolute ranges over all data rows of the table (``"$B$5:$B$40"``), for ranks."""

    kpi: str
    actual: str | None = None
    last_year: str | None = None
    #: the unit column's range and the total rows' labels (合计 …) left out of every rank
    unit: str | None = None
    exclude: tuple[str, ...] = ()


# --- the formulas ---------------------------------------------------------------------
def same_kpi(kpi_range: str, spellings) -> str:
    """1 on the rows of ``kpi_range`` that name the KPI in any of ``spellings`` (code or name),
    compared as text like the engine reads KPI keys; 0 elsewhere."""
    return "((" + "+".join(f'(({kpi_range}&"")={_text(k)})' for k in spellings) + ")>0)"


def excluding(unit_range: str, units) -> str:
    """Factors that are 0 on the rows of ``unit_range`` holding one of ``units`` (total rows)."""
    return "".join(f"*({unit_range}<>{_text(u)})" for u in units)


def _scale(expr: str, p: KpiParams) -> str:
    return f"({expr})*100" if p.pp else expr


def difference(new: str | None, base: str | None, p: KpiParams) -> str | None:
    """``new − base`` (× 100 for ratio KPIs); ``""`` when either is blank."""
    if new is None or base is None:
        return None
    return f'IF(COUNT({new},{base})<2,"",{_scale(f"{new}-{base}", p)})'


def pct_change(new: str | None, base: str | None) -> str | None:
    """``(new − base) / base``; ``"n.m."`` for a zero or negative base; ``""`` when blank."""
    if new is None or base is None:
        return None
    return f'IF(COUNT({new},{base})<2,"",IF({base}<=0,"{NM}",({new}-{base})/{base}))'


def achievement_expr(a: str, t: str | None, p: KpiParams) -> str:
    """The achievement of actual ``a`` against target ``t`` before blanks/cap are handled.

    Assumes ``a`` (and ``t`` unless a range KPI) are numbers and ``t`` is not 0.
    """
    if p.direction == "range":
        lo, hi = p.range_low, p.range_high
        inner = "1"
        if hi is not None:
            inner = f"IF({a}>{num(hi)},MAX(0,1-({a}-{num(hi)})/{num(p._ref(hi))}),1)"
        if lo is not None:
            inner = f"IF({a}<{num(lo)},MAX(0,1-({num(lo)}-{a})/{num(p._ref(lo))}),{inner})"
        return inner
    if p.direction == "higher":
        return f"IF({t}>0,{a}/{t},1+({a}-{t})/ABS({t}))"
    if p.lower_rule == "linear":
        return f"IF({t}>0,2-{a}/{t},1-({a}-{t})/ABS({t}))"
    bound = num(p.cap if p.cap is not None else INVERSE_BOUND)
    return f"IF({t}>0,IF({a}>0,MIN({t}/{a},{bound}),{bound}),1-({a}-{t})/ABS({t}))"


def achievement(refs: RowRefs, p: KpiParams) -> str | None:
    a, t = refs.actual, refs.target
    if a is None or (t is None and p.direction != "range"):
        return None
    core = achievement_expr(a, t, p)
    if p.cap is not None:
        core = f"MIN({core},{num(p.cap)})"
    if p.direction == "range":
        return f'IF(COUNT({a})<1,"",{core})'
    return f'IF(COUNT({a},{t})<2,"",IF({t}=0,"{NM}",{core}))'


def gap(refs: RowRefs, p: KpiParams) -> str | None:
    return difference(refs.actual, refs.target, p)


def change_ly(refs: RowRefs, p: KpiParams) -> str | None:
    return difference(refs.actual, refs.last_year, p)


def change_ly_pct(refs: RowRefs, p: KpiParams) -> str | None:
    return pct_change(refs.actual, refs.last_year)


def change_yb_pct(refs: RowRefs, p: KpiParams) -> str | None:
    """Growth over two years: actual against the year before."""
    return pct_change(refs.actual, refs.year_before)


def vs_benchmark(refs: RowRefs, p: KpiParams, benchmark: str) -> str | None:
    """``actual − benchmark`` (``benchmark``: industry_avg, competitor or industry_top)."""
    return difference(refs.actual, refs.get(benchmark), p)


def status(refs: RowRefs, p: KpiParams, lang: str = "zh") -> str | None:
    """The RAG label (``STATUS_LABELS[lang]``) with the engine's precedence."""
    a, t = refs.actual, refs.target
    if a is None:
        return None
    lab = {k: _text(v) for k, v in STATUS_LABELS[lang].items()}
    if refs.achievement is not None:
        ach = refs.achievement
    else:
        if t is None and p.direction != "range":
            return lab["grey"]  # no target column: nothing to measure against
        ach = achievement_expr(a, t, p)
        if p.cap is not None:
            ach = f"MIN({ach},{num(p.cap)})"
    r = f"ROUND({ach},{THRESHOLD_DIGITS})"
    rag = f'IF({r}>={num(p.green)},{lab["green"]},IF({r}>={num(p.amber)},{lab["amber"]},{lab["red"]}))'
    if p.neutral_band is not None:
        tol = num(p.neutral_band + 10.0 ** -THRESHOLD_DIGITS)
        rag = f'IF(ABS({r}-1)<={tol},{lab["neutral"]},{rag})'
    if p.direction == "range":
        return f'IF(COUNT({a})<1,{lab["grey"]},{rag})'
    if t is None:
        return lab["grey"]
    sign = f"{a}>=0" if p.direction == "higher" else f"{a}<=0"
    return (f'IF(COUNT({a})<1,{lab["grey"]},IF(COUNT({t})<1,{lab["grey"]},'
            f'IF({t}=0,IF({sign},{lab["green"]},{lab["red"]}),{rag})))')


def _range_key(x: str, p: KpiParams) -> str:
    """Element-wise range score of ``x`` (a range or a cell) without IF/MAX, for SUMPRODUCT."""
    terms = []
    if p.range_low is not None:
        terms.append(f"({num(p.range_low)}-{x})*({x}<{num(p.range_low)})/{num(p._ref(p.range_low))}")
    if p.range_high is not None:
        terms.append(f"({x}-{num(p.range_high)})*({x}>{num(p.range_high)})/{num(p._ref(p.range_high))}")
    s = f"(1-({'+'.join(terms)}))"
    return f"({s}>0)*{s}"


def rank(refs: RowRefs, ranges: ColumnRanges, p: KpiParams, *, last_year: bool = False) -> str | None:
    """Rank of this row's actual (or last year's value) among the rows of the same KPI."""
    cell = refs.last_year if last_year else refs.actual
    rng = ranges.last_year if last_year else ranges.actual
    if cell is None or rng is None:
        return None
    # KPI codes compared as text, as the engine reads them (fill trims spaces around them)
    mask = f'(({ranges.kpi}&"")=({refs.kpi}&""))*ISNUMBER({rng})'
    if len(refs.kpi_spellings) > 1:  # a KPI typed by code in some rows, by name in others
        mask = f"{same_kpi(ranges.kpi, refs.kpi_spellings)}*ISNUMBER({rng})"
    if ranges.unit is not None:
        mask += excluding(ranges.unit, ranges.exclude)
    if p.direction == "higher":
        better = f"({rng}>{cell})"
    elif p.direction == "lower":
        better = f"({rng}<{cell})"
    else:
        better = f"({_range_key(rng, p)}>{_range_key(cell, p)})"
    return f'IF(COUNT({cell})<1,"",SUMPRODUCT({mask}*{better})+1)'


def rank_change(refs: RowRefs) -> str | None:
    if refs.rank is None or refs.rank_ly is None:
        return None
    return f'IF(COUNT({refs.rank},{refs.rank_ly})<2,"",{refs.rank_ly}-{refs.rank})'


#: computed scorecard columns that get a formula, in table order
FORMULA_COLUMNS = ("achievement", "gap", "change_ly", "change_ly_pct", "change_yb_pct",
                   "vs_industry_avg", "vs_competitor", "vs_industry_top", "status", "rank",
                   "rank_ly", "rank_change")


def scorecard_formulas(refs: RowRefs, ranges: ColumnRanges, p: KpiParams,
                       lang: str = "zh") -> dict[str, str | None]:
    """Every computed column's formula for one row (``None`` where an input column is missing)."""
    return {
        "achievement": achievement(refs, p),
        "gap": gap(refs, p),
        "change_ly": change_ly(refs, p),
        "change_ly_pct": change_ly_pct(refs, p),
        "change_yb_pct": change_yb_pct(refs, p),
        "vs_industry_avg": vs_benchmark(refs, p, "industry_avg"),
        "vs_competitor": vs_benchmark(refs, p, "competitor"),
        "vs_industry_top": vs_benchmark(refs, p, "industry_top"),
        "status": status(refs, p, lang),
        "rank": rank(refs, ranges, p),
        "rank_ly": rank(refs, ranges, p, last_year=True),
        "rank_change": rank_change(refs),
    }
