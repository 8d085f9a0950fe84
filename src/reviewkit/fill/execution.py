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
from ..messages import Messages, pairs, pick
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

_WORDS = Messages.load("execution")
#: each section's column headers: a (zh, en) pair a column, in order
_COLUMNS = {name: tuple(pairs("execution", f"{name}_columns").values())
            for name in ("progress", "findings", "conflicts", "budget")}
_say = _WORDS.say


def _columns(section: str, lang: str) -> tuple[str, ...]:
    """The column headers of a section of the sheet, in ``lang``."""
    return tuple(pick(lang, *pair) for pair in _COLUMNS[section])


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
    g.put(1, _say("title", lang), _TITLE)
    g.put(3, as_of.date(), CellStyle(num_format="yyyy-mm-dd", font_color="#C00000", bold=True))

    if progress is not None:
        tp = track_progress(progress, plan, as_of=as_of, threshold=threshold, lang=lang)
        _section(g, _say("progress", lang, t=threshold), _columns("progress", lang))
        for _, r in tp.iterrows():
            bad = bool(r["flagged"]) or bool(r["overdue"]) or bool(r["inconsistent"])
            _line(g, [r["task_id"], r["milestone"], r["owner"], r["planned_date"], r["actual_date"],
                    r["planned_days"], r["delay_days"], r["deviation"],
                    _say("yes", lang) if r["needs_cause"] else None, r["issues"] or None],
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
    _section(g, _say("findings", lang), _columns("findings", lang))
    n = 0
    for sheet, df, key in findings:
        for _, r in df.iterrows():
            _line(g, [sheet, r.get(key, r.get("task_id")), label(r.get("rule"), lang), r.get("message")],
                  [_TEXT, _NOTE, _NOTE, _NOTE_BAD], note=True)
            n += 1
    if not n:
        g.line([_say("none", lang)], [_TEXT])

    if plan is not None:
        cf = conflicts(plan, campaigns, max_parallel=int(settings.get("max_parallel_tasks") or 3),
                       plan_end=settings.get("plan_end"), lang=lang)
        _section(g, _say("conflicts", lang), _columns("conflicts", lang))
        for _, r in cf.iterrows():
            _line(g, [label(r["kind"], lang), r["task_id"], r["owner"], r["start"], r["end"], r["message"]],
                  [_TEXT, _TEXT, _TEXT, _DATE, _DATE, _NOTE_BAD], note=True)
        if cf.empty:
            g.line([_say("none", lang)], [_TEXT])

    if budget is not None:
        b = budget_roi(budget, lang=lang)
        _section(g, _say("budget", lang), _columns("budget", lang))
        for _, r in b.iterrows():
            _line(g, [label(r["category"], lang) if r["category"] == TOTAL_KEY else r["category"], r["budget"],
                      r["spend"], r["variance"], r["variance_pct"], r["revenue"], r["roi"], r["note"] or None],
                  [_TEXT, _NUM, _NUM, _BAD if r["over_budget"] else _NUM, _PCT_BAD if r["over_budget"] else _PCT,
                   _NUM, CellStyle(num_format="0.0x", border=True), _NOTE], note=True)

    return g.spec(_WIDTHS, setup=PageSetup(landscape=True), fit_rows=True)
