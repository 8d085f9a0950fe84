"""closed_loop(): red KPIs need cause + evidence + action; green ones a success note."""
import pandas as pd

from reviewkit.analysis import closed_loop

COMPARED = pd.DataFrame({"unit": ["A", "B", "C", "D", "E", "F"],
                         "kpi": ["rr", "rr", "rr", "sales", "sales", "rr"],
                         "name": ["续费率"] * 3 + ["销售额"] * 2 + ["续费率"],
                         "status": ["red", "red", "red", "green", "green", "amber"]})
CAUSES = pd.DataFrame([
    {"unit": "A", "kpi": "rr", "kind": "problem", "cause": "小型互联网公司预算削减",
     "evidence": "流失客户中 40% 转向低价产品", "action": "推出小微版价格方案", "owner": "张三",
     "due": "2026-03-31"},
    {"unit": "B", "kpi": "rr", "kind": "问题", "cause": "交付超负荷", "evidence": "可能是交付问题",
     "action": "", "owner": "", "due": ""},
    {"unit": "D", "kpi": "sales", "kind": "success", "cause": "新产品贡献 2,500万",
     "evidence": "2500", "action": "", "owner": "", "due": ""},
])
ACTIONS = pd.DataFrame([{"item": "交付排期", "measure": "Q3 交付人手 +3", "owner": "", "due": "",
                         "kpi": "rr", "unit": "B", "status": "open"}])


def _missing(out):
    return {(r.unit, r.missing) for r in out.itertuples()}


def test_gaps_are_listed():
    out = closed_loop(COMPARED, CAUSES, ACTIONS)
    assert _missing(out) == {("B", "evidence"), ("B", "owner"), ("B", "due"), ("C", "cause"),
                             ("C", "action"), ("E", "success_note")}
    assert set(out.loc[out["missing"] == "success_note", "severity"]) == {"warning"}
    assert set(out.loc[out["unit"] == "C", "severity"]) == {"error"}
    assert list(out.columns) == ["unit", "kpi", "name", "status", "missing", "severity", "detail"]


def test_amber_optional_and_blank_unit_applies_to_all():
    causes = pd.DataFrame([{"unit": "", "kpi": "rr", "kind": "problem", "cause": "行业下行",
                            "evidence": "行业续费率 −5pp", "action": "价格方案", "owner": "李四",
                            "due": "2026-06-30"}])
    out = closed_loop(COMPARED, causes, None, check_amber=True)
    assert not ({"A", "B", "C", "F"} & set(out["unit"]))
    assert _missing(out) == {("D", "success_note"), ("E", "success_note")}


def test_no_causes_at_all():
    out = closed_loop(COMPARED, None, pd.DataFrame(columns=["item", "kpi", "unit"]))
    assert len(out[out["missing"] == "cause"]) == 3
    assert closed_loop(COMPARED.iloc[0:0], CAUSES, ACTIONS).empty
