"""``reviewkit fill``: the analysis written back into the review workbook.

    read → validate → analyse → build a write plan (plain data) → apply with the lossless
    editor → atomic save

The **write plan** (:class:`FillPlan`, from :func:`build_fill_plan`) is engine-neutral: the
file engine here applies it with :mod:`reviewkit.ooxml`; the xlwings engine applies the same
``plan.cells`` to a workbook open in Excel. Its structure is documented in docs/fill.md.

What a fill writes, and nothing else:

* the **computed columns** of the Scorecard table (grey, beside the inputs): live formulas from
  :mod:`reviewkit.formulas` with the engine's values cached, the conclusion as text;
* **conditional formats** on those columns (IBCS colours direction-aware per KPI, data bars for
  achievement, arrows for rank change, status colours);
* the sheets reviewkit owns (Summary, Breakdown, Peers), rebuilt from scratch every time;
* two custom document properties: ``reviewkit.fingerprint`` (a hash of every input) and
  ``reviewkit.filled_at`` (when the results last changed).

Input cells are never written. Filling twice changes nothing the second time: when every part
would come out byte-identical the file is not saved at all and the result says "unchanged".
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import re
import math
import time
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import formulas as F
from .. import model
from ..analysis._common import total_units
from ..engines.plan import CellWrite
from ..errors import InputError, ReviewkitError, translate
from ..files import write_file
from ..ooxml import (Cell, CellIsRule, CellStyle, Cfvo, Chart, DataBarRule, DxfStyle, IconSetRule, Series,
                    PageSetup, SheetSpec, waterfall_series)
from ..ooxml import numfmt
from ..ooxml.cellref import num_to_col, parse_cell, parse_col
from .words import (_L, MISSING_TEXT, _t)
from .styles import (COMPUTED_FILL, GOOD_FONT, GOOD_FILL, BAD_FONT, BAD_FILL, AMBER_FONT, AMBER_FILL,
                     GREY_FONT, GREY_FILL, HEADER_FILL, HEADER_FONT, SUB_FILL, BAR_COLOR, TITLE_FONT,
                     STATUS_STYLE, STATUS_ORDER, SEVERITY, PCT_SIGNED, PP_SIGNED, ACH_FORMAT, RANK_FORMAT,
                     RANK_CHANGE_FORMAT, DEFAULT_NUMBER, TITLE, SECTION, HEAD, TEXT, WRAP, NOTE, _num_style,
                     _status_rules_cached, _status_rules, _status_rules_new, _arrow_rule, _bar_rule, HUGE,
                     MAX_ROW, TINY, _sign_rules, _sign_rules_cached, _runs, _sqref, _computed_style, _signed,
                     _kpi_format)
from .records import (_blank, _plain, _cached, _object_rows, _records, _index_dicts, _records_by_column)
from .grid import (LINE_WIDTH, _display_width, _WIDTHS, _wrap, _TOKEN_RE, _tokens, _col_letters, _COL_LETTERS,
                   _Grid, PAGE_WIDTH_PT, PAGE_HEIGHT_PT, ROW_PT, _column_pt, _print_scale, _rows_per_page,
                   _page_breaks, _page_setup, _fit_page_setup, _fit_columns, _section, CHART_ROWS)
from .properties import (FINGERPRINT_PROPERTY, FILLED_AT_PROPERTY, OWNED_PROPERTY, FILL_FORMAT, _canonical,
                         fingerprint)
from .analysed import (_Analysis, _skipped, _settings_value, _params, _analyse, _overall_rows)
from .scorecard import (_scorecard_values, _column_format, _scorecard_plan, _sc_ref, _live, _q, QUARTER_KEYS,
                        _next_year_plan)
from .plan import (SheetRules, OwnedSheet, FillPlan)
# <moved>

__all__ = ["FillPlan", "FillResult", "OwnedSheet", "SheetRules", "build_fill_plan", "apply_plan",
           "fill_workbook", "fingerprint", "hand_typed_cells", "is_stale", "FINGERPRINT_PROPERTY",
           "FILLED_AT_PROPERTY", "OWNED_PROPERTY"]


@dataclass
class FillResult:
    """What ``fill_workbook`` did; ``str()`` is what the CLI prints."""

    source: Path
    path: Path
    changed: bool
    cells: int
    formulas: int
    sheets: tuple[str, ...]
    fingerprint: str
    filled_at: str | None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    lang: str = "en"  # the workbook's: a zh workbook's result is said in Chinese too
    notes: tuple[str, ...] = ()  # what fill tidied in the inputs (text numbers stored as numbers, …)

    @property
    def status(self) -> str:
        """"filled" or "unchanged" (the batch runner's words)."""
        return "filled" if self.changed else "unchanged"

    def __str__(self) -> str:
        if not self.changed and self.source != self.path:
            head = (f"unchanged: {self.source} already holds these results (fingerprint {self.fingerprint[:12]}); "
                    f"copied it to {self.path}")
        elif not self.changed:
            head = f"unchanged: {self.path} already holds these results (fingerprint {self.fingerprint[:12]})"
        else:
            head = (f"filled {self.path}: {self.cells} computed cells ({self.formulas} live formulas); "
                    f"rebuilt {', '.join(self.sheets)}; fingerprint {self.fingerprint[:12]}")
        lines = [head]
        if self.lang == "zh":  # the first line stays the same in every language (batch reports it)
            lines.append("未改动：工作簿中已是这些结果" if not self.changed else
                         f"已填写：{self.cells} 个计算单元格（其中 {self.formulas} 个公式），"
                         f"重建了 {'、'.join(self.sheets)}")
        lines += list(self.notes) if self.changed else []
        if self.lang == "zh":
            lines += [f"警告：{translate(w, 'zh')}" for w in self.warnings]
        else:
            lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


#: the one-page summary: columns of the KPI table (A-E) and of its chart (G-N); helper columns
_SUM_LAST_COL = 14  # N
_SUM_HELP = 17  # Q, R: the chart's favourable / unfavourable series (hidden)
#: display width of one line of a win/problem sentence (columns B-N)
_SUM_LINE = 126


def _pick(an: _Analysis, good: bool, n: int = 3) -> list[int]:
    """Scorecard rows of the three biggest wins (``good``) or problems.

    A win is a met KPI (green); its size is the KPI weight x (achievement - 1). A problem is a
    missed or at-risk KPI (red, amber); its size is weight x (1 - achievement), red before amber
    when equal. Achievement is direction-aware, so KPIs of every kind compare on one scale; the
    weight says how much the KPI matters. Rows without an achievement are not picked."""
    picked = []
    for i, r in enumerate(an.rows):
        ach = r["achievement"]
        if _blank(ach) or not math.isfinite(float(ach)):
            continue
        w = float(r["weight"]) if not _blank(r["weight"]) else 1.0
        if good and r["status"] == "green":
            picked.append((-w * (float(ach) - 1), 0, i))
        elif not good and r["status"] in ("red", "amber"):
            picked.append((-w * (1 - float(ach)), STATUS_ORDER[r["status"]], i))
    return [i for *_, i in sorted(picked)[:n]]


def _headline(review: model.Review, an: _Analysis, lang: str) -> list[str]:
    """The overall view in one or two sentences: the weighted achievement across units, last
    year's, and for several units who leads and who moved most in the overall rank."""
    from ..analysis import OVERALL

    overall = [r for r in _overall_rows(an, OVERALL) if not _blank(r["score"])]
    if not overall:
        return []
    label = str(_settings_value(review, "unit_label", "") or (_t("unit", lang)))
    mean = sum(float(r["score"]) for r in overall) / len(overall)
    ly = [float(r["score_ly"]) for r in overall if not _blank(r["score_ly"])]
    mean_ly = sum(ly) / len(ly) if len(ly) == len(overall) else None
    if lang == "zh":
        first = (f"综合达成率 {mean:.1%}（按 KPI 权重加权" + (f"，{len(overall)} 个{label}平均" if len(overall) > 1 else "")
                 + "）" + (f"，去年 {mean_ly:.1%}" if mean_ly is not None else "") + "。")
    else:
        first = (f"Overall achievement {mean:.1%} (weighted by KPI"
                 + (f", mean of {len(overall)} {label.lower()}s" if len(overall) > 1 else "") + ")"
                 + (f", last year {mean_ly:.1%}" if mean_ly is not None else "") + ".")
    lines = [first]
    if len(overall) > 1:
        top = overall[0]

        def move(r):
            c = r["rank_change"]
            if _blank(c):
                return ""
            c = int(c)
            if lang == "zh":
                return "与去年持平" if c == 0 else (f"较去年↑{c}" if c > 0 else f"较去年↓{-c}")
            return "same as last year" if c == 0 else (f"up {c}" if c > 0 else f"down {-c}")

        moved = [r for r in overall if not _blank(r["rank_change"])]
        up = max(moved, key=lambda r: int(r["rank_change"]), default=None)
        down = min(moved, key=lambda r: int(r["rank_change"]), default=None)
        if lang == "zh":
            text = f"{label}排名：{top['unit']} 第 1（{move(top)}）"
            if up is not None and int(up["rank_change"]) > 0:
                text += f"；进步最大 {up['unit']}（第 {int(up['rank'])}，{move(up)}）"
            if down is not None and int(down["rank_change"]) < 0:
                text += f"；退步最大 {down['unit']}（第 {int(down['rank'])}，{move(down)}）"
            lines.append(text + "。")
        else:
            text = f"Overall rank: {top['unit']} first ({move(top)})"
            if up is not None and int(up["rank_change"]) > 0:
                text += f"; most improved {up['unit']} (#{int(up['rank'])}, {move(up)})"
            if down is not None and int(down["rank_change"]) < 0:
                text += f"; biggest drop {down['unit']} (#{int(down['rank'])}, {move(down)})"
            lines.append(text + ".")
    return lines


def _open_items(review: model.Review, an: _Analysis, lang: str, as_of) -> list[str]:
    """Red KPIs without a cause or an action, then overdue actions: one short line each."""
    out = []
    loop = an.loop
    if not loop.empty:
        for unit, name, missing, severity in _object_rows(loop, ["unit", "name", "missing", "severity"]):
            if severity != "error" or missing not in ("cause", "action"):
                continue
            zh, en = MISSING_TEXT[missing]
            out.append(f"{unit} · {name} — {zh}" if lang == "zh" else f"{unit} · {name} — {en}")
    for item, owner, due in _overdue(review, as_of):
        d = pd.Timestamp(due).date().isoformat()
        out.append(f"逾期：{item}（{owner or '未指定负责人'}，期限 {d}）" if lang == "zh" else
                   f"Overdue: {item} ({owner or 'no owner'}, due {d})")
    return out


def _overdue(review: model.Review, as_of) -> list[tuple]:
    """(item, owner, due) of the actions not done whose due date is before ``as_of``."""
    actions = review.tables.get("Actions")
    if as_of is None or actions is None or actions.empty or "due" not in actions.columns:
        return []
    due = pd.to_datetime(actions["due"], errors="coerce")
    status = actions["status"] if "status" in actions.columns else pd.Series([""] * len(actions))
    done = status.map(lambda x: model.choice_key(model.ACTIONS.column("status"), x) == "done"
                      if not _blank(x) else False)
    late = actions[(due < pd.Timestamp(as_of)).to_numpy() & ~done.to_numpy(dtype=bool)]
    return [(a.get("item"), None if _blank(a.get("owner")) else a.get("owner"), a["due"]) for _, a in late.iterrows()]


def _summary_page(g: _Grid, review: model.Review, an: _Analysis, lang: str, fp: str, as_of,
                  scvals: list[dict]) -> None:
    """The page for the projector (landscape A4, one page): headline, status counts, achievement
    by KPI (table and variance chart), the three biggest wins and problems, the open items."""
    ncols = _SUM_LAST_COL
    company = str(_settings_value(review, "company", "") or "")
    year = _settings_value(review, "review_year")
    year_s = "" if year is None else (f"{int(float(year))}年度" if lang == "zh" else f"{int(float(year))} ")
    g.put(1, f"{company}{year_s}{_t('summary_title', lang)}" if lang == "zh" else
          f"{company + ' ' if company else ''}{year_s}{_t('summary_title', lang)}", TITLE)
    g.skip()
    g.put(1, _t("stamp", lang, fp=fp[:12]), NOTE)
    g.skip(2)
    # 1. the headline and the status counts (live: COUNTIF on the scorecard's status column)
    _section(g, _t("headline", lang), ncols)
    for line in _headline(review, an, lang):
        g.put(1, line, CellStyle(bold=True))
        g.skip()
    layout = review.layouts["Scorecard"]
    cols = layout.columns
    sc = _q(layout.sheet)
    rng = {k: f"{sc}!${cols[k]}${layout.first_row}:${cols[k]}${layout.last_row}" for k in cols}
    totals = total_units(r["unit"] for r in an.rows)  # 合计 / Total rows are not units: left out, as in ranks
    comp = an.rows
    units_rows = [r for r in comp if r["unit"] not in totals]
    # the rows a live count or average takes: not a total row (and, per KPI, any spelling of the KPI)
    not_total = "".join(f"*({rng['unit']}<>{F._text(u)})" for u in sorted(totals)) if "unit" in rng else ""
    labels = F.STATUS_LABELS[lang]
    counts = {st: sum(1 for r in units_rows if r["status"] == st) for st in ("green", "amber", "red")}
    g.put(1, _t("status_counts", lang, n=len(units_rows)))
    for j, st in enumerate(("green", "amber", "red")):
        font, fill = STATUS_STYLE[st]
        c = 3 + 2 * j
        g.put(c, labels[st], CellStyle(bold=True, font_color=font, fill=fill, align="center", border=True))
        value = counts[st]
        g.put(c + 1, value, CellStyle(bold=True, align="center", border=True),
              formula=f'SUMPRODUCT(({rng["status"]}="{labels[st]}"){not_total})' if "status" in rng else None)
    g.skip(2)
    # 2. achievement by KPI: a table (live) and the IBCS variance chart beside it
    label = str(_settings_value(review, "unit_label", "") or _t("unit", lang))
    _section(g, _t("by_kpi", lang, label=label if lang == "zh" else label.lower()), ncols)
    g.line([_t(h, lang) for h in ("kpi", "measure_unit", "avg_ach", "green_n", "amber_n", "red_n")], HEAD)
    first = g.row
    chart_top = g.row - 1
    for key, kpi in an.kpi.items():
        idx = [i for i, r in enumerate(units_rows) if r["kpi"] == key]
        if not idx:
            continue
        achs = [float(units_rows[i]["achievement"]) for i in idx if not _blank(units_rows[i]["achievement"])
                and math.isfinite(float(units_rows[i]["achievement"]))]
        avg = sum(achs) / len(achs) if achs else None
        # this KPI's rows, however they spell it (code or name), compared as text like the rank formulas
        spellings = review.kpi_spellings.get(key) or (key,)
        mine = "+".join(f'(({rng["kpi"]}&"")={F._text(k)})' for k in spellings)
        mask = f"(({mine})>0){not_total}"
        n = g.row
        row = [kpi["name"], str(kpi.get("unit") or "")]
        if "achievement" in rng:
            ach = rng["achievement"]
            row.append((f'IFERROR(SUMPRODUCT({mask}*ISNUMBER({ach}),{ach})/SUMPRODUCT({mask}*ISNUMBER({ach})),"")',
                        avg))
        else:
            row.append(avg)
        for st in ("green", "amber", "red"):
            v = sum(1 for i in idx if units_rows[i]["status"] == st)
            row.append((f'SUMPRODUCT({mask}*({rng["status"]}="{labels[st]}"))', v) if "status" in rng else v)
        g.line(row, [TEXT, CellStyle(border=True, align="center"), _num_style(ACH_FORMAT),
                     _num_style("0", align="center"), _num_style("0", align="center"), _num_style("0", align="center")])
        g.row -= 1
        var = None if avg is None else (avg - 1) * 100
        b = f"C{n}"
        g.line([(f'IF(ISNUMBER({b}),IF({b}>=1,({b}-1)*100,0),0)', 0.0 if var is None or var < 0 else var),
                (f'IF(ISNUMBER({b}),IF({b}<1,({b}-1)*100,0),0)', 0.0 if var is None or var >= 0 else var)],
               _num_style("0.0"), start=_SUM_HELP)
    last = g.row - 1
    if last >= first:
        g.rules.append(_bar_rule(f"C{first}:C{last}"))
        for j, st in enumerate(("green", "amber", "red")):
            font, fill = STATUS_STYLE[st]
            g.rules.append(CellIsRule(f"{num_to_col(4 + j)}{first}:{num_to_col(4 + j)}{last}", "greaterThan", ("0",),
                                      DxfStyle(font_color=font, fill=fill, bold=True)))
        h1, h2 = num_to_col(_SUM_HELP), num_to_col(_SUM_HELP + 1)
        rows = max(last - chart_top + 1, 12)
        g.chart(Chart("stacked_bar", [Series(f"{h1}{first}:{h1}{last}", _t("good", lang), GOOD_FONT),
                                         Series(f"{h2}{first}:{h2}{last}", _t("bad", lang), BAD_FONT)],
                      categories=f"A{first}:A{last}", title=_t("ach_chart", lang), anchor=f"H{chart_top}",
                      size=(ncols - 7, rows), legend=False, y_num_format='0" pp"'))
        g.row = max(g.row, chart_top + rows)
    g.skip()
    # 3. the three biggest wins and problems, each the KPI's own sentence (number and driver)
    for good in (True, False):
        picked = _pick(an, good)
        _section(g, _t("wins" if good else "problems", lang, n=len(picked)), ncols)
        if not picked:
            g.line([_t("none_wins" if good else "none_problems", lang)], NOTE)
        for i in picked:
            r = comp[i]
            font, _fill = STATUS_STYLE[r["status"]]
            g.put(1, str(r["unit"]), CellStyle(bold=True, font_color=font))  # the sentence names the KPI
            text = an.conclusions.get((r["unit"], r["kpi"]), "")
            for line in _wrap(text, _SUM_LINE):
                g.put(2, line)
                g.skip()
        g.skip()
    # 4. what is still open
    items = _open_items(review, an, lang, as_of)
    _section(g, _t("open_items", lang, n=len(items)), ncols)
    if not items:
        g.line([_t("loop_ok", lang)], CellStyle(font_color=GOOD_FONT))
    shown = items[:6] if len(items) <= 6 else items[:5]
    for text in shown:
        g.put(1, f"• {text}")
        g.skip()
    if len(items) > len(shown):
        g.line([_t("more_items", lang, n=len(items) - len(shown))], NOTE)


def _summary_sheet(review: model.Review, an: _Analysis, lang: str, fp: str, as_of, scvals: list[dict]) -> SheetSpec:
    """The one-page summary (the print area), then on the next page down the full KPI table, every
    conclusion, the closed-loop check, the overdue actions and the metrics that moved together."""
    ncols = 8
    g = _Grid()
    _summary_page(g, review, an, lang, fp, as_of, scvals)
    page_end = g.row - 1
    g.skip()
    detail_row = g.row
    g.line([_t("detail_title", lang)], TITLE)
    g.skip()

    comp = an.rows
    order = []
    for i, r in enumerate(comp):
        w = float(r["weight"]) if not _blank(r["weight"]) else 1.0
        ach = r["achievement"] if not _blank(r["achievement"]) else math.inf
        order.append((-(w * SEVERITY.get(r["status"], 1.0)), STATUS_ORDER.get(r["status"], 3), ach, i))
    order.sort()
    _section(g, _t("kpis", lang), ncols)
    heads = ["unit", "kpi", "target", "actual", "achievement", "status", "change_ly", "rank"]
    g.line([_t(h, lang) for h in heads], HEAD)
    first = g.row
    status_col, ach_col = 6, 5
    for _, _, _, i in order:
        r = comp[i]
        kpi = an.kpi[r["kpi"]]
        kfmt = _kpi_format(kpi)
        pp = _params(an, r["kpi"]).pp
        v = scvals[i]
        chg_key, chg_fmt = ("change_ly", PP_SIGNED) if pp else ("change_ly_pct", PCT_SIGNED)
        g.line([r["unit"], r["name"],
                _live(review, "target", i, _plain(r["target"])),
                _live(review, "actual", i, _plain(r["actual"])),
                _live(review, "achievement", i, v["achievement"]),
                _live(review, "status", i, v["status"]),
                _live(review, chg_key, i, v[chg_key]),
                _live(review, "rank", i, v.get("rank"))],
               [TEXT, TEXT, _num_style(kfmt), _num_style(kfmt), _num_style(ACH_FORMAT),
                CellStyle(border=True, align="center"), _num_style(chg_fmt, align="right"),
                _num_style(RANK_FORMAT, align="center")])
    last = g.row - 1
    if last >= first:
        g.rules += _status_rules(f"{num_to_col(status_col)}{first}:{num_to_col(status_col)}{last}", lang)
        g.rules.append(_bar_rule(f"{num_to_col(ach_col)}{first}:{num_to_col(ach_col)}{last}"))
        by_dir: dict[bool, list[int]] = defaultdict(list)
        for n, (_, _, _, i) in enumerate(order):
            d = comp[i]["direction"]
            if d != "range":
                by_dir[d == "higher"].append(first + n)
        for good_pos, rows in sorted(by_dir.items()):
            g.rules += _sign_rules(_sqref("G", rows), good_pos)
    g.skip()

    # conclusions, in the same order, one printed line per row
    _section(g, _t("conclusions", lang), ncols)
    bold = CellStyle(bold=True)
    center = CellStyle(align="center")
    label_rows = []
    for _, _, _, i in order:
        r = comp[i]
        text = an.conclusions.get((r["unit"], r["kpi"]), "")
        if not text:
            continue
        label = f"{r['unit']} · {r['name']}"
        g.put(1, label, bold)
        g.put(6, scvals[i]["status"], center)
        label_rows.append(g.row)
        g.skip()
        for line in _wrap(text):
            g.put(1, line)
            g.skip()
    if label_rows:
        g.rules += _status_rules(_sqref("F", label_rows), lang)
    g.skip()

    # closed loop
    _section(g, _t("loop", lang), ncols)
    loop = an.loop
    severity = loop["severity"].tolist() if not loop.empty else []
    is_error = [isinstance(s, str) and s == "error" for s in severity]  # blanks are not errors
    n_warns = is_error.count(False)
    if not any(is_error):
        g.line([_t("loop_ok", lang)], CellStyle(font_color=GOOD_FONT))
    else:
        g.line([_t(h, lang) for h in ("unit", "kpi", "status", "missing")], HEAD)
        start = g.row
        rows = _object_rows(loop, ["unit", "name", "status", "missing", "detail"])
        for (unit, name, status, missing, detail), err in zip(rows, is_error):
            if not err:
                continue
            zh, en = MISSING_TEXT.get(missing, (detail, detail))
            g.line([unit, name, F.STATUS_LABELS[lang].get(status, status), zh if lang == "zh" else en],
                   [TEXT, TEXT, CellStyle(border=True, align="center"), None])
        g.rules += _status_rules(f"C{start}:C{g.row - 1}", lang)
    if n_warns:
        g.line([_t("success_left", lang, n=n_warns)], NOTE)
    g.skip()

    # overdue actions
    late = _overdue(review, as_of)
    if late:
        _section(g, _t("overdue", lang, d=pd.Timestamp(as_of).date().isoformat()), ncols)
        g.line([_t("item", lang), _t("owner", lang), _t("due", lang)], HEAD)
        for item, owner, due in late:
            g.line([item, owner, pd.Timestamp(due).to_pydatetime()], [WRAP, TEXT, _num_style("yyyy-mm-dd")])
        g.skip()

    # cross-metric
    cross = an.cross
    if cross is not None and not cross.empty and "strong" in cross.columns:
        is_strong = [False if pd.isna(v) else bool(v) for v in cross["strong"].tolist()]  # fillna(False).astype(bool)
        if any(is_strong):
            _section(g, _t("cross", lang), ncols)
            g.line([_t("kpi", lang), _t("kpi", lang), _t("corr", lang), _t("relation", lang)], HEAD)
            from ..analysis.cross import describe as cross_words

            rows = _object_rows(cross, ["name_a", "name_b", "corr", "relation", "n", "basis"])
            for (name_a, name_b, corr, relation, n, basis), strong in zip(rows, is_strong):
                if not strong:
                    continue
                words = cross_words({"relation": relation, "corr": corr, "n": n, "basis": basis}, lang)
                g.line([name_a, name_b, _plain(corr), words],
                       [TEXT, TEXT, _num_style("0.00"), None])
    en = lang != "zh"
    widths = {"A": 16 if en else 13, "B": 15 if en else 12, "C": 12 if en else 11, "D": 10, "E": 10, "F": 8, "G": 9,
              "H": 8 if en else 6, **{num_to_col(c): 8 for c in range(9, _SUM_LAST_COL + 1)}}
    setup = PageSetup(landscape=True, fit_width=1, fit_height=1, print_area=f"A1:{num_to_col(_SUM_LAST_COL)}{page_end}")
    hidden = (num_to_col(_SUM_HELP), num_to_col(_SUM_HELP + 1))
    spec = g.spec(widths, freeze=None, tab="#1F4E79", setup=setup, hidden=hidden)
    return dataclasses.replace(spec, row_breaks=(detail_row,))


#: the peers sheet: league tables three across, five columns each and a narrow gap
_PEER_WIDTHS = (5, 13, 10, 9, 7)
_PEER_ACROSS = 3


def _peers_sheet(review: model.Review, an: _Analysis, lang: str, scvals: list[dict]) -> SheetSpec:
    """The overall ranking and one league table per KPI, three tables across (one printed page for
    a handful of KPIs): rank, unit, value, achievement and the change of rank against last year."""
    from ..analysis import OVERALL

    g = _Grid()
    g.put(1, _t("peers_title", lang), CellStyle(bold=True, font_color=TITLE_FONT))
    g.skip()
    if an.ranked.attrs.get("peer_ranks"):
        n = max((r["n_units"] for r in an.ranked_rows if r["n_units"] is not None), default=0)
        g.put(1, _t("peers_master", lang, n=n), CellStyle(italic=True, font_color="#595959"))
    g.skip()
    tables = []  # (title, heads, rows of (values, styles), bar column, arrow column) per table
    overall = _overall_rows(an, OVERALL)
    if overall:
        tables.append((_t("overall_short", lang), ("rank", "unit", "score", "score_ly", "rank_change"),
                       [([_plain(r["rank"]), r["unit"], _plain(r["score"]), _plain(r["score_ly"]),
                          _plain(r["rank_change"])],
                         [_num_style(RANK_FORMAT, align="center"), TEXT, _num_style(ACH_FORMAT), _num_style(ACH_FORMAT),
                          _num_style(RANK_CHANGE_FORMAT, align="center")]) for r in overall]))
    comp = an.rows
    for key in an.kpi:
        idx = [i for i in range(len(comp)) if comp[i]["kpi"] == key]
        if len(idx) < 1:
            continue
        kpi = an.kpi[key]
        kfmt = _kpi_format(kpi)
        idx.sort(key=lambda i: (scvals[i]["rank"] is None, scvals[i]["rank"] or 0, str(comp[i]["unit"])))
        rows = []
        for i in idx:
            v = scvals[i]
            rows.append(([_live(review, "rank", i, v["rank"]), comp[i]["unit"],
                          _live(review, "actual", i, _plain(comp[i]["actual"])),
                          _live(review, "achievement", i, v["achievement"]),
                          _live(review, "rank_change", i, v["rank_change"])],
                         [_num_style(RANK_FORMAT, align="center"), TEXT, _num_style(kfmt), _num_style(ACH_FORMAT),
                          _num_style(RANK_CHANGE_FORMAT, align="center")]))
        unit = str(kpi.get("unit") or "")
        title = f"{kpi['name']}（{unit}）" if unit and lang == "zh" else (f"{kpi['name']} ({unit})" if unit else kpi["name"])
        tables.append((title, ("rank", "unit", "actual", "achievement", "rank_change"), rows))
    span = len(_PEER_WIDTHS) + 1
    for band in range(0, len(tables), _PEER_ACROSS):
        top = g.row
        bottom = top
        for j, (title, heads, rows) in enumerate(tables[band:band + _PEER_ACROSS]):
            c0 = 1 + j * span
            g.row = top
            g.put(c0, title, SECTION)
            for c in range(c0 + 1, c0 + len(heads)):
                g.put(c, None, SECTION)
            g.skip()
            g.line([_t(h, lang) for h in heads], HEAD, start=c0)
            start = g.row
            for values, styles in rows:
                g.line(values, styles, start=c0)
            bar, arrow = num_to_col(c0 + 3 if j or not overall or band else c0 + 2), num_to_col(c0 + 4)
            if g.row > start:
                g.rules.append(_bar_rule(f"{bar}{start}:{bar}{g.row - 1}"))
                g.rules.append(_arrow_rule(f"{arrow}{start}:{arrow}{g.row - 1}"))
            bottom = max(bottom, g.row)
        g.row = bottom
        g.keep(top, bottom - 1)
        g.skip()
    widths = {num_to_col(1 + j * span + k): w for j in range(_PEER_ACROSS) for k, w in enumerate(_PEER_WIDTHS)}
    widths.update({num_to_col(j * span): 1 for j in range(1, _PEER_ACROSS)})
    return g.spec(widths, tab="#548235", paginate=True)


def _delta(x, pp: bool):
    """A change as shown: percentage points (x 100) for ratio KPIs."""
    x = _plain(x)
    return None if x is None else (x * 100 if pp else x)


def _dim_label(review: model.Review, dim: str, lang: str) -> str:
    if dim == "unit":
        return str(_settings_value(review, "unit_label", "") or model.FACTS.column("unit").header(lang))
    return str(dim)


def _axis_floor(values: list[float]) -> float | None:
    """A value-axis minimum near the data when all of it lies far from zero (a waterfall from 44.8
    to 45.1 drawn from 0 shows nothing); None to start at zero."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    span = hi - lo
    if lo <= 0 or span >= lo:  # zero is near enough, or the bars cross it
        return None
    step = 10 ** math.floor(math.log10(max(span, lo * 1e-6)))
    floor = math.floor((lo - span) / step) * step
    return floor if floor > 0 else None


#: the breakdown sheet: three groups side by side per KPI (first column of each group)
_BD_VAR, _BD_BRIDGE, _BD_TREE = 1, 6, 11
#: hidden helper columns holding the chart series (P.. after the visible groups)
_BD_HELP_VAR, _BD_HELP_WF = 18, 20
_BD_TREE_ROWS = 20  # drill-down rows shown per KPI (the deepest level is cut beyond)
_BD_HEADROOM_ROWS = 5


def _breakdown_sheet(review: model.Review, an: _Analysis, lang: str) -> SheetSpec:
    """One block per KPI, printed one to a page: the variance by unit (table, chart), the bridge of
    the level-1 contributions (table with mix and rate effects for ratios, waterfall) and the
    drill-down path with the headroom. Chart series live in hidden helper columns."""
    from ..analysis import format_value
    from ..analysis.conclusions import segment_label

    g = _Grid()
    g.put(1, _t("breakdown_title", lang), CellStyle(bold=True, font_color=TITLE_FONT))
    g.skip(2)
    comp = an.rows
    V, B, T = _BD_VAR, _BD_BRIDGE, _BD_TREE
    col = _col_letters
    sub = CellStyle(bold=True, font_color=TITLE_FONT)
    for key in an.kpi:
        kpi = an.kpi[key]
        name = kpi["name"]
        kfmt = _kpi_format(kpi)
        pp = _params(an, key).pp
        idx = [i for i in range(len(comp)) if comp[i]["kpi"] == key]
        tree = an.trees.get(key, [])
        if not idx and not tree:
            continue
        good_pos = kpi["direction"] != "lower"
        ranged = kpi["direction"] == "range"
        gfmt = PP_SIGNED if pp else _signed(kfmt)
        block = g.row
        unit = str(kpi.get("unit") or "")
        title = f"{name}（{unit}）" if unit and lang == "zh" else (f"{name} ({unit})" if unit else name)
        _section(g, title, T + 5)
        top = g.row
        bottoms = []
        # 1. variance by unit: actual - target, favourable in green and unfavourable in red
        if idx:
            g.row = top
            g.put(V, _t("var_short", lang), sub)
            g.skip()
            g.line([_t(h, lang) for h in ("unit", "target", "actual", "gap")], HEAD, start=V)
            vstart = g.row
            hv = col(_BD_HELP_VAR)
            hv2 = col(_BD_HELP_VAR + 1)
            for i in idx:
                gap = comp[i]["gap"]
                gap = None if _blank(gap) else float(gap) * (100 if pp else 1)
                n = g.row
                d = f"{col(V + 3)}{n}"
                if ranged:  # a band KPI has no good side: the whole gap in grey
                    e = (f"IF(ISNUMBER({d}),{d},0)", gap or 0.0)
                    f = 0.0
                else:
                    test = f"{d}>0" if good_pos else f"{d}<0"
                    fav = 0.0 if gap is None or (gap > 0) != good_pos or gap == 0 else gap
                    unf = 0.0 if gap is None or (gap > 0) == good_pos or gap == 0 else gap
                    e = (f"IF(ISNUMBER({d}),IF({test},{d},0),0)", fav)
                    f = (f"IF(ISNUMBER({d}),IF({test},0,{d}),0)", unf)
                g.line([comp[i]["unit"], _live(review, "target", i, _plain(comp[i]["target"])),
                        _live(review, "actual", i, _plain(comp[i]["actual"])), _live(review, "gap", i, gap)],
                       [TEXT, _num_style(kfmt), _num_style(kfmt), _num_style(gfmt)], start=V)
                g.row -= 1
                g.line([e, f], [_num_style(gfmt), _num_style(gfmt)], start=_BD_HELP_VAR)
            vend = g.row - 1
            if not ranged:
                g.rules += _sign_rules(f"{col(V + 3)}{vstart}:{col(V + 3)}{vend}", good_pos)
            g.skip()
            g.chart(Chart("stacked_column",
                          [Series(f"{hv}{vstart}:{hv}{vend}", _t("good", lang), GREY_FONT if ranged else GOOD_FONT),
                           Series(f"{hv2}{vstart}:{hv2}{vend}", _t("bad", lang), BAD_FONT)],
                          categories=f"{col(V)}{vstart}:{col(V)}{vend}", title=_t("var_chart", lang),
                          anchor=f"{col(V)}{g.row}", size=(4, CHART_ROWS), legend=False,
                          y_num_format=numfmt.first_unsigned(gfmt)))
            bottoms.append(g.row + CHART_ROWS)
        # 2. bridge of the level-1 contributions (with mix and rate effects for a ratio)
        top_rows = [r for r in tree if r["level"] == 0]
        lvl1 = [r for r in tree if r["level"] == 1]
        bfmt = "0.0%" if pp else kfmt
        dfmt = PP_SIGNED if pp else _signed(kfmt)  # changes of a rate are percentage points
        if tree:
            base = float(top_rows[0]["base"]) if top_rows else float("nan")
            cur = float(top_rows[0]["current"]) if top_rows else float("nan")
            g.row = top
            g.put(B, _t("bridge_short", lang, base=format_value(base, unit, lang=lang, is_percent=pp),
                        cur=format_value(cur, unit, lang=lang, is_percent=pp)), sub)
            g.skip()
            mixed = pp and lvl1 and "mix_effect" in lvl1[0]
            heads = ["segment", "change"] + (["mix", "rate"] if mixed else [])
            g.line([_t(h, lang) for h in heads], HEAD, start=B)
            labels = [_t("start", lang)] + [segment_label(r["segment"], lang) for r in lvl1] + [_t("end", lang)]
            deltas = [base] + [float(r["contribution"]) for r in lvl1]
            wb_, wu, wdn = waterfall_series(deltas)
            totals = [wu[0]] + [0.0] * (len(wu) - 1) + [cur]
            wu[0] = 0.0
            wb_.append(0.0), wu.append(0.0), wdn.append(0.0)
            deltas.append(cur)
            wstart = g.row
            for j, (lab, dlt, b_, t_, u_, d_) in enumerate(zip(labels, deltas, wb_, totals, wu, wdn)):
                seg = lvl1[j - 1] if 0 < j <= len(lvl1) else None
                shown = dlt if seg is None else _delta(dlt, pp)
                vals = [lab, shown]
                styles = [TEXT, _num_style(bfmt if seg is None else dfmt)]
                if mixed:
                    vals += [None if seg is None else _delta(seg["mix_effect"], pp),
                             None if seg is None else _delta(seg["rate_effect"], pp)]
                    styles += [_num_style(dfmt), _num_style(dfmt)]
                g.line(vals, styles, start=B)
                g.row -= 1
                g.line([b_, t_, u_, d_], _num_style(bfmt), start=_BD_HELP_WF)
            wend = g.row - 1
            if not ranged and wend > wstart + 1:
                g.rules += _sign_rules(f"{col(B + 1)}{wstart + 1}:{col(B + (3 if mixed else 1))}{wend - 1}", good_pos)
            g.skip()
            up_c, down_c = (GOOD_FONT, BAD_FONT) if good_pos else (BAD_FONT, GOOD_FONT)
            if ranged:
                up_c = down_c = GREY_FONT
            h = [col(_BD_HELP_WF + k) for k in range(4)]
            # the bars' bottoms and tops: the two totals, each step's base and base + step
            running = [base, cur] + [b_ + u_ + d_ for b_, u_, d_ in zip(wb_[1:-1], wu[1:-1], wdn[1:-1])]
            g.chart(Chart("waterfall", [Series(f"{h[0]}{wstart}:{h[0]}{wend}", _t("wf_base", lang)),
                                        Series(f"{h[1]}{wstart}:{h[1]}{wend}", _t("total", lang), "#595959"),
                                        Series(f"{h[2]}{wstart}:{h[2]}{wend}", _t("wf_up", lang), up_c),
                                        Series(f"{h[3]}{wstart}:{h[3]}{wend}", _t("wf_down", lang), down_c)],
                          categories=f"{col(B)}{wstart}:{col(B)}{wend}", title=_t("wf_chart", lang),
                          anchor=f"{col(B)}{g.row}", size=(4, CHART_ROWS), legend=False,
                          y_num_format=numfmt.sections(bfmt)[0], y_min=_axis_floor(running + wb_[1:-1])))
            bottoms.append(g.row + CHART_ROWS)
            # 3. the drill-down path and the headroom
            g.row = top
            g.put(T, _t("tree", lang), sub)
            g.skip()
            g.line([_t(h, lang) for h in ("segment", "dimension", "base", "current", "contribution", "share")],
                   HEAD, start=T)
            tstart = g.row
            deeper = [r for r in tree if r["level"] > 0]
            for r in deeper[:_BD_TREE_ROWS]:
                g.line([("  " * (int(r["level"]) - 1)) + segment_label(r["segment"], lang),
                        _dim_label(review, str(r["dimension"]), lang),
                        _plain(r["base"]), _plain(r["current"]), _delta(r["contribution"], pp),
                        _plain(r["share_of_change"])],
                       [TEXT, TEXT, _num_style(bfmt), _num_style(bfmt), _num_style(dfmt), _num_style(PCT_SIGNED)],
                       start=T)
            if g.row > tstart and not ranged:
                g.rules += _sign_rules(f"{col(T + 4)}{tstart}:{col(T + 4)}{g.row - 1}", good_pos)
            if len(deeper) > _BD_TREE_ROWS:
                g.line([_t("more_rows", lang, n=len(deeper) - _BD_TREE_ROWS)], NOTE, start=T)
            hr = an.headroom.get(key)
            if hr is not None and not hr.empty:
                g.skip()
                g.put(T, _t("headroom", lang), sub)
                g.skip()
                g.line([_t(h, lang) for h in ("segment", "now", "if_ly", "if_avg", "gain")], HEAD, start=T)
                for segment, now, if_ly, if_avg, gain in _object_rows(
                        hr, ["segment", "kpi_now", "if_last_year", "if_average", "best_gain"])[:_BD_HEADROOM_ROWS]:
                    g.line([segment_label(segment, lang), _plain(now), _plain(if_ly), _plain(if_avg), _delta(gain, pp)],
                           [TEXT, _num_style(bfmt), _num_style(bfmt), _num_style(bfmt), _num_style(dfmt)], start=T)
            bottoms.append(g.row)
        g.row = max(bottoms) + 1
        g.keep(block, g.row - 1)
    for kpi, reason in _skipped(an):  # the KPI by its name, the reason in the workbook's language
        name = (an.kpi.get(kpi) or {}).get("name") or kpi
        g.line([_t("skipped", lang, kpi=name, reason=translate(str(reason), lang)[:120])], NOTE)
    en = lang != "zh"
    widths = {"A": 13 if en else 12, "B": 10, "C": 10, "D": 10, "E": 1, "F": 12, "G": 10, "H": 9, "I": 9, "J": 1,
              "K": 15 if en else 12, "L": 15 if en else 10, "M": 10, "N": 10, "O": 13 if en else 10, "P": 9}
    hidden = tuple(col(c) for c in range(_BD_HELP_VAR, _BD_HELP_WF + 4))
    return g.spec(widths, tab="#C55A11", paginate=True, hidden=hidden)


def _timeline_sheet(review: model.Review, lang: str, as_of, warnings: list[str]) -> SheetSpec | None:
    """The live Gantt sheet of ``reviewkit.planning`` when the Plan table has tasks with dates."""
    plan = review.tables.get("Plan")
    if plan is None or plan.empty or "Plan" not in review.layouts:
        return None
    if not {"start", "end"} <= set(plan.columns) or plan[["start", "end"]].dropna().empty:
        return None
    try:
        from ..planning import gantt
        from ..planning.sheet import timeline_sheet
    except ImportError:  # pragma: no cover - planning is part of reviewkit
        return None
    try:
        grid = gantt(plan, review.tables.get("Progress"), review.tables.get("Campaigns"),
                     as_of=as_of or dt.date.today(), freq=_timeline_freq(plan))
        spec, _ = timeline_sheet(grid, review.layouts, lang=lang)
    except InputError as exc:
        warnings.append(f"no timeline: {exc}")
        return None
    # one page wide, whatever the plan's length: weeks for a short plan, months for a long one
    return dataclasses.replace(spec, page_setup=PageSetup(landscape=True, fit_width=1, fit_height=0))


#: a plan longer than this many weeks is drawn by month (a week grid would not fit a page)
TIMELINE_MAX_WEEKS = 20


def _timeline_freq(plan: pd.DataFrame) -> str:
    start = pd.to_datetime(plan["start"], errors="coerce").min()
    end = pd.to_datetime(plan["end"], errors="coerce").max()
    if pd.isna(start) or pd.isna(end):
        return "W"
    return "W" if (end - start).days / 7 <= TIMELINE_MAX_WEEKS else "M"


# --- public API ---------------------------------------------------------------------------
def build_fill_plan(review: model.Review, *, as_of=None, lower_rule: str | None = None,
                    cap: float | None = None, keep: frozenset[str] | set[str] = frozenset(),
                    known_fingerprint: str | None = None) -> FillPlan:
    """Analyse ``review`` (as read by ``reviewkit.reader.read_review``) and return what to write.

    ``lower_rule`` / ``cap`` default to the Settings rows of those names, else "linear" / none.
    ``keep``: scorecard cells (``"J7"``) a user typed by hand over a computed formula; they are
    left alone (see :func:`hand_typed_cells`). ``known_fingerprint``: ``fingerprint(review)``
    when the caller has just computed it. Raises InputError when the review lacks what the fill
    needs (a Scorecard layout).
    """
    lang = review.lang if review.lang in model.LANGS else "zh"
    lower_rule = lower_rule or str(_settings_value(review, "lower_rule", "linear")).strip().lower()
    if cap is None and _settings_value(review, "cap") is not None:
        cap = float(_settings_value(review, "cap"))
    if as_of is None:
        as_of = _settings_value(review, "as_of")
    if as_of is not None and not isinstance(as_of, (dt.date, pd.Timestamp)):
        try:
            as_of = pd.Timestamp(str(as_of)).date()
        except ValueError as exc:
            raise InputError("as-of date is not a date", value=as_of, expected="YYYY-MM-DD") from exc
    warnings: list[str] = []
    an = _analyse(review, lang, lower_rule, cap)
    fp = known_fingerprint or fingerprint(review)
    cells, styles, cf = _scorecard_plan(review, an, lang, lower_rule, cap, warnings, keep)
    scvals = []
    for d in an.rows:
        pp = _params(an, d["kpi"]).pp
        scvals.append(_scorecard_values(d, an.ranks.get((d["unit"], d["kpi"])), pp, lang))
    sheets = (
        OwnedSheet("summary", model.owned_sheet_name("summary", lang),
                   _summary_sheet(review, an, lang, fp, as_of or dt.date.today(), scvals), 1),
        OwnedSheet("breakdown", model.owned_sheet_name("breakdown", lang), _breakdown_sheet(review, an, lang), 2),
        OwnedSheet("peers", model.owned_sheet_name("peers", lang), _peers_sheet(review, an, lang, scvals), 3),
    )
    q_cells, q_styles = _next_year_plan(review, warnings, keep)
    cells += q_cells
    styles.update(q_styles)
    timeline = _timeline_sheet(review, lang, as_of, warnings)
    if timeline is not None:
        sheets += (OwnedSheet("timeline", model.owned_sheet_name("timeline", lang), timeline, 4),)
    from ..planning.report import execution_sheet

    execution = execution_sheet(review, as_of=as_of, lang=lang, compared=an.compared)
    if execution is not None:
        sheets += (OwnedSheet("execution", model.owned_sheet_name("execution", lang), execution, 5),)
    sheets = tuple(s if s.spec.page_setup is not None else
                   dataclasses.replace(s, spec=dataclasses.replace(s.spec, page_setup=_page_setup(s.spec)))
                   for s in sheets)
    for kpi, reason in _skipped(an):
        warnings.append(f"KPI {kpi} not broken down: {reason}")
    typed, notes = _tidied_inputs(review, lang, keep)
    return FillPlan(cells=tuple(typed + cells), styles=styles, conditional_formats=(cf,) if cf else (),
                    sheets=sheets, properties={FINGERPRINT_PROPERTY: fp}, fingerprint=fp, lang=lang,
                    warnings=tuple(warnings), notes=notes)


def _row_col(ref: str) -> tuple[int, int]:
    m = re.match(r"([A-Z]+)(\d+)$", ref)
    return (int(m.group(2)), parse_col(m.group(1))) if m else (0, 0)


def _tidied_inputs(review: model.Review, lang: str, keep) -> tuple[list[CellWrite], tuple[str, ...]]:
    """Input cells holding a number typed as text ('1,200万', '32%', '7,600'), stored as the
    number the reader read (in the column's unit), and key cells typed with spaces around them,
    trimmed; each cell keeps its style. Excel's formulas skip text numbers (COUNT, SUMPRODUCT)
    and compare keys as they are, so this is what makes the live formulas see what the engine
    sees. Returns the writes and one note per kind ("converted 4 text numbers: …")."""
    from ..reading.messages import say

    out: list[CellWrite] = []
    notes = []
    for found, key in ((review.text_numbers, "converted"), (review.trimmed_keys, "trimmed")):
        writes = [CellWrite(sheet, ref, value, None, None)
                  for sheet, cells in found.items()
                  for ref, value in sorted(cells.items(), key=lambda kv: _row_col(kv[0]))
                  if ref not in keep and f"{sheet}!{ref}" not in keep]
        if writes:
            names = [f"{w.sheet}!{w.cell}" for w in writes]
            shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
            notes.append(say(key, lang, n=len(writes), cells=shown))
            out += writes
    return out, tuple(notes)


def apply_plan(editor, plan: FillPlan) -> None:
    """Record ``plan`` in an open :class:`reviewkit.ooxml.WorkbookEditor` (nothing is saved)."""
    sheets: dict = {}
    for c in plan.cells:
        ws = sheets.get(c.sheet)
        if ws is None:
            ws = sheets[c.sheet] = editor.sheet(c.sheet)
        style = plan.styles.get((c.sheet, c.cell))
        if style is None and c.number_format:
            style = CellStyle(num_format=c.number_format)
        if c.formula:
            ws.write_formula(c.cell, c.formula, cached=c.value, style=style)
        else:
            ws.write(c.cell, c.value, style=style)
    for r in plan.conditional_formats:
        editor.sheet(r.sheet).set_conditional_formats(owned=list(r.owned), rules=list(r.rules))
    existing = {n.lower() for n in editor.sheet_names}
    ours = _owned_names(editor)
    used = []
    for s in plan.sheets:
        name = s.name
        n = 1
        while name.lower() in existing and name.lower() not in ours:  # a user's sheet: leave it alone
            name = f"{s.name} (reviewkit)" if n == 1 else f"{s.name} (reviewkit {n})"
            n += 1
        used.append(name)
        spec = s.spec
        if s.key == "summary" and getattr(editor, "has_vba_project", False):
            from ..vba import refresh_button  # the Refresh button survives every rebuild of the summary

            spec = dataclasses.replace(spec, buttons=(*spec.buttons, refresh_button(plan.lang, "J2")))
        editor.replace_sheet(name, spec, position=None if name.lower() in existing else s.position)
    editor.set_custom_property(OWNED_PROPERTY, json.dumps(used, ensure_ascii=False))
    for k, v in plan.properties.items():
        editor.set_custom_property(k, v)


_CELL_RE = re.compile(rb'<(?:\w+:)?c\b([^>]*?)(/>|>(.*?)</(?:\w+:)?c>)', re.S)
_REF_RE = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')


def hand_typed_cells(sheet_xml: bytes, layout: model.TableLayout, keys=F.FORMULA_COLUMNS) -> set[str]:
    """Cells of a table's formula columns (``keys``) that hold a value but no formula: typed by hand.

    Fill writes formulas there, so a constant can only be a user's override; it is kept.
    """
    letters = {layout.columns[k] for k in keys if k in layout.columns}
    rows = set(layout.rows)
    out: set[str] = set()
    if not letters or not rows:
        return out
    for m in _CELL_RE.finditer(sheet_xml):
        ref = _REF_RE.search(m.group(1))
        if not ref or ref.group(1).decode() not in letters or int(ref.group(2)) not in rows:
            continue
        body = m.group(3) or b""
        if b"<f" in body or b":f" in body:
            continue
        if re.search(rb"<(?:\w+:)?(v|is)\b[^>]*>\s*[^<\s]", body) or b"<is>" in body and b"<t" in body:
            out.add(f"{ref.group(1).decode()}{int(ref.group(2))}")
    return out


def _owned_names(editor) -> set[str]:
    """Lower-case names of the sheets an earlier fill built in this workbook."""
    raw = editor.get_custom_property(OWNED_PROPERTY)
    if raw:
        try:
            return {str(n).lower() for n in json.loads(str(raw))}
        except ValueError:
            return set()
    if editor.get_custom_property(FINGERPRINT_PROPERTY):  # filled before the list was kept
        return {model.owned_sheet_name(k, lang).lower() for k in ("summary", "breakdown", "peers")
                for lang in model.LANGS}
    return set()


def _part_signature(data: bytes) -> dict[str, tuple[int, int]]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return _signature(zf.infolist())


def _signature(infos) -> dict[str, tuple[int, int]]:
    """``{part name: (CRC-32, size)}`` from a zip directory: enough to tell whether a part changed."""
    return {i.filename: (i.CRC, i.file_size) for i in infos}


def _same_parts(before: dict[str, tuple[int, int]], data: bytes) -> bool:
    """True when ``data`` has the parts of ``before`` with the same contents, docProps/custom aside."""
    after = _part_signature(data)
    custom = {n for n in set(before) | set(after) if n.lower().startswith("docprops/custom")}
    return all(before.get(n) == after.get(n) for n in (set(before) | set(after)) - custom)


def fill_workbook(path, *, out=None, as_of=None, force: bool = False) -> FillResult:
    """Fill the review workbook at ``path`` (in place, or into ``out``); see the module docstring.

    Any validation error raises ``ValidationError`` listing every problem, and nothing is written.
    An existing ``out`` (or a link) is replaced only with ``force``. In place, the workbook must
    still hold exactly what was read when the result is written (``reviewkit.files``).
    """
    from ..files import Source, check_target
    from ..ooxml import WorkbookEditor
    from ..reader import read_review

    t0 = time.perf_counter()
    path = Path(path)
    target = Path(out) if out is not None else path
    if target.suffix.lower() != path.suffix.lower():
        raise InputError("the output must keep the workbook's file type", file=target, value=target.suffix,
                         expected=f"a name ending in {path.suffix}")
    source = Source.read(path)
    check_target(target, replace=force, source=source)  # refuse before the work, not after it
    review = read_review(path)
    return _fill_open(path, target, review, source.data, WorkbookEditor.open_bytes(path, source.data), as_of, t0,
                      source=source, replace=force)


def fill_if_stale(path, *, force: bool = False) -> FillResult | None:
    """Fill ``path`` in place unless its inputs are unchanged since the last fill; then ``None``.

    What ``reviewkit batch`` does per file: the same as ``is_stale(path)`` followed (when not
    False, or with ``force``) by ``fill_workbook(path)`` — same checks in the same order, same
    errors, same result — but the workbook is opened and read once, not twice.
    """
    return _fill_if_stale(Path(path), force, None)


def fill_checked(path, checked, *, force: bool = False) -> FillResult | None:
    """``fill_if_stale(path, force=force)`` on a workbook ``safety.load_checked(path)`` has just read.

    The editor opens the checked bytes, reusing the zip directory and the parts the check
    inflated, instead of reading, parsing and inflating the file again (``batch.fill_job``).
    """
    return _fill_if_stale(Path(path), force, checked if checked.data is not None else None)


def _fill_if_stale(path: Path, force: bool, checked) -> FillResult | None:
    from ..files import Source
    from ..ooxml import WorkbookEditor
    from ..reader import read_review, read_with_problems

    t0 = time.perf_counter()

    def open_editor():
        if checked is None:
            return WorkbookEditor.open(path)
        return WorkbookEditor.open_bytes(path, checked.data, zf=checked.zip, inflated=checked.parts)

    if force:  # fill_workbook's order: read, then open
        review = read_review(path)
        original = path.read_bytes() if checked is None else checked.data
        return _fill_open(path, path, review, original, open_editor(), None, t0, checked,
                          source=Source.of(path, original))
    editor = open_editor()  # is_stale's order: open, then read
    try:
        stored = editor.get_custom_property(FINGERPRINT_PROPERTY)
        review, problems = read_with_problems(path)  # read_review(path, strict=...) without reading twice
        fp = fingerprint(review) if stored else None
        if fp is not None and fp == str(stored):
            return None
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            from ..errors import ValidationError

            raise ValidationError(errors)
        original = path.read_bytes() if checked is None else checked.data
    except BaseException:
        editor.close()
        raise
    return _fill_open(path, path, review, original, editor, None, t0, checked, fp, source=Source.of(path, original))


def _fill_open(path: Path, target: Path, review: model.Review, original: bytes, editor, as_of,
               t0: float, checked=None, fp: str | None = None, *, source=None, replace: bool = False) -> FillResult:
    """``_fill_review``; an error about the workbook says it in the workbook's language."""
    try:
        return _fill_review(path, target, review, original, editor, as_of, t0, checked, fp,
                            source=source, replace=replace)
    except ReviewkitError as exc:
        if exc.lang is None:
            exc.lang = review.lang
        raise


def _fill_review(path: Path, target: Path, review: model.Review, original: bytes, editor, as_of,
                 t0: float, checked=None, fp: str | None = None, *, source=None, replace: bool = False
                 ) -> FillResult:
    """The fill itself, on ``review`` read from ``path`` and ``editor`` open on ``original``.

    ``checked``: ``safety.load_checked``'s result for ``original``, whose zip and inflated
    parts stand in for opening ``original`` again. ``fp``: the review's fingerprint if known.
    ``source``: ``original`` as read from ``path`` (a ``reviewkit.files.Source``): an in-place
    write refuses when ``path`` no longer holds it. ``replace``: an existing other ``target``
    may be replaced (``fill -o --force``).
    """
    import zipfile

    try:
        keep: set[str] = set()
        # the one look at the original zip
        zf = zipfile.ZipFile(io.BytesIO(original)) if checked is None else checked.zip
        inflated = checked.parts if checked is not None else {}
        try:
            for table, keys in (("Scorecard", F.FORMULA_COLUMNS), ("NextYear", QUARTER_KEYS)):
                layout = review.layouts.get(table)
                if layout is not None and not review.table(table).empty:
                    part = editor.sheet(layout.sheet).part
                    xml = inflated.get(part)  # exactly what zf.read(part) returns
                    keep |= {f"{layout.sheet}!{c}" if table != "Scorecard" else c
                             for c in hand_typed_cells(zf.read(part) if xml is None else xml, layout, keys)}
            before = zf.infolist()
        finally:
            if checked is None:
                zf.close()
        plan = build_fill_plan(review, as_of=as_of, keep=keep, known_fingerprint=fp)
        old_fp = editor.get_custom_property(FINGERPRINT_PROPERTY)
        old_time = editor.get_custom_property(FILLED_AT_PROPERTY)
        apply_plan(editor, plan)
        stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        editor.set_custom_property(FILLED_AT_PROPERTY, stamp)
        data = editor.to_bytes()
    finally:
        editor.close()
    names = tuple(s.name for s in plan.sheets)
    # cheap tests first: a first fill or new inputs always write, without comparing parts
    if old_fp == plan.fingerprint and old_time and _same_parts(_signature(before), data):
        if target != path:
            write_file(target, original, replace=replace)
        return FillResult(path, target, False, len(plan.cells), plan.formulas, names, plan.fingerprint,
                          str(old_time), plan.warnings, time.perf_counter() - t0, plan.lang, plan.notes)
    write_file(target, data, replace=replace, source=source)
    return FillResult(path, target, True, len(plan.cells), plan.formulas, names, plan.fingerprint, stamp,
                      plan.warnings, time.perf_counter() - t0, plan.lang, plan.notes)


def is_stale(path) -> bool | None:
    """True when the inputs changed since the last fill, False when not, None when never filled.

    Reads without validating (a workbook with input errors can still be stale).
    """
    from ..ooxml import WorkbookEditor
    from ..reader import read_review

    editor = WorkbookEditor.open(path)
    try:
        stored = editor.get_custom_property(FINGERPRINT_PROPERTY)
    finally:
        editor.close()
    if not stored:
        return None
    review = read_review(path, strict=False)
    return fingerprint(review) != str(stored)
