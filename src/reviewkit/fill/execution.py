"""The Execution sheet: what the plan-and-execution checks of :mod:`reviewkit.planning` found.

Progress deviation (delay ÷ planned duration, beyond ±threshold flagged and needing a cause and a
countermeasure), overdue and self-contradicting rows, plan checks (one owner, end after start, a
measurable acceptance criterion, budget), follow-up actions for red KPIs, timeline conflicts, and
spend vs budget with ROI. Values only: the live parts of the plan are the Gantt sheet's formulas.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from .. import model
from ..ooxml import CellStyle, PageSetup, SheetSpec
from ..planning.checks import check_actions, check_plan, check_risks
from ..planning.messages import label
from ..planning.progress import track_progress
from ..planning.results import TOTAL_KEY, budget_roi
from ..planning.timeline import conflicts
from .grid import _Grid

_TITLE = CellStyle(bold=True, font_color="#1F3864")
_HEAD = CellStyle(bold=True, fill="#D9E1F2", border=True, align="center")
_BAD = CellStyle(fill="#F8CBAD", border=True)
_PCT_BAD = CellStyle(num_format="+0.0%;-0.0%;0.0%", fill="#F8CBAD", border=True)
_PCT = CellStyle(num_format="+0.0%;-0.0%;0.0%", border=True)
_NUM = CellStyle(num_format="#,##0.0", border=True)
_TEXT = CellStyle(border=True)
_NOTE = CellStyle(border=True, wrap=True)
_NOTE_BAD = CellStyle(border=True, wrap=True, fill="#F8CBAD")
_NOTE_COL = 10  # column J: the one wide, wrapping column every section writes its text into
_DATE = CellStyle(num_format="yyyy-mm-dd", border=True)

_LABELS = {
    "title": ("执行跟踪", "Execution"),
    "progress": ("进度偏差（偏差率 = 延误天数 ÷ 计划天数，超过 ±{t:.0%} 需写明问题与对策）",
                 "Progress deviation (delay ÷ planned days; beyond ±{t:.0%} needs a cause and a countermeasure)"),
    "progress_cols": (("任务编号", "里程碑", "负责人", "计划完成", "实际完成", "计划天数", "延误天数", "偏差率", "需补原因", "说明"),
                      ("Task", "Milestone", "Owner", "Planned", "Actual", "Planned days", "Delay days", "Deviation",
                       "Needs cause", "Issues")),
    "findings": ("计划与行动检查", "Plan and action checks"),
    "findings_cols": (("表", "任务/事项", "规则", "问题"), ("Table", "Task / item", "Rule", "Problem")),
    "conflicts": ("时间冲突（大促、负责人并行任务、超出计划期）", "Timeline conflicts (campaigns, owner load, after plan end)"),
    "conflicts_cols": (("类型", "任务", "负责人", "开始", "结束", "说明"), ("Kind", "Task", "Owner", "Start", "End", "Detail")),
    "budget": ("预算与ROI", "Budget and ROI"),
    "budget_cols": (("类别", "预算", "支出", "差异", "差异%", "带来收入", "ROI", "说明"),
                    ("Category", "Budget", "Spend", "Variance", "Variance %", "Revenue", "ROI", "Note")),
    "none": ("无", "none"),
    "yes": ("是", "yes"),
}


def _l(key: str, lang: str):
    zh, en = _LABELS[key]
    return zh if lang == "zh" else en


_WIDTHS = {"A": 12, "B": 22, "C": 22, "D": 12, "E": 12, "F": 12, "G": 12, "H": 12, "I": 12, "J": 70}


def _line(g: _Grid, values, styles, note: bool = False) -> None:
    """One row from column A; with ``note`` the last value goes to the wide note column (J).
    Timestamps are written as days."""
    cols = [*range(1, len(values)), _NOTE_COL if note else len(values)]
    for col, v, style in zip(cols, values, styles):
        g.put(col, v.date() if isinstance(v, pd.Timestamp) else v, style)
    g.skip()


def _section(g: _Grid, title: str, headers) -> None:
    """A title and a header row; the last header goes to the wide note column."""
    g.skip()
    g.put(1, title, _TITLE)
    g.skip()
    _line(g, headers, [_HEAD] * len(headers), note=True)


def _table(review: model.Review, name: str) -> pd.DataFrame | None:
    df = review.tables.get(name)
    return df if df is not None and not df.empty else None


def execution_sheet(review: model.Review, *, as_of=None, lang: str = "zh",
                    compared: pd.DataFrame | None = None) -> SheetSpec | None:
    """The Execution sheet for ``review``, or None when it has no plan, progress, actions or budget."""
    plan, progress = _table(review, "Plan"), _table(review, "Progress")
    actions, budget, risks = _table(review, "Actions"), _table(review, "Budget"), _table(review, "Risks")
    campaigns = _table(review, "Campaigns")
    if all(t is None for t in (plan, progress, actions, budget)):
        return None
    settings = review.settings or {}
    threshold = float(settings.get("deviation_threshold") or 0.10)
    as_of = pd.Timestamp(as_of or settings.get("as_of") or dt.date.today())
    g = _Grid()
    g.put(1, _l("title", lang), _TITLE)
    g.put(3, as_of.date(), CellStyle(num_format="yyyy-mm-dd", font_color="#C00000", bold=True))

    if progress is not None:
        tp = track_progress(progress, plan, as_of=as_of, threshold=threshold, lang=lang)
        _section(g, _l("progress", lang).format(t=threshold), _l("progress_cols", lang))
        for _, r in tp.iterrows():
            bad = bool(r["flagged"]) or bool(r["overdue"]) or bool(r["inconsistent"])
            _line(g, [r["task_id"], r["milestone"], r["owner"], r["planned_date"], r["actual_date"],
                    r["planned_days"], r["delay_days"], r["deviation"],
                    _l("yes", lang) if r["needs_cause"] else None, r["issues"] or None],
                   [_TEXT, _NOTE, _TEXT, _DATE, _DATE, _NUM, _NUM, _PCT_BAD if r["flagged"] else _PCT,
                    _BAD if r["needs_cause"] else _TEXT, _NOTE_BAD if bad and r["issues"] else _NOTE])

    findings = []
    if plan is not None:
        total = float(budget["budget"].sum()) if budget is not None and "budget" in budget else None
        findings.append((model.PLAN.sheet(lang), check_plan(plan, total_budget=total or None, lang=lang), "task_id"))
    if actions is not None or compared is not None:
        findings.append((model.ACTIONS.sheet(lang),
                         check_actions(actions if actions is not None else
                                       pd.DataFrame(columns=[c.key for c in model.ACTIONS.input_columns]),
                                       compared, lang=lang), "item"))
    if risks is not None:
        findings.append((model.RISKS.sheet(lang), check_risks(risks, lang=lang), "item"))
    _section(g, _l("findings", lang), _l("findings_cols", lang))
    n = 0
    for sheet, df, key in findings:
        for _, r in df.iterrows():
            _line(g, [sheet, r.get(key, r.get("task_id")), label(r.get("rule"), lang), r.get("message")],
                  [_TEXT, _NOTE, _NOTE, _NOTE_BAD], note=True)
            n += 1
    if not n:
        g.line([_l("none", lang)], [_TEXT])

    if plan is not None:
        cf = conflicts(plan, campaigns, max_parallel=int(settings.get("max_parallel_tasks") or 3),
                       plan_end=settings.get("plan_end"), lang=lang)
        _section(g, _l("conflicts", lang), _l("conflicts_cols", lang))
        for _, r in cf.iterrows():
            _line(g, [label(r["kind"], lang), r["task_id"], r["owner"], r["start"], r["end"], r["message"]],
                  [_TEXT, _TEXT, _TEXT, _DATE, _DATE, _NOTE_BAD], note=True)
        if cf.empty:
            g.line([_l("none", lang)], [_TEXT])

    if budget is not None:
        b = budget_roi(budget, lang=lang)
        _section(g, _l("budget", lang), _l("budget_cols", lang))
        for _, r in b.iterrows():
            _line(g, [label(r["category"], lang) if r["category"] == TOTAL_KEY else r["category"], r["budget"],
                      r["spend"], r["variance"], r["variance_pct"], r["revenue"], r["roi"], r["note"] or None],
                  [_TEXT, _NUM, _NUM, _BAD if r["over_budget"] else _NUM, _PCT_BAD if r["over_budget"] else _PCT,
                   _NUM, CellStyle(num_format="0.0x", border=True), _NOTE], note=True)

    return g.spec(_WIDTHS, setup=PageSetup(landscape=True), fit_rows=True)
