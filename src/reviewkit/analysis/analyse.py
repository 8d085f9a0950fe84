"""Run the whole review analysis in one call (the individual functions stay public)."""
from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np

import pandas as pd

from reviewkit._pandas import column_arrays
from reviewkit.errors import InputError

from ._common import arrays_of, column_names, frame_of, kpi_table, score_columns, text_array
from ._facts import FactTable, prepare_rows, value_spec
from .breakdown import _STR, TREE_COLUMNS, TREE_DTYPES, _check_drill, _drill, tree_frame
from .compare import _check_options, _compare
from .conclusions import conclusions
from .cross import MIN_CORR_POINTS, _cross_metric
from .loop import closed_loop
from .rank import _rank

_NOT_DIMS = {"period", "year", "date", "month"}


def _get(review, name):
    if isinstance(review, Mapping):
        return review.get(name)
    return getattr(review, name, None)


def default_dims(facts: pd.DataFrame, kpis: pd.DataFrame) -> list[str]:
    """Text columns of facts that are not periods or KPI measures."""
    return _default_dims(facts, kpi_table(kpis))


def _default_dims(facts: pd.DataFrame, k: pd.DataFrame) -> list[str]:
    kc = arrays_of(k)
    measures = {m for c in ("measure", "numerator", "denominator") for m in kc[c].tolist()}
    dims = []
    for c, values in zip(column_names(facts), column_arrays(facts)):
        if c in _NOT_DIMS or c in measures:
            continue
        if not pd.api.types.is_numeric_dtype(values.dtype) and \
                not pd.api.types.is_datetime64_any_dtype(values.dtype):
            dims.append(c)
    return dims


def analyse(review, *, dims: list[str] | None = None, lang: str = "zh", depth: int = 3,
            min_share: float = 0.05, lower_rule: str = "linear", cap: float | None = None,
            peer_word: str = "", peer_ranks: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Compare, rank, cross-check, drill down, conclude and check the loop of one review.

    ``peer_ranks`` (kpi, rank, n, rank_ly, rank_change; ``split.read_peer_ranks``): the ranks of
    the review's one unit among a larger set of units (a department workbook's master); they
    replace the ranks computed from the review's own scorecard, in ``ranked`` and the sentences.

    ``review`` is a mapping or an object with ``kpis``, ``scorecard`` and optionally ``facts``,
    ``causes``, ``actions``. Returns a dict of DataFrames: compared, ranked, cross, drilldown
    (one tree per KPI, with a ``kpi`` column), drivers (per unit, the level-1 segments of each
    KPI's drill-down, with a ``unit`` column), conclusions, loop, and skipped (kpi, reason) for
    KPIs that could not be broken down.
    """
    return _analyse(review, dims=dims, lang=lang, depth=depth, min_share=min_share,
                    lower_rule=lower_rule, cap=cap, peer_word=peer_word, peer_ranks=peer_ranks)[0]


def _analyse(review, *, dims, lang, depth, min_share, lower_rule, cap,
             peer_word, peer_ranks=None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, FactTable | None]:
    """``analyse`` plus the validated KPI table (each input is validated once) and the
    FactTable of the facts (None when the drill-downs did not use one)."""
    kpis, scorecard = _get(review, "kpis"), _get(review, "scorecard")
    if kpis is None or scorecard is None:
        raise InputError("the review needs a 'kpis' and a 'scorecard' table",
                         expected="a mapping or object with kpis and scorecard DataFrames")
    facts = _get(review, "facts")
    out: dict[str, pd.DataFrame] = {}
    k = kpi_table(kpis)
    s = score_columns(scorecard, k)
    _check_options(lower_rule, cap)
    out["compared"] = _compare(s, k, lower_rule, cap)
    out["ranked"] = _rank(k, out["compared"], lower_rule, cap, peer_ranks)
    # a review states a correlation only on enough units (below, corr is NaN with a note)
    out["cross"] = _cross_metric(s, k, 0.7, None, "M", MIN_CORR_POINTS)
    out["drilldown"], out["drivers"], skipped, ft = _drill_all(facts, dims, k, out["compared"], depth, min_share)
    has_drivers = not (out["drivers"].empty and len(out["drivers"].columns) == 0)
    out["conclusions"] = conclusions(out["compared"], out["ranked"],
                                     out["drivers"] if has_drivers else None, lang=lang,
                                     peer_word=peer_word)
    out["loop"] = closed_loop(out["compared"], _get(review, "causes"), _get(review, "actions"))
    out["skipped"] = skipped
    return out, k, ft


def _same_attrs(frames_attrs: list[dict]) -> dict:
    """The attrs ``pd.concat`` gives its result: the inputs' attrs when all are equal and set."""
    if frames_attrs and all(frames_attrs) and all(a == frames_attrs[0] for a in frames_attrs[1:]):
        return copy.deepcopy(frames_attrs[0])
    return {}


def _drill_all(facts, dims, k, compared, depth, min_share):
    """Drill-downs of every KPI (``depth``) and every unit x KPI (level 1): (trees, drivers,
    skipped, the FactTable or None without facts).

    The facts are converted to arrays once (a FactTable) and a unit is a row index, and each
    result is one DataFrame built from rows at the end (a department's facts are small:
    per-call pandas overhead was most of the time). Each KPI is ``drilldown(facts, key, k,
    dims=dims, depth=depth)`` and each unit x KPI the level 1 of ``drilldown`` of the unit's
    facts on the other dims (tests/oracles.py does it that way; the tests compare the two).
    """
    if facts is None or facts.empty:
        return pd.DataFrame(), pd.DataFrame(), _skipped_frame([]), None
    if not facts.columns.is_unique:
        raise InputError("table 'facts' has the same column twice",
                         value=str(facts.columns[facts.columns.duplicated()][0]),
                         expected="each column once")
    use = dims if dims is not None else _default_dims(facts, k)
    use = [use] if isinstance(use, str) else list(use)
    ft = FactTable(facts)
    unit_codes = None
    one_unit = False
    unit_dims = [d for d in use if d != "unit"]
    if "unit" in facts.columns:
        codes, cats, _ = ft.categories("unit")
        unit_codes = codes
        # a departmental workbook: every fact row belongs to the one unit (see _unit_level1)
        one_unit = (len(cats) == 1 and bool((codes == 0).all()) and len(unit_dims) > 0
                    and len(set(use)) == len(use))
    unit_rows: dict = {}
    unit_of_kpi: dict[str, list] = {}
    cc, kc = arrays_of(compared), arrays_of(k)
    for u, kk in zip(cc["unit"].tolist(), cc["kpi"].tolist()):
        unit_of_kpi.setdefault(kk, []).append(u)
    kcols = {c: kc[c].tolist() for c in ("key", "name", "direction", "aggregation", "measure",
                                       "numerator", "denominator", "is_percent", "unit")}
    tree_rows, tree_attrs, driver_rows, driver_attrs, skipped = [], [], [], [], []
    any_drivers = False
    for i, key in enumerate(k.index):
        try:
            spec = value_spec({c: v[i] for c, v in kcols.items()})
            if not set(spec.columns) <= set(facts.columns):
                raise InputError("measure columns not in facts", value=spec.columns)
            _check_drill(use, depth, min_share, "worst")
            p = prepare_rows(ft, spec, use)
            rows, used = _drill(p, use, depth, min_share, "worst")
            for r in rows:
                r["kpi"] = key
            tree_rows += rows
            tree_attrs.append(dict(kpi=p.spec.key, kind=p.spec.kind, base_year=p.base_year,
                                   current_year=p.current_year, dims_used=list(used)))
            for unit in (unit_of_kpi.get(key, ()) if unit_codes is not None else []):
                if one_unit and unit in cats:
                    any_drivers = True
                    driver_rows += _unit_level1(rows, key, unit)
                    driver_attrs.append(dict(tree_attrs[-1], dims_used=list(used[:1])))
                    continue
                sub = unit_rows.get(unit)
                if sub is None:  # the same rows for every KPI: find them once per unit
                    sub = unit_rows[unit] = (np.flatnonzero(unit_codes == cats.get_loc(unit))
                                             if unit in cats else np.zeros(0, dtype=np.intp))
                if not len(sub):
                    continue
                try:
                    _check_drill(unit_dims, 1, min_share, "worst")
                    pu = prepare_rows(ft, spec, unit_dims, sub)
                    rows, used = _drill(pu, unit_dims, 1, min_share, "worst")
                except InputError:
                    continue
                any_drivers = True
                for r in rows:
                    if r["level"] == 1:
                        r["kpi"] = key
                        r["unit"] = unit
                        driver_rows.append(r)
                driver_attrs.append(dict(kpi=pu.spec.key, kind=pu.spec.kind,
                                         base_year=pu.base_year, current_year=pu.current_year,
                                         dims_used=list(used)))
        except InputError as e:
            skipped.append((key, str(e)))
    trees = pd.DataFrame()
    if tree_rows:
        trees = tree_frame(tree_rows, TREE_COLUMNS + ["kpi"], _DTYPES)
        trees.attrs = _same_attrs(tree_attrs)
    drivers = pd.DataFrame()
    if any_drivers:
        drivers = tree_frame(driver_rows, TREE_COLUMNS + ["kpi", "unit"], _DTYPES)
        drivers.attrs = _same_attrs(driver_attrs)
    return trees, drivers, _skipped_frame(skipped), ft


_DTYPES = dict(TREE_DTYPES, kpi=_STR, unit=_STR)


def _skipped_frame(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """The (kpi, reason) texts as ``pd.DataFrame(rows, columns=["kpi", "reason"])`` holds them
    (str columns; object columns without rows), built straight from the columns."""
    if not rows:
        return frame_of({"kpi": np.array([], dtype=object), "reason": np.array([], dtype=object)}, 0)
    return frame_of({"kpi": text_array([k for k, _ in rows]), "reason": text_array([r for _, r in rows])},
                    len(rows))


def _unit_level1(rows: list[dict], key: str, unit: str) -> list[dict]:
    """The unit x KPI drivers (level 1) from the KPI's drill-down when all facts are the unit's.

    The unit's drill-down would prepare the same rows and drill the same dimensions except
    ``unit``, which has a single category there and so is never split (fewer than two
    segments): its level 1 is the KPI's level 1, except that a depth-1 drill marks no
    segment as drilled.
    """
    out = []
    for r in rows:
        if r["level"] == 1:
            r = dict(r, drilled=False, kpi=key, unit=unit)
            out.append(r)
    return out
