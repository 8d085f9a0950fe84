"""The review analysed once for a fill: the engine's frames (:class:`_Analysis`) and the same rows
as plain Python, the settings that steer it, the KPI parameters of the formulas."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import formulas as F
from .. import model
from ..errors import InputError
from .records import _blank, _index_dicts, _object_rows, _records


# --- the analysis ---------------------------------------------------------------------------
@dataclass
class _Analysis:
    compared: pd.DataFrame
    ranked: pd.DataFrame
    conclusions: dict
    loop: pd.DataFrame
    cross: pd.DataFrame
    drilldown: pd.DataFrame
    skipped: pd.DataFrame
    kpis: pd.DataFrame  # validated KPI table, indexed by key
    headroom: dict = field(default_factory=dict)
    # the same as plain Python (pandas row access is slow in loops)
    rows: list = field(default_factory=list)  # compared, one dict per scorecard row
    kpi: dict = field(default_factory=dict)  # key -> KPI row as a dict
    ranks: dict = field(default_factory=dict)  # (unit, kpi) -> rank row as a dict
    ranked_rows: list = field(default_factory=list)  # ranked, one dict per row
    trees: dict = field(default_factory=dict)  # kpi -> drill-down rows (dicts)
    params: dict = field(default_factory=dict)  # kpi -> formulas.KpiParams

    def __post_init__(self):
        self.rows = _records(self.compared)
        self.kpi = {k: dict(v, key=k) for k, v in _index_dicts(self.kpis).items()}
        self.ranked_rows = _records(self.ranked)
        self.ranks = {(r["unit"], r["kpi"]): r for r in self.ranked_rows}
        if self.drilldown is not None and not self.drilldown.empty:
            for r in _records(self.drilldown):
                self.trees.setdefault(r["kpi"], []).append(r)


def _skipped(an: _Analysis) -> list:
    """(kpi, reason) of the KPIs the drill-down left out."""
    sk = an.skipped
    if sk is None or sk.empty:
        return []
    return _object_rows(sk, ["kpi", "reason"])


def _settings_value(review: model.Review, key: str, default=None):
    v = (review.settings or {}).get(key, default)
    return default if _blank(v) else v


def _params(an: _Analysis, key: str, lower_rule: str = "linear", cap=None) -> F.KpiParams:
    p = an.params.get((key, lower_rule, cap))
    if p is None:
        p = an.params[(key, lower_rule, cap)] = F.KpiParams.from_kpi(an.kpi[key], lower_rule=lower_rule, cap=cap)
    return p


def _analyse(review: model.Review, lang: str, lower_rule: str, cap) -> _Analysis:
    from ..analysis import headroom
    from ..analysis._facts import value_spec
    from ..analysis.analyse import _analyse as analyse_with_kpis
    from ..analysis.headroom import _headroom

    data = {"kpis": review.kpis, "scorecard": review.scorecard, "facts": review.facts,
            "causes": review.causes, "actions": review.tables.get("Actions")}
    if data["facts"] is not None and data["facts"].empty:
        data["facts"] = None
    peer = str(_settings_value(review, "unit_label", "") or "")
    res, kpis, facts_table = analyse_with_kpis(data, dims=None, lang=lang, depth=3, min_share=0.05,
                                               lower_rule=lower_rule, cap=cap,
                                               peer_word=peer if lang == "zh" else "",
                                               peer_ranks=review.peer_ranks)
    concl = {(u, k): t for u, k, t in _object_rows(res["conclusions"], ["unit", "kpi", "text"])}
    a = _Analysis(res["compared"], res["ranked"], concl, res["loop"], res["cross"], res["drilldown"],
                  res["skipped"], kpis)
    dd = res["drilldown"]
    if not dd.empty and data["facts"] is not None:
        # from the rows already converted: boolean masks per KPI cost more than the rows are long
        lagging = {r["kpi"] for r in a.rows if r["status"] in ("red", "amber")}
        for key, tree in a.trees.items():
            if key not in lagging:
                continue
            lvl1 = [r for r in tree if r["level"] == 1]
            if not lvl1:
                continue
            dim = lvl1[0]["dimension"]
            try:
                if facts_table is not None:
                    # headroom(facts, key, kpis, by=dim) from the facts the drill-downs converted:
                    # this KPI's drill-down prepared them, so only headroom's own checks can fail
                    spec = value_spec(a.kpi[key])
                    a.headroom[key] = _headroom(facts_table.prepare(spec, [dim]), spec, [dim], None)
                else:
                    a.headroom[key] = headroom(data["facts"], key, a.kpis, by=dim)
            except InputError:
                continue
    return a


def _overall_rows(an: _Analysis, overall_key: str) -> list[dict]:
    """The overall-rank rows of ``an.ranked`` sorted by rank then unit, blanks last (as
    ``sort_values(["rank", "unit"], na_position="last")``), without a frame per step when the
    ranks are whole numbers and the units texts; anything else takes the pandas route."""
    rows = [r for r in an.ranked_rows if r["kpi"] == overall_key]
    if all((r["rank"] is None or type(r["rank"]) is int) and type(r["unit"]) is str for r in rows):
        return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["unit"]))
    rk = an.ranked
    return _records(rk[rk["kpi"] == overall_key].sort_values(["rank", "unit"], na_position="last"))
