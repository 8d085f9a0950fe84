"""The Summary sheet: one page for the projector (headline, status counts, achievement by KPI,
the biggest wins and problems, open items), then the full KPI table, conclusions and closed loop."""
from __future__ import annotations

import dataclasses
import math
from collections import defaultdict

import pandas as pd

from .. import formulas as F
from .. import model
from ..analysis._common import total_units
from ..ooxml import CellIsRule, CellStyle, Chart, DxfStyle, PageSetup, Series, SheetSpec
from ..ooxml.cellref import num_to_col
from .analysed import _Analysis, _overall_rows, _params, _settings_value
from .grid import _Grid, _section, _wrap
from .records import _blank, _object_rows, _plain
from .scorecard import _live, _q
from .styles import (ACH_FORMAT, BAD_FONT, GOOD_FONT, HEAD, NOTE, PCT_SIGNED, PP_SIGNED, RANK_FORMAT,
                     SEVERITY, STATUS_ORDER, STATUS_STYLE, TEXT, TITLE, WRAP, _bar_rule, _kpi_format,
                     _num_style, _sign_rules, _sqref, _status_rules)
from .words import MISSING_TEXT, _t


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
        text = _t("rank_top", lang, label=label, unit=top["unit"], move=move(top))
        for key, r, sign in (("rank_up", up, 1), ("rank_down", down, -1)):
            if r is not None and int(r["rank_change"]) * sign > 0:
                text += _t(key, lang, unit=r["unit"], rank=int(r["rank"]), move=move(r))
        lines.append(text + _t("full_stop", lang))
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
    not_total = F.excluding(rng["unit"], sorted(totals)) if "unit" in rng else ""
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
        mask = F.same_kpi(rng["kpi"], spellings) + not_total
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
