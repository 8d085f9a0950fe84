"""What the plan-and-execution checks say, in Chinese and English.

The Execution sheet of a Chinese workbook is read by people who may not read English, so every
finding is written in the workbook's language. Each entry is a ``str.format`` template per
language; both take the same fields (a test checks that).
"""
from __future__ import annotations

from ..messages import Messages

LANGS = ("zh", "en")

_TEXTS: dict[str, tuple[str, str]] = {
    # owners (Plan, Actions, Risks)
    "no_owner": ("未填写负责人", "no owner"),
    "several_owners": ("有 {n} 位负责人（{names}）：只写一位负责人，其他人可以协助",
                       "{n} owners ({names}): name exactly one person; the others can support"),
    # Plan
    "no_task_id": ("未填写任务编号", "no task id"),
    "duplicate_task_id": ("任务编号 {task_id} 用了 {n} 次", "task id {task_id} is used {n} times"),
    "start_missing": ("缺少开始日期", "start date missing"),
    "end_missing": ("缺少结束日期", "end date missing"),
    "start_end_missing": ("缺少开始和结束日期", "start and end date missing"),
    "end_before_start": ("结束日期 {end:%Y-%m-%d} 早于开始日期 {start:%Y-%m-%d}",
                         "ends {end:%Y-%m-%d}, before it starts {start:%Y-%m-%d}"),
    "no_acceptance": ("未填写验收标准", "no acceptance criterion"),
    "acceptance_not_measurable": ("验收标准“{text}”无法衡量：请写上数字或日期（例如“3 个平台方案上线，点击率 ≥ 3%”）",
                                  "acceptance criterion '{text}' is not measurable: add a number or a date "
                                  "(e.g. '3 platform plans live, click rate ≥ 3%')"),
    "negative_budget": ("预算为负数：{budget:g}", "negative budget {budget:g}"),
    "budget_over_total": ("各任务预算合计 {spent:g}，超过计划总预算 {total:g}（超出 {over:g}）",
                          "task budgets add up to {spent:g}, above the plan total {total:g} (over by {over:g})"),
    # Actions
    "no_due": ("未填写截止日期", "no due date"),
    "action_not_measurable": ("验收标准“{text}”无法衡量：请写上数字或日期",
                              "acceptance criterion '{text}' is not measurable: add a number or a date"),
    # the KPI by its name (a code such as renewal_rate is not Chinese); the sheet gives its code
    "red_kpi_without_action": ("{unit} 的红灯指标“{name}”没有跟进行动（在改进行动表加一行：单位“{unit}”，"
                               "指标填“{name}”在 KPI定义 表中的代码）",
                               "red KPI {name} of {unit} has no follow-up action (add one with unit '{unit}' "
                               "and the key of {name} on the KPIs sheet)"),
    # Risks
    "risk_without_countermeasure": ("风险“{risk}”没有应对措施", "risk '{risk}' has no countermeasure"),
    "risk_owner": ("风险“{risk}”：{detail}", "risk '{risk}': {detail}"),
    # Progress
    "days_late": ("延迟 {days:g} 天", "{days:g} days late"),
    "days_early": ("提前 {days:g} 天", "{days:g} days early"),
    "on_time": ("按时", "on time"),
    "planned_before_start": ("计划完成日 {planned:%Y-%m-%d} 早于计划开始日 {start:%Y-%m-%d}",
                             "planned date {planned:%Y-%m-%d} is before the planned start {start:%Y-%m-%d}"),
    "done_without_date": ("已完成 100% 但没有实际完成日期：无法计算延误",
                          "100% complete but no actual date: the delay is unknown"),
    "no_planned_date": ("未填写计划完成日期", "no planned date"),
    "no_planned_start": ("没有计划开始日期（本表和计划表都没有）：无法计算偏差率",
                         "no planned start (here or in the plan): deviation % unknown"),
    "deviation_beyond": ("偏差率 {deviation:+.1%} 超出 ±{threshold:.0%}",
                         "deviation {deviation:+.1%} is beyond ±{threshold:.0%}"),
    "deviation_so_far_beyond": ("截至检查日偏差率 {deviation:+.1%} 超出 ±{threshold:.0%}",
                                "deviation so far {deviation:+.1%} is beyond ±{threshold:.0%}"),
    "needs": ("：需补写{what}", ": needs a {what}"),
    "needs_and": ("和", " and a "),
    "main_problem": ("主要问题", "main problem"),
    "countermeasure": ("对策", "countermeasure"),
    "overdue": ("已逾期：计划 {planned:%Y-%m-%d} 完成，到 {as_of:%Y-%m-%d} 仍未完成",
                "overdue: planned {planned:%Y-%m-%d}, not done by {as_of:%Y-%m-%d}"),
    "text_days_disagree": ("文字写的是{said}，日期却是{dates}（计划 {planned:%Y-%m-%d}，完成 {done:%Y-%m-%d}）",
                           "the text says {said} but the dates say {dates} "
                           "(planned {planned:%Y-%m-%d}, done {done:%Y-%m-%d})"),
    "text_pct_disagrees": ("文字写的偏差率是 {said:+.1%}，按日期算是 {delay:+g}/{days:g} 天 = {deviation:+.1%}",
                           "the text says a deviation of {said:+.1%} but the dates give "
                           "{delay:+g}/{days:g} days = {deviation:+.1%}"),
    "text_contradicts_itself": ("文字自相矛盾：{said}，偏差率却是 {pct:+.1%}",
                                "the text contradicts itself: {said} with a deviation of {pct:+.1%}"),
    "issue_separator": ("；", "; "),
    # Timeline conflicts
    "during_campaign": ("任务 {task_id} 与{name}时间重叠（{start:%Y-%m-%d} – {end:%Y-%m-%d}）",
                        "task {task_id} runs during {name} ({start:%Y-%m-%d} – {end:%Y-%m-%d})"),
    "owner_overloaded": ("{owner} 在 {start:%Y-%m-%d} 至 {end:%Y-%m-%d} 同时负责 {n} 项任务（多于 {limit} 项）：{ids}",
                         "{owner} has {n} tasks at once from {start:%Y-%m-%d} to {end:%Y-%m-%d} "
                         "(more than {limit}): {ids}"),
    "after_plan_end": ("任务 {task_id} 在 {end:%Y-%m-%d} 结束，晚于计划期末 {plan_end:%Y-%m-%d}",
                       "task {task_id} ends {end:%Y-%m-%d}, after the plan's end {plan_end:%Y-%m-%d}"),
    "list_separator": ("、", ", "),
    # Results and budget
    "achievement_unknown": ("无法计算达成率：缺少计划值或实际值，或计划值为 0",
                            "achievement not computable: planned or actual missing, or planned is 0"),
    "below_plan_without_cause": ("未达计划（{achievement:.0%}）且没有写偏差原因",
                                 "below plan ({achievement:.0%}) without a cause of deviation"),
    "no_lesson": ("没有写经验或教训", "no lesson or experience written"),
    "not_attributable": ("无法归因：这笔支出没有对应的收入", "not attributable: no revenue tied to this spend"),
    "saved_hours": ("；节省人工 {hours:g} 小时", "; saved {hours:g} hours of labour instead"),
    "revenue_without_spend": ("有收入但没有支出：ROI 无法计算", "revenue without spend: ROI not defined"),
    "roi_attributable_only": ("ROI 只按可归因的支出 {spend:g} 计算；{loose:g} 无法归因",
                              "ROI over attributable spend {spend:g} only; {loose:g} not attributable"),
}

#: names of the check rules and conflict kinds as the Execution sheet shows them
_LABELS: dict[str, tuple[str, str]] = {
    "one_owner": ("唯一负责人", "one owner"),
    "end_after_start": ("起止日期", "end after start"),
    "measurable_acceptance": ("验收可衡量", "measurable acceptance"),
    "unique_task_id": ("任务编号唯一", "unique task id"),
    "budget_nonnegative": ("预算非负", "budget not negative"),
    "budget_total": ("预算总额", "budget total"),
    "red_kpi_has_action": ("红灯指标有行动", "red KPI has an action"),
    "owner": ("负责人", "owner"),
    "due": ("截止日期", "due date"),
    "countermeasure": ("应对措施", "countermeasure"),
    "campaign": ("大促重叠", "campaign"),
    "owner_load": ("负责人任务过多", "owner load"),
    "after_plan_end": ("超出计划期", "after plan end"),
    "total": ("合计", "total"),
}


_MESSAGES = Messages(_TEXTS, _LABELS)
say = _MESSAGES.say
label = _MESSAGES.label
fields = _MESSAGES.fields
keys = _MESSAGES.keys
