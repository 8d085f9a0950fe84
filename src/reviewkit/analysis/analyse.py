"""Run the whole review analysis in one call (the individual functions stay public)."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from reviewkit.errors import InputError

from ._common import kpi_table, scorecard_table
from ._facts import value_spec
from .breakdown import drilldown
from .compare import _check_options, _compare
from .conclusions import conclusions
from .cross import _cross_metric
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
    measures = set(k["measure"]) | set(k["numerator"]) | set(k["denominator"])
    dims = []
    for c in facts.columns:
        if c in _NOT_DIMS or c in measures:
            continue
        if not pd.api.types.is_numeric_dtype(facts[c]) and \
                not pd.api.types.is_datetime64_any_dtype(facts[c]):
            dims.append(c)
    return dims


def analyse(review, *, dims: list[str] | None = None, lang: str = "zh", depth: int = 3,
            min_share: float = 0.05, lower_rule: str = "linear", cap: float | None = None,
            peer_word: str = "") -> dict[str, pd.DataFrame]:
    """Compare, rank, cross-check, drill down, conclude and check the loop of one review.

    ``review`` is a mapping or an object with ``kpis``, ``scorecard`` and optionally ``facts``,
    ``causes``, ``actions``. Returns a dict of DataFrames: compared, ranked, cross, drilldown
    (one tree per KPI, with a ``kpi`` column), drivers (per unit, the level-1 segments of each
    KPI's drill-down, with a ``unit`` column), conclusions, loop, and skipped (kpi, reason) for
    KPIs that could not be broken down.
    """
    return _analyse(review, dims=dims, lang=lang, depth=depth, min_share=min_share,
                    lower_rule=lower_rule, cap=cap, peer_word=peer_word)[0]


def _analyse(review, *, dims, lang, depth, min_share, lower_rule, cap,
             peer_word) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """``analyse`` plus the validated KPI table (each input is validated once)."""
    kpis, scorecard = _get(review, "kpis"), _get(review, "scorecard")
    if kpis is None or scorecard is None:
        raise InputError("the review needs a 'kpis' and a 'scorecard' table",
                         expected="a mapping or object with kpis and scorecard DataFrames")
    facts = _get(review, "facts")
    out: dict[str, pd.DataFrame] = {}
    k = kpi_table(kpis)
    s = scorecard_table(scorecard, k)
    _check_options(lower_rule, cap)
    out["compared"] = _compare(s, k, lower_rule, cap)
    out["ranked"] = _rank(k, out["compared"], lower_rule, cap)
    out["cross"] = _cross_metric(s, k, 0.7, None, "M", 3)
    trees, drivers, skipped = [], [], []
    if facts is not None and not facts.empty:
        use = dims if dims is not None else _default_dims(facts, k)
        # hash each dimension once; every drill-down below then reuses the category codes
        facts = facts.astype({d: "category" for d in use if d in facts.columns})
        units = facts["unit"] if "unit" in facts.columns else None
        unit_facts: dict = {}
        unit_of_kpi: dict[str, list] = {}
        for u, kk in zip(out["compared"]["unit"].tolist(), out["compared"]["kpi"].tolist()):
            unit_of_kpi.setdefault(kk, []).append(u)
        for key in k.index:
            try:
                spec = value_spec(k.loc[key])
                if not set(spec.columns) <= set(facts.columns):
                    raise InputError("measure columns not in facts", value=spec.columns)
                tree = drilldown(facts, key, k, dims=use, depth=depth, min_share=min_share)
                trees.append(tree.assign(kpi=key))
                for unit in (unit_of_kpi.get(key, ()) if units is not None else []):
                    sub = unit_facts.get(unit)
                    if sub is None:  # the same rows for every KPI: filter once per unit
                        sub = unit_facts[unit] = facts[units == unit]
                    if sub.empty:
                        continue
                    try:
                        t = drilldown(sub, key, k, dims=[d for d in use if d != "unit"], depth=1,
                                      min_share=min_share)
                    except InputError:
                        continue
                    drivers.append(t[t["level"] == 1].assign(kpi=key, unit=unit))
            except InputError as e:
                skipped.append({"kpi": key, "reason": str(e)})
    out["drilldown"] = pd.concat(trees, ignore_index=True) if trees else pd.DataFrame()
    out["drivers"] = pd.concat(drivers, ignore_index=True) if drivers else pd.DataFrame()
    out["conclusions"] = conclusions(out["compared"], out["ranked"],
                                     out["drivers"] if drivers else None, lang=lang,
                                     peer_word=peer_word)
    out["loop"] = closed_loop(out["compared"], _get(review, "causes"), _get(review, "actions"))
    out["skipped"] = pd.DataFrame(skipped, columns=["kpi", "reason"])
    return out, k
