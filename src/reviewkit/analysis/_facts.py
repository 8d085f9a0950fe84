"""Detail-fact preparation shared by breakdown, drilldown, headroom and the period views.

Facts are turned once into numpy arrays (dimension codes via ``pd.factorize``, measure values,
year masks) so that every later aggregation is an ``np.bincount`` instead of a pandas groupby or
a boolean mask per segment. That is what keeps a drill-down over a million rows in the
sub-second range.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reviewkit.errors import InputError
from reviewkit.numbers import parse_unit

from ._common import api_frame, float_values, is_blank, require_frame, text

ALL_LABEL = "全部/All"
OTHER_LABEL = "其他/Other"
BLANK_LABEL = "(空)/(blank)"


@dataclass(frozen=True)
class ValueSpec:
    """How a KPI's value is computed from facts: a sum, or numerator / denominator."""

    kind: str  # "sum" | "ratio"
    measure: str = ""
    numerator: str = ""
    denominator: str = ""  # "" with kind "ratio" and aggregation "average" means row count
    key: str = ""
    name: str = ""
    direction: str = "higher"
    is_percent: bool = False
    unit: str = ""

    @property
    def columns(self) -> list[str]:
        if self.kind == "sum":
            return [self.measure]
        return [c for c in (self.numerator, self.denominator) if c]


def value_spec(kpi: pd.Series) -> ValueSpec:
    """Read the KPI row's aggregation into a ValueSpec (InputError for "last")."""
    agg = kpi["aggregation"]
    common = dict(key=str(kpi["key"]), name=str(kpi["name"]), direction=str(kpi["direction"]),
                  is_percent=bool(kpi["is_percent"]), unit=str(kpi["unit"]))
    if agg == "sum":
        measure = text(kpi["measure"]) or str(kpi["key"])
        return ValueSpec("sum", measure=measure, **common)
    if agg == "ratio":
        if not text(kpi["numerator"]) or not text(kpi["denominator"]):
            raise InputError(f"ratio KPI '{kpi['key']}' needs numerator and denominator columns",
                             value=(kpi["numerator"], kpi["denominator"]),
                             expected="two fact columns, e.g. renewed / due")
        return ValueSpec("ratio", numerator=text(kpi["numerator"]),
                         denominator=text(kpi["denominator"]), **common)
    if agg == "average":
        measure = text(kpi["measure"]) or str(kpi["key"])
        return ValueSpec("ratio", numerator=measure, denominator="", **common)
    raise InputError(f"KPI '{kpi['key']}' uses aggregation 'last', which cannot be broken down "
                     "into segments", value=agg, expected="sum | ratio | average")


_MONTH = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})月?\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*[Qq]([1-4])\s*$")


def period_spans(values: pd.Index | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse unique period values into (first day, last day) arrays of datetime64[D].

    "2025-03" is the whole month, "2025-Q1" / "2025Q1" the quarter, a date or Timestamp one day.
    """
    starts, ends = [], []
    for v in values:
        m = _MONTH.match(v) if isinstance(v, str) else None
        q = _QUARTER.match(v) if isinstance(v, str) else None
        if m:
            p = pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")
        elif q:
            p = pd.Period(year=int(q.group(1)), quarter=int(q.group(2)), freq="Q")
        else:
            try:
                ts = pd.Timestamp(v)
            except (ValueError, TypeError):
                ts = pd.NaT
            if is_blank(v) or ts is pd.NaT or pd.isna(ts):
                raise InputError("table 'facts' column 'period' holds a value that is not a "
                                 "period", value=v, expected="'2025-03', '2025-Q1', a date or "
                                 "a Timestamp")
            p = pd.Period(ts, freq="D")
        starts.append(p.start_time.to_datetime64().astype("datetime64[D]"))
        ends.append(p.end_time.to_datetime64().astype("datetime64[D]"))
    return np.array(starts, dtype="datetime64[D]"), np.array(ends, dtype="datetime64[D]")


@dataclass
class Prepared:
    """Facts of two years as arrays; one entry per row of each year."""

    spec: ValueSpec
    base_year: int
    current_year: int
    num: tuple[np.ndarray, np.ndarray]  # base, current (the measure for "sum")
    den: tuple[np.ndarray, np.ndarray] | None
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    labels: dict[str, np.ndarray] = field(default_factory=dict)


def years_of(facts: pd.DataFrame) -> np.ndarray:
    """The ``year`` column as int, derived from ``period`` when missing."""
    if "year" in facts.columns:
        y = float_values(facts["year"], "facts", "year")
        if np.isnan(y).any():
            raise InputError("table 'facts' has a row without a year",
                             expected="a year (e.g. 2025) or a period to derive it from")
        return y.astype("int64")
    if "period" not in facts.columns:
        raise InputError("table 'facts' has neither 'year' nor 'period'",
                         value=list(map(str, facts.columns)),
                         expected="a 'year' or 'period' column")
    codes, uniques = pd.factorize(facts["period"], use_na_sentinel=True)
    if (codes < 0).any():
        raise InputError("table 'facts' has a row without a period", expected="e.g. '2025-03'")
    starts, _ = period_spans(np.asarray(uniques, dtype=object))
    years = starts.astype("datetime64[Y]").astype("int64") + 1970
    return years[codes]


def check_facts(facts: pd.DataFrame, spec: ValueSpec, dims: list[str]) -> None:
    require_frame(facts, "facts", spec.columns + dims)
    if facts.empty:
        raise InputError("table 'facts' is empty: nothing to break down",
                         expected="detail rows for the base and current year")


def resolve_years(years: np.ndarray, base_year, current_year) -> tuple[int, int]:
    present = sorted(set(np.unique(years).tolist()))
    cur = int(current_year) if current_year is not None else present[-1]
    base = int(base_year) if base_year is not None else cur - 1
    for label, y in (("base_year", base), ("current_year", cur)):
        if y not in present:
            raise InputError(f"{label} {y} has no rows in table 'facts'", value=y,
                             expected="one of " + ", ".join(map(str, present)))
    if base == cur:
        raise InputError("base_year and current_year are the same", value=base,
                         expected="two different years")
    return base, cur


def _measures(spec: ValueSpec, split, n_base: int, n_cur: int):
    """(numerator, denominator) as (base, current) array pairs, ``split(column)`` giving a
    column's pair; a ratio without a denominator column counts each row once."""
    if spec.kind == "sum":
        return split(spec.measure), None
    num = split(spec.numerator)
    den = split(spec.denominator) if spec.denominator else (np.ones(n_base), np.ones(n_cur))
    if (den[0] < 0).any() or (den[1] < 0).any():
        raise InputError(f"denominator column '{spec.denominator}' has negative values",
                         expected="counts or amounts >= 0")
    return num, den


def prepare(facts: pd.DataFrame, spec: ValueSpec, dims: list[str], base_year=None,
            current_year=None) -> Prepared:
    return _prepare(facts, spec, dims, base_year, current_year, None)


def _prepare(facts, spec, dims, base_year, current_year, table: FactTable | None) -> Prepared:
    """``prepare``; with ``table`` (the FactTable of ``facts``) its converted columns are used."""
    facts = api_frame(facts, "facts")
    check_facts(facts, spec, dims)
    years = years_of(facts) if table is None else table.years
    base, cur = resolve_years(years, base_year, current_year)
    masks = (years == base, years == cur)

    def split(col: str) -> tuple[np.ndarray, np.ndarray]:
        # a KPI's measure is counted in the KPI's unit: '1.2万' of a 万元 KPI is 1.2
        unit = parse_unit(spec.unit) if spec.kind == "sum" and col == spec.measure else None
        if table is not None:
            v = table.values(col, unit)
        else:
            v = float_values(facts[col], "facts", col, None if unit is None else [unit] * len(facts))
            v = np.where(np.isnan(v), 0.0, v)
        return v[masks[0]], v[masks[1]]

    num, den = _measures(spec, split, int(masks[0].sum()), int(masks[1].sum()))
    p = Prepared(spec, base, cur, num, den)
    for d in dims:
        codes, labels = factorized(facts[d]) if table is None else table.factorized(d)
        p.codes[d] = (codes[masks[0]], codes[masks[1]])
        p.labels[d] = labels
    return p


def factorized(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``prepare``'s coding of a dimension: codes in order of appearance (a Categorical's own),
    labels as text, blanks as one more label."""
    if isinstance(col.dtype, pd.CategoricalDtype):  # already coded: no hashing needed
        codes = col.cat.codes.to_numpy()
        uniques = col.cat.categories
    else:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
    labels = np.array([str(u) for u in uniques], dtype=object)
    if (codes < 0).any():
        labels = np.append(labels, BLANK_LABEL)
        codes = np.where(codes < 0, len(labels) - 1, codes)
    return codes.astype(np.intp), labels


def combine(p: Prepared, dims: list[str]) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Codes for the combination of several dimensions, with " / "-joined labels."""
    if len(dims) == 1:
        return p.codes[dims[0]], p.labels[dims[0]]
    both = []
    for i in (0, 1):
        c = np.zeros(len(p.num[i]), dtype=np.int64)
        for d in dims:
            c = c * len(p.labels[d]) + p.codes[d][i]
        both.append(c)
    allc = np.concatenate(both)
    codes, uniques = pd.factorize(allc)
    n0 = len(both[0])
    parts = []
    for d in reversed(dims):
        k = len(p.labels[d])
        parts.append(p.labels[d][uniques % k])
        uniques = uniques // k
    parts.reverse()
    labels = np.array([" / ".join(t) for t in zip(*parts)], dtype=object) if len(codes) else \
        np.array([], dtype=object)
    return (codes[:n0].astype(np.intp), codes[n0:].astype(np.intp)), labels


def aggregate(p: Prepared, codes: tuple[np.ndarray, np.ndarray], k: int,
              rows: tuple[np.ndarray, np.ndarray] | None = None,
              values: tuple | None = None):
    """Per-code sums: (num0, num1, den0, den1); den are None for additive KPIs.

    ``rows`` (one int index array per year) restricts the sums to a node; ``values`` are the
    node's (num, den) already taken with those rows, so a level can share them across dims.
    """
    if values is None:
        values = node_values(p, rows)
    num, den = values
    out = []
    for arr in (num, den):
        if arr is None:
            out += [None, None]
            continue
        for i in (0, 1):
            c = codes[i] if rows is None else codes[i].take(rows[i])
            out.append(np.bincount(c, weights=arr[i], minlength=k))
    return out[0], out[1], out[2], out[3]


def node_values(p: Prepared, rows: tuple[np.ndarray, np.ndarray] | None):
    """(num, den) restricted to a node's rows (den None for additive KPIs)."""
    if rows is None:
        return p.num, p.den
    num = (p.num[0].take(rows[0]), p.num[1].take(rows[1]))
    den = None if p.den is None else (p.den[0].take(rows[0]), p.den[1].take(rows[1]))
    return num, den


class FactTable:
    """The facts of one ``analyse`` call as arrays, shared by every KPI and every unit.

    ``prepare`` converts the year, the measures and the dimension codes again for each call;
    ``analyse`` drills down every KPI and every unit x KPI of the same facts, so here each
    column is converted once and a unit's facts are a row index instead of a filtered
    DataFrame. Dimensions are coded as ``facts.astype("category")`` would (sorted categories),
    which is what ``analyse`` has always drilled on. ``years_of`` runs in the constructor; when
    it refuses the facts, ``years`` raises its error, where ``prepare`` would raise it (after
    the checks that come first).
    """

    def __init__(self, facts: pd.DataFrame):
        self.facts = facts = api_frame(facts, "facts")
        try:
            self._years, self._years_error = years_of(facts), None
        except InputError as e:
            self._years, self._years_error = None, e
        self._values: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, pd.Index, np.ndarray]] = {}
        self._factorized: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def years(self) -> np.ndarray:
        """Each row's year (``years_of``); raises its InputError for facts it refuses."""
        if self._years_error is not None:
            raise self._years_error
        return self._years

    def factorized(self, d: str) -> tuple[np.ndarray, np.ndarray]:
        """``factorized(facts[d])``, once per dimension."""
        got = self._factorized.get(d)
        if got is None:
            got = self._factorized[d] = factorized(self.facts[d])
        return got

    def prepare(self, spec: ValueSpec, dims: list[str]) -> Prepared:
        """``prepare(facts, spec, dims)`` from the converted columns (same arrays, same codes)."""
        return _prepare(self.facts, spec, dims, None, None, self)

    def values(self, col: str, unit=None) -> np.ndarray:
        """The column as float64 with NaN as 0, every row (InputError as ``to_float``); text
        read in ``unit`` (a ``numbers.Unit``) when given."""
        v = self._values.get((col, unit))
        if v is None:
            v = float_values(self.facts[col], "facts", col, None if unit is None else [unit] * len(self.facts))
            v = self._values[(col, unit)] = np.where(np.isnan(v), 0.0, v)
        return v

    def categories(self, d: str) -> tuple[np.ndarray, pd.Index, np.ndarray]:
        """Category codes (-1 for blank), categories and their labels of dimension ``d``."""
        got = self._codes.get(d)
        if got is None:
            col = self.facts[d]
            if isinstance(col.dtype, pd.StringDtype):
                # what astype("category") computes for text (a sorted factorize), without
                # building the Categorical
                codes, uniques = pd.factorize(col.array, sort=True)
                cats = pd.Index(uniques)
            else:
                if not isinstance(col.dtype, pd.CategoricalDtype):
                    col = col.astype("category")
                codes, cats = col.cat.codes.to_numpy(), col.cat.categories
            got = self._codes[d] = (codes.astype(np.intp), cats,
                                    np.array([str(u) for u in cats], dtype=object))
        return got


def prepare_rows(ft: FactTable, spec: ValueSpec, dims: list[str],
                 rows: np.ndarray | None = None) -> Prepared:
    """``prepare`` (latest year and the one before) of ``ft``'s rows ``rows`` (None = all).

    The same checks in the same order as ``prepare`` on the categorical facts restricted to
    those rows, so results and error messages are the same.
    """
    check_facts(ft.facts, spec, dims)
    years = ft.years if rows is None else ft.years[rows]
    base, cur = resolve_years(years, None, None)
    idx = (np.flatnonzero(years == base), np.flatnonzero(years == cur))
    if rows is not None:
        idx = (rows[idx[0]], rows[idx[1]])

    def split(col: str) -> tuple[np.ndarray, np.ndarray]:
        v = ft.values(col)
        return v[idx[0]], v[idx[1]]

    num, den = _measures(spec, split, len(idx[0]), len(idx[1]))
    p = Prepared(spec, base, cur, num, den)
    for d in dims:
        codes, _, labels = ft.categories(d)
        if ((codes if rows is None else codes[rows]) < 0).any():
            labels = np.append(labels, BLANK_LABEL)
            codes = np.where(codes < 0, len(labels) - 1, codes)
        p.codes[d] = (codes[idx[0]], codes[idx[1]])
        p.labels[d] = labels
    return p
