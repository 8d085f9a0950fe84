"""Plan and execution engine: every check passes on a good row and fails on a bad one;
METHOD.md worked examples (+20% flagged; the inconsistent "2 days late, −6.5%" row)."""
import math

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from reviewkit.analysis import compare
from reviewkit.errors import InputError
from reviewkit.planning import (budget_roi, check_actions, check_plan, conflicts, decimals_of, gantt,
                                networkdays, results_review, split_quarters, track_progress)

D = pd.Timestamp


def plan_row(**kw):
    row = {"task_id": "T1", "goal": "Q3 East China sales +20%", "task": "optimise online channels",
           "owner": "A", "start": D("2026-07-01"), "end": D("2026-07-31"), "budget": 5.0, "people": 1,
           "acceptance": "3 platform plans live, click rate ≥ 3%"}
    row.update(kw)
    return row


def rules(findings):
    return set(findings["rule"])


# --- check_plan ------------------------------------------------------------------------
def test_method_plan_example_passes():
    f = check_plan(pd.DataFrame([plan_row()]), total_budget=5)
    assert f.empty
    assert list(f.columns[:6]) == ["row", "task_id", "column", "rule", "message", "severity"]


@pytest.mark.parametrize("owner", [None, "", "  ", "张三、李四", "张三,李四", "张三/李四", "张三;李四",
                                   "张三和李四", "张三，李四", "A and B"])
def test_one_owner_fails(owner):
    f = check_plan(pd.DataFrame([plan_row(owner=owner)]))
    assert rules(f) == {"one_owner"}
    assert f.loc[0, "task_id"] == "T1" and f.loc[0, "column"] == "owner"


@pytest.mark.parametrize("owner", ["张三", "和平", "Anna Lee"])
def test_one_owner_passes(owner):
    assert check_plan(pd.DataFrame([plan_row(owner=owner)])).empty


def test_end_after_start():
    ok = check_plan(pd.DataFrame([plan_row(start=D("2026-07-01"), end=D("2026-07-01"))]))
    assert ok.empty  # one-day task
    bad = check_plan(pd.DataFrame([plan_row(start=D("2026-07-31"), end=D("2026-07-01"))]))
    assert rules(bad) == {"end_after_start"} and "2026-07-01" in bad.loc[0, "message"]
    missing = check_plan(pd.DataFrame([plan_row(end=None)]))
    assert rules(missing) == {"end_after_start"} and "end" in missing.loc[0, "message"]


@pytest.mark.parametrize("text,ok", [("3 platform plans live", True), ("点击率≥3%", True),
                                     ("7月31日前上线", True), ("三个平台方案上线", True),
                                     ("２个渠道", True), ("尽快完成", False), ("明显提升转化", False),
                                     ("统一流程", False), (None, False)])
def test_measurable_acceptance(text, ok):
    f = check_plan(pd.DataFrame([plan_row(acceptance=text)]))
    assert f.empty is ok
    if not ok:
        assert rules(f) == {"measurable_acceptance"}


def test_budget_within_total():
    plan = pd.DataFrame([plan_row(task_id="T1", budget=5), plan_row(task_id="T2", budget=3)])
    assert check_plan(plan, total_budget=8).empty
    f = check_plan(plan, total_budget=7.5)
    assert rules(f) == {"budget_total"} and "0.5" in f.loc[0, "message"]
    assert rules(check_plan(pd.DataFrame([plan_row(budget=-1)]))) == {"budget_nonnegative"}


def test_plan_bad_input_is_a_clear_error():
    with pytest.raises(InputError, match=r"Plan.*T1.*start.*not a date"):
        check_plan(pd.DataFrame([plan_row(start="next week")]))
    with pytest.raises(InputError, match="task_id"):
        check_plan(pd.DataFrame([{"task": "x"}]))


# --- track_progress ----------------------------------------------------------------------
def prog(**kw):
    row = {"task_id": "T1", "milestone": "plans live", "planned_start": D("2026-07-01"),
           "planned_date": D("2026-07-15"), "actual_date": D("2026-07-15"), "pct_complete": 1.0,
           "problem": None, "countermeasure": None, "owner": "A"}
    row.update(kw)
    return row


def test_method_example_plus_20_percent_flagged():
    out = track_progress(pd.DataFrame([prog(actual_date=D("2026-07-18"))]), as_of="2026-12-31")
    r = out.iloc[0]
    assert r["planned_days"] == 15 and r["delay_days"] == 3
    assert r["deviation"] == pytest.approx(0.20, abs=1e-12)
    assert r["flagged"] and r["needs_cause"] and not r["overdue"]
    with_cause = track_progress(pd.DataFrame([prog(actual_date=D("2026-07-18"), problem="设计资源不足",
                                                   countermeasure="外包一名设计")]), as_of="2026-12-31")
    assert with_cause.iloc[0]["flagged"] and not with_cause.iloc[0]["needs_cause"]


def test_within_threshold_not_flagged_and_threshold_configurable():
    # 1 day late on a 15-day plan = 6.7%: fine at ±10%, flagged at ±5%
    p = pd.DataFrame([prog(actual_date=D("2026-07-16"))])
    assert not track_progress(p, as_of="2026-12-31").iloc[0]["flagged"]
    assert track_progress(p, as_of="2026-12-31", threshold=0.05).iloc[0]["flagged"]
    # early beyond -10% is flagged too: 2 days early of 15 = -13.3%
    early = track_progress(pd.DataFrame([prog(actual_date=D("2026-07-13"))]), as_of="2026-12-31").iloc[0]
    assert early["deviation"] == pytest.approx(-2 / 15) and early["flagged"]


def test_exactly_ten_percent_is_not_beyond():
    # planned 1st -> 10th (10 days), done 11th: 1/10 = 10% exactly
    p = pd.DataFrame([prog(planned_date=D("2026-07-10"), actual_date=D("2026-07-11"))])
    r = track_progress(p, as_of="2026-12-31").iloc[0]
    assert r["deviation"] == pytest.approx(0.10) and not r["flagged"]


def test_planned_start_falls_back_to_plan_start():
    p = pd.DataFrame([prog(planned_start=None, actual_date=D("2026-07-18"))])
    plan = pd.DataFrame([plan_row()])
    r = track_progress(p, plan, as_of="2026-12-31").iloc[0]
    assert r["planned_days"] == 15 and r["deviation"] == pytest.approx(0.2) and r["owner"] == "A"
    alone = track_progress(p, as_of="2026-12-31").iloc[0]
    assert math.isnan(alone["deviation"]) and "planned start" in alone["issues"]


def test_overdue_against_as_of():
    p = pd.DataFrame([prog(actual_date=None, pct_complete=0.5)])
    before = track_progress(p, as_of="2026-07-15").iloc[0]
    assert not before["overdue"] and before["basis"] == ""
    after = track_progress(p, as_of="2026-07-20").iloc[0]
    assert after["overdue"] and after["basis"] == "as_of" and after["delay_days"] == 5
    assert after["deviation"] == pytest.approx(5 / 15) and after["flagged"]
    done = track_progress(pd.DataFrame([prog(actual_date=None, pct_complete=1.0)]), as_of="2026-07-20")
    assert not done.iloc[0]["overdue"]


def test_method_inconsistent_row_is_pointed_out():
    row = prog(planned_date=D("2026-07-31"), actual_date=D("2026-07-28"), problem="2 days late, −6.5%")
    r = track_progress(pd.DataFrame([row]), as_of="2026-12-31").iloc[0]
    assert r["delay_days"] == -3 and r["deviation"] == pytest.approx(-3 / 31)
    assert r["inconsistent"]
    assert "2 days late" in r["issues"] and "3 days early" in r["issues"]
    assert "-6.5%" in r["issues"] and "-9.7%" in r["issues"]


@pytest.mark.parametrize("words", ["3 days late, +20%", "延迟3天", "偏差 20%", "晚了3天，偏差+20.0%"])
def test_consistent_text_is_not_flagged(words):
    row = prog(actual_date=D("2026-07-18"), problem=words, countermeasure="加人")
    assert not track_progress(pd.DataFrame([row]), as_of="2026-12-31").iloc[0]["inconsistent"]


@pytest.mark.parametrize("words", ["延迟2天", "提前3天", "on time", "偏差 10%"])
def test_contradicting_text_is_flagged(words):
    row = prog(actual_date=D("2026-07-18"), problem=words, countermeasure="加人")
    assert track_progress(pd.DataFrame([row]), as_of="2026-12-31").iloc[0]["inconsistent"]


def test_percent_outside_deviation_context_is_ignored():
    row = prog(actual_date=D("2026-07-18"), problem="点击率只有2%", countermeasure="换素材")
    assert not track_progress(pd.DataFrame([row]), as_of="2026-12-31").iloc[0]["inconsistent"]


def test_progress_bad_percent():
    with pytest.raises(InputError, match="0%..100%"):
        track_progress(pd.DataFrame([prog(pct_complete=60)]), as_of="2026-12-31")
    ok = track_progress(pd.DataFrame([prog(pct_complete="60%", actual_date=None)]), as_of="2026-07-01")
    assert ok.iloc[0]["pct_complete"] == pytest.approx(0.6)


# --- results_review ------------------------------------------------------------------------
METHOD = [("q3_east_sales", 1200, 1080, 0.90), ("new_customers", 500, 420, 0.84),
          ("ka_repurchase", 0.15, 0.18, 1.20), ("registered_users", 500, 550, 1.10),
          ("mau", 200, 180, 0.90), ("major_releases", 3, 3, 1.00)]


def test_results_method_examples_ratio_and_compare():
    res = pd.DataFrame([{"goal": k, "kpi": k, "planned": p, "actual": a, "cause": None, "lesson": "x"}
                        for k, p, a, _ in METHOD])
    plain = results_review(res)
    assert list(plain["achievement"]) == pytest.approx([e for *_, e in METHOD])
    assert set(plain["source"]) == {"ratio"}
    assert list(plain["missing_cause"]) == [True, True, False, False, True, False]
    kpis = pd.DataFrame([{"key": k, "direction": "higher"} for k, *_ in METHOD])
    sc = pd.DataFrame([{"unit": "公司", "kpi": k, "target": p, "actual": a} for k, p, a, _ in METHOD])
    via = results_review(res, compare(sc, kpis))
    assert set(via["source"]) == {"compare"}
    assert list(via["achievement"]) == pytest.approx([e for *_, e in METHOD])


def test_results_direction_aware_lower_is_better():
    res = pd.DataFrame([{"goal": "交付周期", "kpi": "lead", "planned": 10, "actual": 8, "cause": None,
                         "lesson": "流程简化"}])
    kpis = pd.DataFrame([{"key": "lead", "direction": "lower"}])
    r = results_review(res, kpis=kpis).iloc[0]
    assert r["achievement"] == pytest.approx(1.2) and r["met"] and r["source"] == "direction"
    assert not r["missing_cause"]  # met: no cause needed
    r2 = results_review(res.assign(actual=12)).iloc[0]  # unknown KPI direction: plain ratio
    assert r2["achievement"] == pytest.approx(1.2)
    r3 = results_review(res.assign(actual=12), kpis=kpis).iloc[0]
    assert r3["achievement"] == pytest.approx(0.8) and r3["missing_cause"]


def test_results_missing_lesson():
    res = pd.DataFrame([{"goal": "a", "planned": 1, "actual": 1, "lesson": None},
                        {"goal": "b", "planned": 1, "actual": 1, "lesson": "复用打法"}])
    assert list(results_review(res)["missing_lesson"]) == [True, False]


# --- check_actions -------------------------------------------------------------------------
def compared_red():
    kpis = pd.DataFrame([{"key": "renewal", "direction": "higher"}, {"key": "sales", "direction": "higher"}])
    sc = pd.DataFrame([{"unit": "华东", "kpi": "renewal", "target": 100, "actual": 70},
                       {"unit": "华南", "kpi": "renewal", "target": 100, "actual": 80},
                       {"unit": "华东", "kpi": "sales", "target": 100, "actual": 105}])
    return compare(sc, kpis)


def action(**kw):
    row = {"item": "续约率低", "measure": "小客户价格方案", "owner": "张三", "due": D("2027-03-31"),
           "support": "产品", "acceptance": "续约率回到85%", "status": "not_started", "unit": "华东",
           "kpi": "renewal"}
    row.update(kw)
    return row


def test_red_kpi_needs_an_action():
    cmp_ = compared_red()
    assert set(cmp_.loc[cmp_["status"] == "red", "unit"]) == {"华东", "华南"}
    f = check_actions(pd.DataFrame([action()]), cmp_)
    assert rules(f) == {"red_kpi_has_action"} and list(f["unit"]) == ["华南"]
    assert check_actions(pd.DataFrame([action(), action(unit="华南")]), cmp_).empty
    assert check_actions(pd.DataFrame([action(unit=None)]), cmp_).empty  # blank unit covers all units


@pytest.mark.parametrize("kw,rule", [({"owner": None}, "owner"), ({"due": None}, "due"),
                                     ({"acceptance": "尽快改善"}, "measurable_acceptance"),
                                     ({"acceptance": None}, "measurable_acceptance")])
def test_action_fields(kw, rule):
    assert check_actions(pd.DataFrame([action()])).empty
    assert rules(check_actions(pd.DataFrame([action(**kw)]))) == {rule}


# --- split_quarters ------------------------------------------------------------------------
def facts_for(shares_by_year, total=1000.0, unit="华东"):
    rows = []
    for year, shares in shares_by_year.items():
        for q, s in enumerate(shares, start=1):
            # two months per quarter so the quarter sum is exercised
            rows.append({"period": D(f"{year}-{3 * q - 2:02d}-01"), "unit": unit, "sales": total * s / 2})
            rows.append({"period": D(f"{year}-{3 * q - 1:02d}-01"), "unit": unit, "sales": total * s / 2})
    return pd.DataFrame(rows)


KPIS = pd.DataFrame([{"key": "sales", "aggregation": "sum", "measure": "sales", "number_format": "#,##0"},
                     {"key": "renewal_rate", "aggregation": "ratio", "number_format": "0.0%"}])


def test_method_q1_share_22_percent():
    facts = facts_for({2024: [0.22, 0.24, 0.26, 0.28], 2025: [0.22, 0.25, 0.25, 0.28]})
    ny = pd.DataFrame([{"unit": "华东", "kpi": "sales", "annual_target": 15000}])
    r = split_quarters(ny, facts, KPIS).iloc[0]
    assert r["method"] == "seasonality" and r["years"] == [2024, 2025]
    assert [r[f"share_q{i}"] for i in range(1, 5)] == pytest.approx([0.22, 0.245, 0.255, 0.28])
    assert [r[f"q{i}"] for i in range(1, 5)] == [3300, 3675, 3825, 4200]


def test_incomplete_year_is_left_out_and_no_history_is_equal():
    facts = facts_for({2024: [0.1, 0.2, 0.3, 0.4]})
    partial = facts_for({2025: [0.5, 0.5, 0.0, 0.0]})
    partial = partial[partial["period"] < D("2025-07-01")]
    ny = pd.DataFrame([{"unit": "华东", "kpi": "sales", "annual_target": 100}])
    r = split_quarters(ny, pd.concat([facts, partial]), KPIS).iloc[0]
    assert r["years"] == [2024] and "2025" in r["note"]
    assert [r[f"q{i}"] for i in range(1, 5)] == [10, 20, 30, 40]
    eq = split_quarters(ny.assign(unit="华北"), facts, KPIS).iloc[0]
    assert eq["method"] == "equal" and [eq[f"q{i}"] for i in range(1, 5)] == [25, 25, 25, 25]


def test_ratio_kpi_not_split():
    ny = pd.DataFrame([{"unit": "华东", "kpi": "renewal_rate", "annual_target": 0.85}])
    r = split_quarters(ny, facts_for({2024: [0.25] * 4}), KPIS).iloc[0]
    assert r["method"] == "not split" and [r[f"q{i}"] for i in range(1, 5)] == [0.85] * 4


def test_unknown_kpi_is_an_error():
    with pytest.raises(InputError, match="not in table 'KPIs'"):
        split_quarters(pd.DataFrame([{"kpi": "nope", "annual_target": 1}]), None, KPIS)


@pytest.mark.parametrize("fmt,target,dec", [("#,##0", 1.0, 0), ("0.0", 1.0, 1), ("0.00%", 0.1, 4),
                                            ("", 1500, 0), ("", 12.5, 1), ("General", 0.125, 3)])
def test_decimals_of(fmt, target, dec):
    assert decimals_of(fmt, target) == dec


@settings(max_examples=150, deadline=None)
@given(years=st.lists(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=4, max_size=4)
                      .filter(lambda q: sum(q) > 0), min_size=1, max_size=4),
       target=st.integers(0, 10**9), decimals=st.integers(0, 3))
def test_split_identities(years, target, decimals):
    fmt = "0" + ("." + "0" * decimals if decimals else "")
    kpis = pd.DataFrame([{"key": "sales", "aggregation": "sum", "measure": "sales", "number_format": fmt}])
    rows = [{"period": D(f"{2020 + y}-{3 * q + 1:02d}-15"), "unit": "U", "sales": v}
            for y, qs in enumerate(years) for q, v in enumerate(qs)]
    ny = pd.DataFrame([{"unit": "U", "kpi": "sales", "annual_target": target / 10**decimals}])
    r = split_quarters(ny, pd.DataFrame(rows), kpis).iloc[0]
    shares = [r[f"share_q{i}"] for i in range(1, 5)]
    assert all(0.0 <= s <= 1.0 for s in shares)
    assert shares[0] + shares[1] + shares[2] + shares[3] == 1.0
    q = [r[f"q{i}"] for i in range(1, 5)]
    assert all(v >= 0 for v in q)
    scaled = [round(v * 10**decimals) for v in q]
    assert all(abs(v * 10**decimals - s) < 1e-6 for v, s in zip(q, scaled))  # at the KPI's precision
    assert sum(scaled) == target  # quarters add up to the annual target exactly


# --- budget_roi --------------------------------------------------------------------------
def test_budget_roi():
    b = pd.DataFrame([{"category": "投放", "budget": 100, "spend": 120, "revenue": 300},
                      {"category": "CRM系统", "budget": 50, "spend": 40, "revenue": None, "saved_hours": 800},
                      {"category": "培训", "budget": 10, "spend": 10, "revenue": 0}])
    out = budget_roi(b).set_index("category")
    assert out.loc["投放", "variance"] == 20 and out.loc["投放", "variance_pct"] == pytest.approx(0.2)
    assert out.loc["投放", "over_budget"] and not out.loc["CRM系统", "over_budget"]
    assert out.loc["投放", "roi"] == pytest.approx(1.5)
    assert not out.loc["CRM系统", "attributable"] and math.isnan(out.loc["CRM系统", "roi"])
    assert "not attributable" in out.loc["CRM系统", "note"] and "800" in out.loc["CRM系统", "note"]
    assert not out.loc["培训", "attributable"]
    t = out.loc["total"]
    assert (t["budget"], t["spend"]) == (160, 170)
    assert t["roi"] == pytest.approx((300 - 120) / 120)  # attributable spend only
    assert "50" in t["note"]


# --- working days, conflicts, gantt grid ----------------------------------------------------
def test_networkdays_like_excel():
    # July 2026: 1st is a Wednesday; 23 weekdays
    assert networkdays("2026-07-01", "2026-07-31") == 23
    assert networkdays("2026-07-01", "2026-07-31", holidays=["2026-07-15", "2026-07-18"]) == 22
    assert networkdays("2026-07-04", "2026-07-05") == 0  # a weekend
    assert networkdays("2026-07-31", "2026-07-01") == -23


CAMPAIGNS = pd.DataFrame([{"name": "618", "start": D("2026-06-01"), "end": D("2026-06-18"), "kind": "大促"},
                          {"name": "双11", "start": D("2026-10-20"), "end": D("2026-11-11"), "kind": "大促"},
                          {"name": "国庆", "start": D("2026-10-01"), "end": D("2026-10-07"), "kind": "假期"}])


def test_conflicts_campaign_overlap():
    plan = pd.DataFrame([plan_row(task_id="T1", start=D("2026-06-10"), end=D("2026-06-30")),
                         plan_row(task_id="T2", start=D("2026-07-01"), end=D("2026-07-31")),
                         plan_row(task_id="T3", start=D("2026-10-01"), end=D("2026-10-07"))])
    c = conflicts(plan, CAMPAIGNS)
    assert list(zip(c["kind"], c["task_id"], c["other"])) == [("campaign", "T1", "618")]


def test_conflicts_owner_load_and_plan_end():
    tasks = [plan_row(task_id=f"T{i}", owner="A", start=D("2026-07-01"), end=D("2026-07-10")) for i in range(3)]
    plan3 = pd.DataFrame(tasks)
    assert conflicts(plan3, max_parallel=3).empty
    plan4 = pd.DataFrame(tasks + [plan_row(task_id="T9", owner="A", start=D("2026-07-08"), end=D("2026-07-20"))])
    c = conflicts(plan4, max_parallel=3)
    assert list(c["kind"]) == ["owner_load"]
    assert (c.loc[0, "start"], c.loc[0, "end"]) == (D("2026-07-08"), D("2026-07-10"))
    assert c.loc[0, "other"] == "T0, T1, T2, T9"
    pe = conflicts(plan4, max_parallel=5, plan_end="2026-07-15")
    assert list(zip(pe["kind"], pe["task_id"])) == [("after_plan_end", "T9")]
    assert conflicts(plan4, max_parallel=5, plan_end="2026-07-20").empty


def test_gantt_grid_weeks():
    plan = pd.DataFrame([plan_row(task_id="T1", start=D("2026-07-01"), end=D("2026-07-31")),
                         plan_row(task_id="T2", start=D("2026-07-13"), end=D("2026-07-14"), milestone="是")])
    progress = pd.DataFrame([{"task_id": "T1", "planned_date": D("2026-07-15"), "pct_complete": 0.5}])
    g = gantt(plan, progress, CAMPAIGNS, freq="W", as_of="2026-07-16")
    # weeks from Monday 2026-06-29 to Monday 2026-07-27
    assert list(g.periods["start"]) == list(pd.date_range("2026-06-29", periods=5, freq="7D"))
    # T1: 31 days, 50% -> round(15.5) = 16 days done -> done until 7/16: weeks 1-2 done, week 3 partly
    assert g.tasks.loc[0, "done_until"] == D("2026-07-16")
    assert list(g.cells.loc[0]) == ["done", "done", "bar", "bar", "bar"]
    assert list(g.cells.loc[1]) == ["", "", "bar", "", ""]
    assert list(g.marks.loc[0]) == [False, False, True, False, False]
    assert list(g.marks.loc[1]) == [False, False, True, False, False]
    assert list(g.periods["today"]) == [False, False, True, False, False]
    assert g.tasks.loc[0, "working_days"] == 23


def test_gantt_months_campaign_and_holidays():
    plan = pd.DataFrame([plan_row(start=D("2026-09-15"), end=D("2026-11-05"))])
    g = gantt(plan, None, CAMPAIGNS, freq="M", as_of="2026-01-01")
    assert list(g.periods["campaign"]) == ["", "双11", "双11"]  # 国庆 is a holiday, not a band
    # October 2026: 22 weekdays minus 国庆 weekdays 1,2,5,6,7 = 17
    assert list(g.periods["working_days"]) == [22, 17, 21]
    assert list(g.cells.loc[0]) == ["bar", "bar", "bar"]
    with pytest.raises(InputError, match="frequency"):
        gantt(plan, freq="Q", as_of="2026-01-01")


def test_unique_task_id():
    plan = pd.DataFrame([plan_row(task_id="T1"), plan_row(task_id="T2")])
    assert check_plan(plan).empty
    dup = check_plan(pd.DataFrame([plan_row(task_id="T1"), plan_row(task_id="T1"), plan_row(task_id=None)]))
    assert list(dup["rule"]) == ["unique_task_id"] * 3
    assert "2 times" in dup.loc[0, "message"] and dup.loc[2, "message"] == "no task id"


# --- properties against brute force, day by day ------------------------------------------------
day = st.integers(0, 120).map(lambda n: D("2026-01-01") + pd.Timedelta(days=n))


@settings(max_examples=150, deadline=None)
@given(a=day, b=day, hol=st.lists(day, max_size=8))
def test_networkdays_matches_counting_days(a, b, hol):
    lo, hi = min(a, b), max(a, b)
    count = sum(1 for d in pd.date_range(lo, hi) if d.weekday() < 5 and d not in set(hol))
    assert networkdays(a, b, hol) == (count if b >= a else -count)


@settings(max_examples=80, deadline=None)
@given(tasks=st.lists(st.tuples(day, st.integers(0, 40), st.sampled_from([0, 0.1, 0.25, 0.5, 0.8, 1.0])),
                      min_size=1, max_size=5),
       freq=st.sampled_from(["D", "W", "M"]))
def test_gantt_cells_match_day_by_day(tasks, freq):
    plan = pd.DataFrame([{"task_id": f"T{i}", "start": s, "end": s + pd.Timedelta(days=n)}
                         for i, (s, n, _) in enumerate(tasks)])
    progress = pd.DataFrame([{"task_id": f"T{i}", "pct_complete": p} for i, (_, _, p) in enumerate(tasks)])
    g = gantt(plan, progress, None, freq=freq, as_of="2026-03-01")
    # the grid columns tile the calendar without gaps from the first task's column on
    assert (g.periods["start"].iloc[1:].to_numpy() == (g.periods["end"].iloc[:-1] + pd.Timedelta(days=1))
            .to_numpy()).all()
    for i, (s, n, p) in enumerate(tasks):
        e = s + pd.Timedelta(days=n)
        task_days = set(pd.date_range(s, e))
        n_done = math.floor((n + 1) * p + 0.5)  # whole days done, half up
        done_days = set(pd.date_range(s, periods=n_done)) if n_done else set()
        for j, (cs, ce) in enumerate(zip(g.periods["start"], g.periods["end"])):
            mine = task_days & set(pd.date_range(cs, ce))
            want = "" if not mine else ("done" if mine <= done_days else "bar")
            assert g.cells.iat[i, j] == want, (i, j, cs, want)


def test_check_risks():
    from reviewkit.planning import check_risks

    ok = pd.DataFrame([{"risk": "大客户预算收紧", "impact": "高", "countermeasure": "推出分期方案", "owner": "王五"}])
    assert check_risks(ok).empty
    bad = check_risks(ok.assign(countermeasure=None, owner="王五、赵六"))
    assert list(zip(bad["rule"], bad["severity"])) == [("countermeasure", "error"), ("owner", "warning")]


def test_shares_that_round_above_one():
    # thirds, halves and sixths: Q1 + Q2 + Q3 rounds above 1 in floating point
    facts = facts_for({2023: [0, 1, 0, 0], 2024: [0, 0.5, 0.5, 0], 2025: [1, 0, 0, 0]})
    ny = pd.DataFrame([{"unit": "华东", "kpi": "sales", "annual_target": 600}])
    r = split_quarters(ny, facts, KPIS).iloc[0]
    shares = [r[f"share_q{i}"] for i in range(1, 5)]
    assert shares == pytest.approx([1 / 3, 1 / 2, 1 / 6, 0]) and min(shares) >= 0
    assert shares[0] + shares[1] + shares[2] + shares[3] == 1.0
    assert [r[f"q{i}"] for i in range(1, 5)] == [200, 300, 100, 0]
