"""A small review (two KPIs, a few units, two years of facts) for tests that go through
split, fill and rollup with unit names of their choosing."""
from __future__ import annotations

import numpy as np
import pandas as pd

from reviewkit import model


def small_review(units: list[str], seed: int = 3) -> model.Review:
    rng = np.random.default_rng(seed)
    kpis = pd.DataFrame({
        "key": ["revenue", "renewal_rate"], "name": ["Revenue", "Renewal rate"], "unit": ["万元", "%"],
        "direction": ["higher", "higher"], "aggregation": ["sum", "ratio"], "measure": ["revenue", ""],
        "numerator": ["", "renewed"], "denominator": ["", "due"], "green": [1.0, 1.0], "amber": [0.9, 0.9],
        "number_format": ["#,##0", "0.0%"], "weight": [0.6, 0.4]})
    facts, rows = [], []
    for u in units:
        for y in (2024, 2025):
            for m in (3, 9):
                facts.append({"period": pd.Timestamp(y, m, 1), "unit": u, "segment": "big",
                              "revenue": float(rng.integers(50, 150)), "due": 20.0,
                              "renewed": float(rng.integers(5, 20))})
        f = pd.DataFrame(facts)
        mine = f[f["unit"] == u]
        this, last = mine[mine["period"].dt.year == 2025], mine[mine["period"].dt.year == 2024]
        rows.append({"unit": u, "kpi": "revenue", "target": 200.0, "actual": this["revenue"].sum(),
                     "last_year": last["revenue"].sum()})
        rows.append({"unit": u, "kpi": "renewal_rate", "target": 0.7,
                     "actual": this["renewed"].sum() / this["due"].sum(),
                     "last_year": last["renewed"].sum() / last["due"].sum()})
    return model.Review(
        tables={"KPIs": kpis, "Scorecard": pd.DataFrame(rows), "Facts": pd.DataFrame(facts)},
        settings={"company": "Co", "review_year": 2025, "unit_label": "Unit",
                  "as_of": pd.Timestamp(2025, 12, 31), "plan_end": pd.Timestamp(2026, 12, 31)},
        lang="en", dimensions=["segment"], measures=["revenue", "due", "renewed"])
