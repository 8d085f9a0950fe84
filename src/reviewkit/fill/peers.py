"""The Peers sheet: the overall ranking and one league table per KPI, three tables across."""
from __future__ import annotations

from .. import model
from ..ooxml import CellStyle, SheetSpec
from ..ooxml.cellref import num_to_col
from .analysed import _Analysis, _overall_rows
from .grid import _Grid
from .records import _plain
from .scorecard import _live
from .styles import (ACH_FORMAT, HEAD, RANK_CHANGE_FORMAT, RANK_FORMAT, SECTION, TEXT, TITLE_FONT,
                     _arrow_rule, _bar_rule, _kpi_format, _num_style)
from .words import _t


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
