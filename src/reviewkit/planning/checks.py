"""Checks of the execution plan and the follow-up actions: one owner, dates, measurable results."""
from __future__ import annotations

import pandas as pd

from reviewkit.errors import InputError

from ._common import (column, findings, is_blank, is_measurable, owners, require_frame, text, to_dates,
                      to_numbers)
from .messages import say

ERROR, WARNING = "error", "warning"


def _owner_finding(owner_cell, *, several_severity: str = ERROR, lang: str = "en") -> tuple[str, str] | None:
    names = owners(owner_cell)
    if not names:
        return say("no_owner", lang), ERROR
    if len(names) > 1:
        return say("several_owners", lang, n=len(names), names="、".join(names)), several_severity
    return None


def check_plan(plan: pd.DataFrame, *, total_budget: float | None = None, lang: str = "en") -> pd.DataFrame:
    """Findings on the execution plan (table ``Plan``): one row per broken rule.

    Rules (``rule`` column):

    * ``one_owner`` – the owner cell names exactly one person; blank fails, and so do several
      names split by 、 , / ; & + 和 及 与 (full-width forms too).
    * ``end_after_start`` – start and end are given and the end is not before the start (a
      one-day task may start and end on the same day: dates are inclusive).
    * ``measurable_acceptance`` – the acceptance criterion contains a number or a date.
    * ``unique_task_id`` – every task id is given and appears once (Progress rows link by it).
    * ``budget_nonnegative`` – no task has a negative budget.
    * ``budget_total`` – with ``total_budget``, the tasks' budgets add up to at most the plan
      total (one finding for the whole table, ``task_id`` None).

    Returns columns ``row`` (the DataFrame index label), ``task_id``, ``column``, ``rule``,
    ``message`` (in ``lang``: "zh" or "en"), ``severity`` ("error"); empty when the plan passes.
    """
    require_frame(plan, "Plan", ["task_id"])
    if total_budget is not None:
        try:
            total_budget = float(total_budget)
        except (TypeError, ValueError) as exc:
            raise InputError("total_budget is not a number", value=total_budget,
                             expected="the plan's total budget, e.g. 50") from exc
    start = to_dates(plan, "start", "Plan", key="task_id")
    end = to_dates(plan, "end", "Plan", key="task_id")
    budget = to_numbers(plan, "budget", "Plan", key="task_id")
    acceptance = column(plan, "acceptance")
    owner = column(plan, "owner")
    rows: list[dict] = []

    def add(idx, col, rule, message, severity=ERROR):
        rows.append({"row": idx, "task_id": text(plan.at[idx, "task_id"]) or None, "column": col,
                     "rule": rule, "message": message, "severity": severity})

    ids = plan["task_id"].map(text)
    counts = ids.value_counts()
    for idx in plan.index:
        if not ids[idx]:
            add(idx, "task_id", "unique_task_id", say("no_task_id", lang))
        elif counts[ids[idx]] > 1:
            add(idx, "task_id", "unique_task_id", say("duplicate_task_id", lang, task_id=ids[idx], n=counts[ids[idx]]))
        found = _owner_finding(owner[idx], lang=lang)
        if found:
            add(idx, "owner", "one_owner", found[0], found[1])
        s, e = start[idx], end[idx]
        if pd.isna(s) or pd.isna(e):
            which = "start_end_missing" if pd.isna(s) and pd.isna(e) else "start_missing" if pd.isna(s) else "end_missing"
            add(idx, "start" if pd.isna(s) else "end", "end_after_start", say(which, lang))
        elif e < s:
            add(idx, "end", "end_after_start", say("end_before_start", lang, end=e, start=s))
        acc = acceptance[idx]
        if is_blank(acc):
            add(idx, "acceptance", "measurable_acceptance", say("no_acceptance", lang))
        elif not is_measurable(acc):
            add(idx, "acceptance", "measurable_acceptance", say("acceptance_not_measurable", lang, text=text(acc)))
        if budget[idx] < 0:
            add(idx, "budget", "budget_nonnegative", say("negative_budget", lang, budget=budget[idx]))
    if total_budget is not None:
        spent = float(budget.sum(skipna=True))
        if spent > total_budget + 1e-9 * max(1.0, abs(total_budget)):
            rows.append({"row": None, "task_id": None, "column": "budget", "rule": "budget_total",
                         "message": say("budget_over_total", lang, spent=spent, total=total_budget,
                                        over=spent - total_budget),
                         "severity": ERROR})
    return findings(rows)


def check_actions(actions: pd.DataFrame, compared: pd.DataFrame | None = None, *, lang: str = "en") -> pd.DataFrame:
    """Findings on the follow-up actions (table ``Actions``).

    * ``red_kpi_has_action`` – every row of ``compared`` (``reviewkit.analysis.compare`` output:
      ``unit``, ``kpi``, ``status``) whose status is red is linked to at least one action with the
      same KPI and the same unit; an action whose unit is blank covers every unit of its KPI.
    * ``owner`` – each action has an owner (several names is a warning: name one person).
    * ``due`` – each action has a due date.
    * ``measurable_acceptance`` – each action's acceptance criterion holds a number or a date.

    Columns as ``check_plan`` plus ``unit``, ``kpi`` and ``item``; ``task_id`` is always None.
    """
    require_frame(actions, "Actions", ["item"])
    due = to_dates(actions, "due", "Actions", key="item")
    owner = column(actions, "owner")
    acceptance = column(actions, "acceptance")
    a_unit = column(actions, "unit").map(text)
    a_kpi = column(actions, "kpi").map(text)
    rows: list[dict] = []

    def add(idx, col, rule, message, severity=ERROR, unit=None, kpi=None, item=None):
        rows.append({"row": idx, "task_id": None, "column": col, "rule": rule, "message": message,
                     "severity": severity, "unit": unit, "kpi": kpi, "item": item})

    for idx in actions.index:
        item = text(actions.at[idx, "item"])
        ctx = {"unit": a_unit[idx] or None, "kpi": a_kpi[idx] or None, "item": item}
        found = _owner_finding(owner[idx], several_severity=WARNING, lang=lang)
        if found:
            add(idx, "owner", "owner", found[0], found[1], **ctx)
        if pd.isna(due[idx]):
            add(idx, "due", "due", say("no_due", lang), **ctx)
        acc = acceptance[idx]
        if is_blank(acc):
            add(idx, "acceptance", "measurable_acceptance", say("no_acceptance", lang), **ctx)
        elif not is_measurable(acc):
            add(idx, "acceptance", "measurable_acceptance", say("action_not_measurable", lang, text=text(acc)),
                **ctx)
    if compared is not None:
        require_frame(compared, "compared", ["unit", "kpi", "status"])
        linked = set(zip(a_unit, a_kpi))
        for _, r in compared.iterrows():
            if text(r["status"]).lower() != "red":
                continue
            unit, kpi = text(r["unit"]), text(r["kpi"])
            name = text(r.get("name")) or kpi  # people know a KPI by its name; the Actions table by its code
            if (unit, kpi) not in linked and ("", kpi) not in linked:
                add(None, "kpi", "red_kpi_has_action",
                    say("red_kpi_without_action", lang, unit=unit, kpi=kpi, name=name), unit=unit, kpi=kpi)
    return findings(rows)


def check_risks(risks: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """Findings on the next-year risks (table ``Risks``): each risk needs a countermeasure
    (``countermeasure`` rule) and an owner (``owner`` rule; several names is a warning)."""
    require_frame(risks, "Risks", ["risk"])
    rows: list[dict] = []
    counter, owner = column(risks, "countermeasure"), column(risks, "owner")
    for idx in risks.index:
        risk = text(risks.at[idx, "risk"])
        if is_blank(counter[idx]):
            rows.append({"row": idx, "task_id": None, "column": "countermeasure", "rule": "countermeasure",
                         "message": say("risk_without_countermeasure", lang, risk=risk), "severity": ERROR,
                         "item": risk})
        found = _owner_finding(owner[idx], several_severity=WARNING, lang=lang)
        if found:
            rows.append({"row": idx, "task_id": None, "column": "owner", "rule": "owner",
                         "message": say("risk_owner", lang, risk=risk, detail=found[0]), "severity": found[1],
                         "item": risk})
    return findings(rows)
