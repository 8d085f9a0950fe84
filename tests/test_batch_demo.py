"""The demo master (reviewkit.sample): split, batch-fill, roll up — and get the master back.

The departmental workbooks are untouched here (test_batch_workflow.py covers edits and broken
files); this checks that the loop loses nothing on the real sample: 6 regions, 7 KPIs, 3 years of
facts over 7 dimensions. Expected values come from the master with plain pandas.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("reviewkit.sample", reason="the sample company has not landed yet")

from reviewkit.batch import FILLED, run_batch  # noqa: E402
from reviewkit.reading import read_review  # noqa: E402
from reviewkit.rollup import rollup_workbooks  # noqa: E402
from reviewkit.sample import make_sample_review  # noqa: E402
from reviewkit.split import split_workbook  # noqa: E402
from reviewkit.templates import build_workbook  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    master = build_workbook(base / "master.xlsx", make_sample_review("zh"), lang="zh")
    split = split_workbook(master, base / "dept")
    batch = run_batch([base / "dept"], jobs=2)
    rollup = rollup_workbooks([base / "dept"], base / "company.xlsx")
    return dict(master=read_review(master), split=split, batch=batch, rollup=rollup,
                company=read_review(base / "company.xlsx"))


def test_every_region_gets_a_filled_workbook(demo):
    m = demo["master"]
    units = list(dict.fromkeys(m.scorecard["unit"]))
    assert [f.unit for f in demo["split"].files] == units and len(units) >= 6
    assert [r.status for r in demo["batch"].results] == [FILLED] * len(units), str(demo["batch"])
    assert demo["rollup"].exit_code == 0 and not demo["rollup"].drift, [str(d) for d in demo["rollup"].drift]
    assert demo["rollup"].stale == []


def test_company_equals_the_master(demo):
    m, c = demo["master"], demo["company"]
    key = ["unit", "kpi"]
    ms = m.scorecard.set_index(key).sort_index()
    cs = c.scorecard.set_index(key).sort_index()
    assert list(cs.index) == list(ms.index)
    for col in ("target", "actual", "last_year", "year_before", "industry_avg", "competitor", "industry_top"):
        np.testing.assert_allclose(cs[col].to_numpy(float), ms[col].to_numpy(float), rtol=1e-12, equal_nan=True,
                                   err_msg=col)
    assert len(c.facts) == len(m.facts)
    for measure in m.measures:
        a = m.facts.groupby("unit")[measure].sum().sort_index()
        b = c.facts.groupby("unit")[measure].sum().sort_index()
        np.testing.assert_allclose(b.to_numpy(float), a.to_numpy(float), rtol=1e-9, err_msg=measure)
    for dim in m.dimensions:  # every dimension kept, with the same distribution
        assert c.facts[dim].value_counts().sort_index().to_dict() == m.facts[dim].value_counts().sort_index().to_dict()
    assert sorted(c.kpis["key"]) == sorted(m.kpis["key"])
    assert len(c.causes) == len(m.causes[m.causes["unit"].isin(set(m.scorecard["unit"]))])


def test_company_ranking_equals_pandas_on_the_master(demo):
    m = demo["master"]
    ranking = demo["rollup"].ranking
    direction = dict(zip(m.kpis["key"], m.kpis["direction"]))
    for kpi, rows in m.scorecard.groupby("kpi"):
        if direction[kpi] == "range":
            continue
        rows = rows.set_index("unit")["actual"]
        exp = rows.rank(method="min", ascending=direction[kpi] == "lower").astype(int)
        got = ranking[ranking["kpi"] == kpi].set_index("unit")["rank"].astype(int)
        assert got.sort_index().to_dict() == exp.sort_index().to_dict(), kpi
