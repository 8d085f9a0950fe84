"""The Breakdown sheet: per KPI the variance by unit, the bridge of the level-1 contributions
(waterfall) and the drill-down path with the headroom."""
from __future__ import annotations

import math

from .. import model
from ..errors import translate
from ..ooxml import CellStyle, Chart, Series, SheetSpec, waterfall_series
from ..ooxml import numfmt
from ..ooxml.cellref import num_to_col
from .analysed import _Analysis, _params, _settings_value, _skipped
from .grid import CHART_ROWS, _Grid, _section
from .records import _blank, _object_rows, _plain
from .scorecard import _live
from .styles import (BAD_FONT, GOOD_FONT, GREY_FONT, HEAD, NOTE, PCT_SIGNED, PP_SIGNED, TEXT, TITLE_FONT,
                     _kpi_format, _num_style, _sign_rules, _signed)
from .words import _t


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
    col = num_to_col
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
