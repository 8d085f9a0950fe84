"""The Timeline sheet: the live Gantt chart of the plan, as a ``reviewkit.ooxml.SheetSpec``
(:func:`timeline_sheet`; fill writes it, one page wide, when the Plan table has tasks with dates).

Everything on the sheet follows the Plan, Progress and Campaigns tables through formulas, so a
date moved in the Plan sheet moves its bar at the next recalculation; nothing is drawn as a
static colour. Layout (rows are 1-based):

* row 1: title; row 2: the as-of date in C2 (a fixed date, or ``TODAY()``), and from J2 on the
  name of each campaign above the column where it starts; row 3: the month (days, weeks) or the
  year (months) above the column where it starts, so the axis says which year it is.
* row 4: the first day of each grid column (days, weeks from Monday, or months), from J4 on;
  J4 is a value, every other column is a formula of the one before it.
* row 5: the last day of each column; row 6: the campaign in that column (Campaigns rows whose
  kind is not a holiday); row 7: working days in the column (NETWORKDAYS with the holiday list).
* rows 8…: one per Plan row (positional: row k shows the k-th Plan row): A id, B task, C owner,
  D start, E end (INDEX into the Plan sheet), F % complete (highest % reported for the task in
  Progress), G done until = D + ROUND((E − D + 1) × F) − 1, H working days; grid cells show ◆
  where a Progress planned date of the task (or the end of a milestone task) falls.
* below the tasks, in column B: the holiday list used by NETWORKDAYS (values: holiday-kind Campaigns rows
  expanded to days, plus the holidays passed in).

Conditional formats on the grid, first match wins: done (dark), bar (light), today column, campaign
band, non-working column (grey). Only functions Excel 2016 and LibreOffice 7.4 both have are used:
INDEX, MATCH, IF, AND, OR, ISNUMBER, ISNA, IFERROR, ROUND, MIN, MAX, SUMPRODUCT, LOOKUP,
DATE, YEAR, MONTH, NETWORKDAYS, TODAY.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from .. import model
from ..errors import InputError
from ..messages import Messages, pick
from ..model import TableLayout
from ..ooxml import CellStyle, DxfStyle, ExpressionRule, PageSetup, SheetSpec, WorkbookEditor
from ..ooxml.cellref import num_to_col
from ..planning.timeline import FREQS, HOLIDAY_KINDS, GanttGrid, gantt
from .grid import _Grid

# colours (also used by the tests that read the rendered picture)
DONE = "#1F4E79"
BAR = "#9DC3E6"
TODAY = "#FF5050"
CAMPAIGN = "#FFD966"
NONWORKING = "#BFBFBF"
HEADER = "#D9E1F2"
MILESTONE_FONT = "#C00000"

TITLE_ROW, ASOF_ROW = 1, 2
START_ROW, END_ROW, CAMPAIGN_ROW, WORKDAY_ROW = 4, 5, 6, 7
FIRST_TASK_ROW = 8
FIRST_GRID_COL = 10  # J
TASK_COLS = ("task_id", "task", "owner", "start", "end", "pct_complete", "done_until", "working_days")
ASOF_CELL = "$C$2"
ONE_PAGE_WIDE = PageSetup(landscape=True, fit_width=1, fit_height=0)

_WORDS = Messages.load("timeline")
_HEADER_FMT = {"D": "d", "W": "m/d", "M": {"zh": 'm"月"', "en": "mmm"}}
_GRID_WIDTH = {"D": 3.2, "W": 5.6, "M": 5.0}
LABEL_ROW, CAMPAIGN_LABEL_ROW = 3, 2
HIDDEN_TEXT = ";;;"  # the campaign row's names: the band shows the campaign, row 2 names it once


def _axis_label(start: pd.Timestamp, freq: str, lang: str) -> str:
    """The month (or, on a monthly grid, the year) a run of grid columns belongs to."""
    if freq == "M":
        return f"{start.year}年" if lang == "zh" else str(start.year)
    return f"{start.year}年{start.month}月" if lang == "zh" else start.strftime("%b %Y")
_NOT_MILESTONE = ("否", "N", "NO", "0", "FALSE", "×", "X", "不是", "非")


@dataclass(frozen=True)
class TimelineLayout:
    """Where things landed on the timeline sheet (for callers and tests)."""

    first_task_row: int
    last_task_row: int
    first_grid_col: int
    last_grid_col: int
    holiday_range: str | None

    @property
    def grid(self) -> str:
        return (f"{num_to_col(self.first_grid_col)}{self.first_task_row}:"
                f"{num_to_col(self.last_grid_col)}{max(self.last_task_row, self.first_task_row)}")


def _rng(layout: TableLayout, key: str) -> str | None:
    col = layout.columns.get(key)
    if not col:
        return None
    sheet = layout.sheet.replace("'", "''")
    last = max(layout.last_row, layout.first_row)
    return f"'{sheet}'!${col}${layout.first_row}:${col}${last}"


def _need(layouts: dict, table: str, keys: tuple[str, ...]) -> TableLayout:
    lay = layouts.get(table)
    if lay is None:
        raise InputError(f"the timeline needs to know where table '{table}' is", value=sorted(layouts),
                         expected=f"a TableLayout for '{table}'")
    missing = [k for k in keys if k not in lay.columns]
    if missing:
        raise InputError(f"table '{table}' lacks column(s) the timeline reads: {', '.join(missing)}",
                         sheet=lay.sheet, value=sorted(lay.columns), expected=", ".join(keys))
    return lay


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def timeline_sheet(grid: GanttGrid, layouts: dict[str, TableLayout], *, lang: str = "zh",
                   live_today: bool = False) -> tuple[SheetSpec, TimelineLayout]:
    """The timeline sheet for ``grid`` (from ``gantt``), reading the tables at ``layouts``.

    ``layouts`` maps table names to ``reviewkit.model.TableLayout``: ``Plan`` is required
    (task_id, start, end; task, owner, milestone used when present), ``Progress`` (task_id with
    pct_complete and/or planned_date) and ``Campaigns`` (name, start, end, kind) are optional.
    The grid's period columns and the holiday list are fixed when the sheet is built; every bar,
    % complete, milestone, band and working-day count is a live formula. With ``live_today`` the
    as-of cell is ``TODAY()``; otherwise it holds ``grid.as_of``. Cached values come from ``grid``,
    so the file shows the right picture before any recalculation.
    """
    if lang not in ("zh", "en"):
        raise InputError("unknown language", value=lang, expected="zh | en")
    if grid.freq not in FREQS:
        raise InputError("unknown timeline frequency", value=grid.freq, expected=" | ".join(FREQS))
    L = {key: pick(lang, *pair) for key, pair in _WORDS.texts.items()}
    plan = _need(layouts, "Plan", ("task_id", "start", "end"))
    prog = layouts.get("Progress")
    camp = layouts.get("Campaigns")
    p_id, p_start, p_end = _rng(plan, "task_id"), _rng(plan, "start"), _rng(plan, "end")
    p_task, p_owner, p_ms = _rng(plan, "task"), _rng(plan, "owner"), _rng(plan, "milestone")
    g_id = _rng(prog, "task_id") if prog else None
    g_pct = _rng(prog, "pct_complete") if prog and g_id else None
    g_pdate = _rng(prog, "planned_date") if prog and g_id else None
    c_name = c_start = c_end = c_kind = None
    if camp is not None:
        c_name, c_start, c_end, c_kind = (_rng(camp, k) for k in ("name", "start", "end", "kind"))
    n_tasks = len(grid.tasks)
    n_per = len(grid.periods)
    first_col, last_col = FIRST_GRID_COL, FIRST_GRID_COL + n_per - 1
    last_task_row = FIRST_TASK_ROW + n_tasks - 1
    hol_row = max(last_task_row, FIRST_TASK_ROW) + 2
    holidays = list(grid.holidays)
    hol_range = (f"$B${hol_row + 1}:$B${hol_row + len(holidays)}" if holidays else None)
    hol_arg = f",{hol_range}" if hol_range else ""

    head = CellStyle(bold=True, fill=HEADER, align="center", border=True)
    small = CellStyle(font_color="#595959", align="center")
    date_fmt = CellStyle(num_format="m/d", align="center")
    g = _Grid()
    g.put(1, L["title"], CellStyle(bold=True), row=TITLE_ROW)
    g.put(5, L["legend"], CellStyle(italic=True, font_color="#595959"), row=TITLE_ROW)
    g.put(1, L["as_of"], CellStyle(bold=True), row=ASOF_ROW)
    g.put(3, grid.as_of.to_pydatetime(), CellStyle(num_format="yyyy-mm-dd", bold=True, font_color=TODAY),
          formula="TODAY()" if live_today else None, row=ASOF_ROW)
    g.row = START_ROW
    g.line([L[key] for key in TASK_COLS], head)
    for r, key in ((END_ROW, "period_end"), (CAMPAIGN_ROW, "campaign"), (WORKDAY_ROW, "workdays")):
        g.put(8, L[key], small, row=r)

    # period header rows
    per = grid.periods
    header_fmt = _HEADER_FMT[grid.freq]
    hfmt = CellStyle(num_format=header_fmt[lang] if isinstance(header_fmt, dict) else header_fmt, bold=True,
                     align="center", fill=HEADER, border=True)
    axis = CellStyle(bold=True, font_color="#1F4E79")
    camp_label = CellStyle(bold=True, font_color="#7F6000")
    hidden_camp = CellStyle(num_format=HIDDEN_TEXT, align="center")
    prev_label = prev_camp = None
    efmt = CellStyle(num_format="d" if grid.freq == "D" else "m/d", font_color="#595959", align="center")
    for j in range(n_per):
        c = first_col + j
        col, prev = num_to_col(c), num_to_col(c - 1)
        label = _axis_label(per["start"].iloc[j], grid.freq, lang)
        if label != prev_label:
            g.put(c, label, axis, row=LABEL_ROW)
            prev_label = label
        name = per["campaign"].iloc[j]
        if name and name != prev_camp:
            g.put(c, name, camp_label, row=CAMPAIGN_LABEL_ROW)
        prev_camp = name
        f_start = None if j == 0 else {
            "D": f"{prev}{START_ROW}+1", "W": f"{prev}{START_ROW}+7",
            "M": f"DATE(YEAR({prev}{START_ROW}),MONTH({prev}{START_ROW})+1,1)"}[grid.freq]
        g.put(c, per["start"].iloc[j].to_pydatetime(), hfmt, formula=f_start, row=START_ROW)
        top = f"{col}${START_ROW}"
        f_end = {"D": f"{col}{START_ROW}", "W": f"{col}{START_ROW}+6",
                 "M": f"DATE(YEAR({col}{START_ROW}),MONTH({col}{START_ROW})+1,0)"}[grid.freq]
        g.put(c, per["end"].iloc[j].to_pydatetime(), efmt, formula=f_end, row=END_ROW)
        if c_name and c_start and c_end:
            not_hol = ""
            if c_kind:
                kinds = ",".join(_q(k) for k in sorted(HOLIDAY_KINDS))
                not_hol = f"*ISNA(MATCH({c_kind},{{{kinds}}},0))"
            f_camp = (f"IFERROR(LOOKUP(2,1/(({c_start}<={col}${END_ROW})*({c_end}>={top}){not_hol}),"
                      f"{c_name}),\"\")")
            g.put(c, per["campaign"].iloc[j], hidden_camp, formula=f_camp, row=CAMPAIGN_ROW)
        g.put(c, int(per["working_days"].iloc[j]), small, formula=f"NETWORKDAYS({top},{col}${END_ROW}{hol_arg})",
              row=WORKDAY_ROW)

    # task rows
    ms_cell = CellStyle(bold=True, font_color=MILESTONE_FONT, align="center")
    pct = CellStyle(num_format="0%", align="center")
    t = grid.tasks
    for k in range(n_tasks):
        r = FIRST_TASK_ROW + k
        n = k + 1
        task = t.iloc[k]

        def pull(rng, style=None, tail=""):
            value = f"INDEX({rng},{n})"
            return None if rng is None else (f'IF({value}="","",{value}{tail})', style)

        # IDs match as the engine matches them: as text, exactly (no COUNTIFS wildcards: '*',
        # '?' and '~' are ordinary characters of an ID; fill trims spaces around IDs)
        same_id = f'(({g_id}&"")=($A{r}&""))' if g_id else None
        f_pct = (f'IF($A{r}="","",IFERROR(SUMPRODUCT(MAX({same_id}*{g_pct})),0))' if g_pct
                 else f'IF($A{r}="","",0)')
        formulas = [
            (f'IF(INDEX({p_id},{n})="","",INDEX({p_id},{n})&"")', None),  # IDs are text
            pull(p_task, None, '&""'), pull(p_owner, None, '&""'),
            pull(p_start, date_fmt), pull(p_end, date_fmt), (f_pct, pct),
            (f'IF(OR($D{r}="",$E{r}=""),"",$D{r}+ROUND(($E{r}-$D{r}+1)*$F{r},0)-1)', date_fmt),
            (f'IF(OR($D{r}="",$E{r}=""),"",NETWORKDAYS($D{r},$E{r}{hol_arg}))', CellStyle(align="center")),
        ]
        cached = [task["task_id"], task["task"], task["owner"], task["start"], task["end"],
                  float(task["pct_complete"]) if g_pct else 0.0, task["done_until"], task["working_days"]]
        for c, (spec, value) in enumerate(zip(formulas, cached), 1):
            if spec is not None:
                g.put(c, value, spec[1], formula=spec[0], row=r)
        for j in range(n_per):
            col = num_to_col(first_col + j)
            conds = []
            if g_pdate:
                conds.append(f'SUMPRODUCT({same_id}*ISNUMBER({g_pdate})*({g_pdate}>={col}${START_ROW})'
                             f'*({g_pdate}<={col}${END_ROW}))>0')
            if p_ms:
                flag = f"INDEX({p_ms},{n})"
                words = ",".join(_q(w) for w in _NOT_MILESTONE)
                conds.append(f'AND({flag}<>"",ISNA(MATCH({flag}&"",{{{words}}},0)),ISNUMBER($E{r}),'
                             f'$E{r}>={col}${START_ROW},$E{r}<={col}${END_ROW})')
            if not conds:
                continue
            cond = conds[0] if len(conds) == 1 else f"OR({','.join(conds)})"
            g.put(first_col + j, "◆" if bool(grid.marks.iat[k, j]) else "", ms_cell,
                  formula=f'IF($A{r}="","",IF({cond},"◆",""))', row=r)

    # holiday list
    if holidays:
        g.put(2, L["holidays"], CellStyle(bold=True), row=hol_row)
        for i, h in enumerate(holidays):
            g.put(2, h.to_pydatetime(), CellStyle(num_format="yyyy-mm-dd", align="left"), row=hol_row + 1 + i)

    # conditional formats
    fc, lc = num_to_col(first_col), num_to_col(last_col)
    if n_tasks:
        r0 = FIRST_TASK_ROW
        sq = f"{fc}{r0}:{lc}{last_task_row}"
        in_bar = f"ISNUMBER($D{r0}),ISNUMBER($E{r0}),{fc}${START_ROW}<=$E{r0},{fc}${END_ROW}>=$D{r0}"
        g.rules += [
            ExpressionRule(sq, f"AND({in_bar},$G{r0}>=MIN({fc}${END_ROW},$E{r0}))",
                           DxfStyle(fill=DONE, font_color="#FFFFFF"), stop_if_true=True),
            ExpressionRule(sq, f"AND({in_bar})", DxfStyle(fill=BAR), stop_if_true=True),
            ExpressionRule(sq, f"AND({fc}${START_ROW}<={ASOF_CELL},{fc}${END_ROW}>={ASOF_CELL})",
                           DxfStyle(fill=TODAY), stop_if_true=True),
            ExpressionRule(sq, f'{fc}${CAMPAIGN_ROW}<>""', DxfStyle(fill=CAMPAIGN), stop_if_true=True),
            ExpressionRule(sq, f"{fc}${WORKDAY_ROW}=0", DxfStyle(fill=NONWORKING), stop_if_true=True),
            # "done until" before the start means nothing is done yet: grey it out
            ExpressionRule(f"G{r0}:G{last_task_row}", f"AND(ISNUMBER($G{r0}),ISNUMBER($D{r0}),$G{r0}<$D{r0})",
                           DxfStyle(font_color="#BFBFBF")),
        ]
    hsq = f"{fc}{START_ROW}:{lc}{START_ROW}"
    g.rules += [
        ExpressionRule(hsq, f"AND({fc}{START_ROW}<={ASOF_CELL},{fc}{END_ROW}>={ASOF_CELL})",
                       DxfStyle(fill=TODAY, font_color="#FFFFFF", bold=True), stop_if_true=True),
        ExpressionRule(f"{fc}{CAMPAIGN_ROW}:{lc}{CAMPAIGN_ROW}", f'{fc}{CAMPAIGN_ROW}<>""',
                       DxfStyle(fill=CAMPAIGN), stop_if_true=True),
        ExpressionRule(f"{fc}{WORKDAY_ROW}:{lc}{WORKDAY_ROW}", f"{fc}{WORKDAY_ROW}=0",
                       DxfStyle(fill=NONWORKING), stop_if_true=True),
    ]
    widths = {"A": 7, "B": 24 if lang == "zh" else 32, "C": 11, "D": 7, "E": 7, "F": 8, "G": 8, "H": 10}
    for j in range(n_per):
        widths[num_to_col(first_col + j)] = _GRID_WIDTH[grid.freq]
    # one page wide, whatever the plan's length: weeks for a short plan, months for a long one
    spec = g.spec(widths, freeze=f"{fc}{FIRST_TASK_ROW}", setup=ONE_PAGE_WIDE, grid_lines=True)
    return spec, TimelineLayout(FIRST_TASK_ROW, last_task_row, first_col, last_col, hol_range)


def review_timeline(review, *, freq: str = "W", as_of=None, holidays=(), live_today: bool = False,
                    start=None, end=None) -> tuple[SheetSpec, TimelineLayout]:
    """The timeline sheet of a ``reviewkit.model.Review`` read from a workbook: its Plan, Progress
    and Campaigns tables and their ``layouts``. ``as_of`` None uses the Settings ``as_of``, else today;
    the plan's window is ``start``/``end``, else the tasks' dates."""
    if as_of is None:
        as_of = review.settings.get("as_of")
    campaigns = review.table("Campaigns")
    progress = review.table("Progress")
    grid = gantt(review.table("Plan"), progress if len(progress) else None,
                 campaigns if len(campaigns) else None, freq=freq, holidays=holidays, as_of=as_of,
                 start=start, end=end)
    layouts = {k: v for k, v in review.layouts.items() if k in ("Plan", "Progress", "Campaigns")}
    return timeline_sheet(grid, layouts, lang=review.lang, live_today=live_today)


def write_timeline(path, sheet_name: str, grid: GanttGrid, layouts: dict[str, TableLayout], *,
                   lang: str = "zh", live_today: bool = False, position: int | None = None,
                   out=None):
    """Build the timeline sheet and write it into the workbook at ``path`` (saved atomically to
    ``out`` or over ``path``) with the lossless editor; returns the TimelineLayout."""
    spec, where = timeline_sheet(grid, layouts, lang=lang, live_today=live_today)
    editor = WorkbookEditor.open(path)
    try:
        editor.replace_sheet(sheet_name, spec, position=position)
        editor.save(out)
    finally:
        editor.close()
    return where


# --- the sheet in a fill ---------------------------------------------------------------------
def _timeline_sheet(review: model.Review, lang: str, as_of, warnings: list[str]) -> SheetSpec | None:
    """The live Gantt sheet of ``reviewkit.planning`` when the Plan table has tasks with dates."""
    plan = review.tables.get("Plan")
    if plan is None or plan.empty or "Plan" not in review.layouts:
        return None
    if not {"start", "end"} <= set(plan.columns) or plan[["start", "end"]].dropna().empty:
        return None
    try:
        grid = gantt(plan, review.tables.get("Progress"), review.tables.get("Campaigns"),
                     as_of=as_of or dt.date.today(), freq=_timeline_freq(plan))
        return timeline_sheet(grid, review.layouts, lang=lang)[0]
    except InputError as exc:
        warnings.append(f"no timeline: {exc}")
        return None


#: a plan longer than this many weeks is drawn by month (a week grid would not fit a page)
TIMELINE_MAX_WEEKS = 20


def _timeline_freq(plan: pd.DataFrame) -> str:
    start = pd.to_datetime(plan["start"], errors="coerce").min()
    end = pd.to_datetime(plan["end"], errors="coerce").max()
    if pd.isna(start) or pd.isna(end):
        return "W"
    return "W" if (end - start).days / 7 <= TIMELINE_MAX_WEEKS else "M"
