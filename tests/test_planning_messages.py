"""Plan-and-execution findings in the workbook's language: the same facts in zh and en."""
import datetime as dt
import re

import pandas as pd
import pytest

from reviewkit.planning import messages
from reviewkit.planning.checks import check_actions, check_plan, check_risks
from reviewkit.planning.progress import track_progress
from reviewkit.planning.results import budget_roi, results_review
from reviewkit.planning.timeline import conflicts

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("key", messages.keys())
def test_both_languages_take_the_same_fields(key):
    zh, en = messages.fields(key)
    assert zh == en
    if key not in ("list_separator", "issue_separator", "needs_and"):
        assert CJK.search(messages.say(key, "zh", **_sample(zh)))
        assert not CJK.search(messages.say(key, "en", **_sample(en)))


def _sample(names):
    day = dt.date(2026, 3, 1)
    dates = {"end", "start", "planned", "done", "as_of", "plan_end"}
    return {n: day if n in dates else 0.25 if n in ("deviation", "threshold", "said", "pct", "achievement")
            else 3 for n in names}


def test_plan_checks_say_the_same_thing_in_both_languages():
    plan = pd.DataFrame([
        {"task_id": "T1", "owner": "张三、李四", "start": "2026-03-10", "end": "2026-03-01", "acceptance": "尽快完成",
         "budget": -5},
        {"task_id": "T1", "owner": "", "start": None, "end": "2026-04-01", "acceptance": None, "budget": 1},
    ])
    zh, en = check_plan(plan, total_budget=-10, lang="zh"), check_plan(plan, total_budget=-10)
    assert list(zh["rule"]) == list(en["rule"]) and len(zh) == 10  # 5 + 4 row findings, 1 total
    got = dict(zip(zip(en["row"], en["rule"], en["column"]), zip(en["message"], zh["message"])))
    assert got[(0, "one_owner", "owner")] == (
        "2 owners (张三、李四): name exactly one person; the others can support",
        "有 2 位负责人（张三、李四）：只写一位负责人，其他人可以协助")
    assert got[(0, "end_after_start", "end")] == ("ends 2026-03-01, before it starts 2026-03-10",
                                                  "结束日期 2026-03-01 早于开始日期 2026-03-10")
    assert got[(1, "end_after_start", "start")] == ("start date missing", "缺少开始日期")
    assert got[(0, "budget_nonnegative", "budget")] == ("negative budget -5", "预算为负数：-5")
    assert zh["message"].iloc[-1] == "各任务预算合计 -4，超过计划总预算 -10（超出 6）"
    assert all(CJK.search(m) for m in zh["message"])


def test_actions_and_risks_in_chinese():
    actions = pd.DataFrame([{"item": "回访", "unit": "华东", "kpi": "revenue", "owner": None, "due": None,
                             "acceptance": "明显提升"}])
    compared = pd.DataFrame([{"unit": "华北", "kpi": "revenue", "name": "销售额", "status": "red"},
                             {"unit": "华南", "kpi": "churn", "status": "red"}])
    msgs = list(check_actions(actions, compared, lang="zh")["message"])
    assert msgs == ["未填写负责人", "未填写截止日期", "验收标准“明显提升”无法衡量：请写上数字或日期",
                    "华北 的红灯指标“销售额”没有跟进行动（在改进行动表加一行：单位“华北”，指标填“销售额”在 KPI定义 表中的代码）",
                    "华南 的红灯指标“churn”没有跟进行动（在改进行动表加一行：单位“华南”，指标填“churn”在 KPI定义 表中的代码）"]
    risks = pd.DataFrame([{"risk": "价格战", "countermeasure": None, "owner": "王五/赵六"}])
    assert list(check_risks(risks, lang="zh")["message"]) == [
        "风险“价格战”没有应对措施", "风险“价格战”：有 2 位负责人（王五、赵六）：只写一位负责人，其他人可以协助"]


def test_progress_issues_in_chinese_match_the_english_facts():
    plan = pd.DataFrame([{"task_id": "T1", "start": "2025-09-01"}, {"task_id": "T2", "start": "2025-10-01"}])
    progress = pd.DataFrame([
        {"task_id": "T1", "planned_date": "2025-09-15", "actual_date": "2025-09-18", "note": "提前2天完成"},
        {"task_id": "T2", "planned_date": "2025-10-10", "actual_date": None, "pct_complete": 0.5},
    ])
    zh = track_progress(progress, plan, as_of="2025-10-20", lang="zh")
    en = track_progress(progress, plan, as_of="2025-10-20")
    assert zh.drop(columns="issues").equals(en.drop(columns="issues"))
    assert zh.at[0, "issues"] == ("偏差率 +20.0% 超出 ±10%：需补写主要问题和对策；"
                                  "文字写的是提前 2 天，日期却是延迟 3 天（计划 2025-09-15，完成 2025-09-18）")
    assert en.at[0, "issues"].startswith("deviation +20.0% is beyond ±10%: needs a main problem and a countermeasure; "
                                         "the text says 2 days early but the dates say 3 days late")
    # 10 days late so far on a 10-day plan
    assert zh.at[1, "issues"] == ("截至检查日偏差率 +100.0% 超出 ±10%：需补写主要问题和对策；"
                                  "已逾期：计划 2025-10-10 完成，到 2025-10-20 仍未完成")


def test_conflicts_budget_and_results_in_chinese():
    plan = pd.DataFrame([{"task_id": f"T{i}", "owner": "张三", "start": "2026-06-01", "end": "2026-06-10"}
                         for i in range(4)])
    camp = pd.DataFrame([{"name": "618", "start": "2026-06-01", "end": "2026-06-18"}])
    got = conflicts(plan, camp, max_parallel=3, plan_end="2026-06-05", lang="zh")
    assert got["message"].iloc[0] == "任务 T0 与618时间重叠（2026-06-01 – 2026-06-10）"
    load = got[got["kind"] == "owner_load"]["message"].iloc[0]
    assert load == "张三 在 2026-06-01 至 2026-06-10 同时负责 4 项任务（多于 3 项）：T0、T1、T2、T3"
    assert got["message"].iloc[-1] == "任务 T3 在 2026-06-10 结束，晚于计划期末 2026-06-05"
    b = budget_roi(pd.DataFrame([{"category": "CRM", "budget": 30, "spend": 32, "saved_hours": 2000},
                                 {"category": "沙龙", "budget": 40, "spend": 46, "revenue": 210}]), lang="zh")
    assert list(b["note"]) == ["无法归因：这笔支出没有对应的收入；节省人工 2000 小时", "",
                               "ROI 只按可归因的支出 46 计算；32 无法归因"]
    r = results_review(pd.DataFrame([{"goal": "销售额", "planned": 100, "actual": 90}]), lang="zh")
    assert r.at[0, "issues"] == "未达计划（90%）且没有写偏差原因；没有写经验或教训"
