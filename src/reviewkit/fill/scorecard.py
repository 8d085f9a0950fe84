"""The computed columns of the Scorecard table (live formulas with the engine's values cached, their
conditional formats), the cells of owned sheets that show a scorecard cell, and the quarterly
targets of table NextYear as formulas of the annual target."""
from __future__ import annotations

from collections import defaultdict

import pandas as pd

from .. import formulas as F
from .. import model
from ..analysis._common import total_units
from ..engines.plan import CellWrite
from ..errors import InputError, ReviewkitError
from ..ooxml import CellStyle
from .analysed import _Analysis, _params
from .plan import SheetRules
from .records import _blank, _cached, _plain
from .styles import (ACH_FORMAT, DEFAULT_NUMBER, MAX_ROW, PCT_SIGNED, PP_SIGNED, RANK_CHANGE_FORMAT, RANK_FORMAT,
                     _arrow_rule, _bar_rule, _computed_style, _kpi_format, _sign_rules, _signed, _sqref,
                     _status_rules)


def _q(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


# --- the scorecard columns ------------------------------------------------------------------
def _scorecard_values(row, rk, pp: bool, lang: str) -> dict[str, object]:
    """The engine's values as the formulas show them (see formulas.py)."""
    actual_missing = _blank(row["actual"])
    nm_target = row["direction"] != "range" and not actual_missing and row["target"] == 0
    m = 100.0 if pp else 1.0

    def d(x):
        return None if _blank(x) else float(x) * m

    out = {
        "achievement": F.NM if nm_target else (None if actual_missing else _plain(row["achievement"])),
        "gap": d(row["gap"]),
        "change_ly": d(row["change_ly"]),
        "change_ly_pct": F.NM if bool(row["change_ly_nm"]) else _plain(row["change_ly_pct"]),
        "change_yb_pct": (F.NM if not actual_missing and not _blank(row["year_before"]) and row["year_before"] <= 0
                          else _plain(row["change_2y_pct"])),
        "vs_industry_avg": d(row["gap_industry_avg"]),
        "vs_competitor": d(row["gap_competitor"]),
        "vs_industry_top": d(row["gap_industry_top"]),
        "status": F.STATUS_LABELS[lang][row["status"]],
    }
    for col in ("rank", "rank_ly", "rank_change"):
        v = rk.get(col) if rk is not None else None
        out[col] = None if _blank(v) else int(v)
    return out


def _column_format(key: str, kfmt: str, pp: bool) -> str:
    if key == "achievement":
        return ACH_FORMAT
    if key in ("change_ly_pct", "change_yb_pct"):
        return PCT_SIGNED
    if key in ("gap", "change_ly", "vs_industry_avg", "vs_competitor", "vs_industry_top"):
        return PP_SIGNED if pp else _signed(kfmt)
    if key in ("rank", "rank_ly"):
        return RANK_FORMAT
    if key == "rank_change":
        return RANK_CHANGE_FORMAT
    return "@" if key == "conclusion" else "General"


def _scorecard_plan(review: model.Review, an: _Analysis, lang: str, lower_rule: str, cap,
                    warnings: list[str], keep=frozenset()):
    layout = review.layouts.get("Scorecard")
    if layout is None:
        raise InputError("the review has no Scorecard table layout; read it with reviewkit.reading.read_review",
                         file=review.source)
    sheet = layout.sheet
    cols = layout.columns
    computed = [c.key for c in model.SCORECARD.computed_columns]
    missing = [k for k in computed if k not in cols]
    if missing:
        names = ", ".join(model.SCORECARD.column(k).header(lang) for k in missing)  # as the sheet says them
        warnings.append(f"sheet '{sheet}': the Scorecard table has no column(s) {names}; "
                        "add them (grey headers) to see those results")
    first, last = layout.first_row, layout.last_row
    if not layout.rows:  # a fresh template: say where to type, not just "0 computed cells"
        from ..reading.validate import empty_table_hint

        warnings.append(empty_table_hint(layout, lang)[1])
    ranks = an.ranks
    comp = an.rows
    totals = total_units(r["unit"] for r in comp)
    ranges = F.ColumnRanges(
        kpi=f"${cols['kpi']}${first}:${cols['kpi']}${last}",
        actual=f"${cols['actual']}${first}:${cols['actual']}${last}" if "actual" in cols else None,
        last_year=f"${cols['last_year']}${first}:${cols['last_year']}${last}" if "last_year" in cols else None,
        unit=f"${cols['unit']}${first}:${cols['unit']}${last}" if totals and "unit" in cols else None,
        exclude=tuple(sorted(totals)))
    if len(comp) != len(layout.rows):
        raise ReviewkitError("the analysis and the Scorecard rows do not line up", file=review.source,
                             sheet=sheet, value=(len(comp), len(layout.rows)))
    cells: list[CellWrite] = []
    kept: list[str] = []
    styles: dict[tuple[str, str], CellStyle] = {}
    by_direction: dict[tuple[str, bool], list[int]] = defaultdict(list)  # (col key, good_positive) -> rows
    for i, r in enumerate(comp):
        n = layout.rows[i]
        kpi = an.kpi[r["kpi"]]
        params = _params(an, r["kpi"], lower_rule, cap)
        refs = F.RowRefs(kpi=f"{cols['kpi']}{n}",
                         **{k: (f"{cols[k]}{n}" if k in cols else None) for k in
                            ("target", "actual", "last_year", "year_before", "industry_avg", "competitor",
                             "industry_top", "achievement", "rank", "rank_ly")},
                         kpi_spellings=review.kpi_spellings.get(r["kpi"], ()))
        forms = F.scorecard_formulas(refs, ranges, params, lang)
        if r["unit"] in totals:  # a total row is no peer: no rank
            forms.update(rank=None, rank_ly=None, rank_change=None)
        values = _scorecard_values(r, ranks.get((r["unit"], r["kpi"])), params.pp, lang)
        kfmt = _kpi_format(kpi)
        for key in computed:
            if key not in cols:
                continue
            ref = f"{cols[key]}{n}"
            if ref in keep:
                kept.append(ref)
                continue
            fmt = _column_format(key, kfmt, params.pp)
            style = _computed_style(fmt, "center" if key in ("status", "rank", "rank_ly", "rank_change") else
                                    ("right" if key != "conclusion" else None))
            if key == "conclusion":
                cells.append(CellWrite(sheet, ref, an.conclusions.get((r["unit"], r["kpi"])), None, fmt))
            elif forms.get(key) is None:
                cells.append(CellWrite(sheet, ref, None, None, fmt))
            elif key in ("rank", "rank_ly") and an.ranked.attrs.get("peer_ranks"):
                # a split department workbook: its rank among all units of the master (a constant
                # formula, so that a refill does not take it for a value typed by hand)
                v = _plain(values[key])
                cells.append(CellWrite(sheet, ref, _cached(v), "=" + ('""' if v is None else str(int(v))), fmt))
            else:
                cells.append(CellWrite(sheet, ref, _cached(values[key]), "=" + forms[key], fmt))
            styles[(sheet, ref)] = style
        if params.direction != "range":
            for key in ("gap", "change_ly", "change_ly_pct", "change_yb_pct", "vs_industry_avg", "vs_competitor",
                        "vs_industry_top"):
                if key in cols:
                    by_direction[(key, params.direction == "higher")].append(n)
    if kept:
        warnings.append(f"sheet '{sheet}': {len(kept)} computed cell(s) hold values typed by hand and were "
                        f"left as they are ({', '.join(kept[:8])}{' …' if len(kept) > 8 else ''}); clear them "
                        "to get the formulas back")
    rules: list = []
    # the whole column below the header: rules of an earlier fill over more rows are replaced too
    owned = [f"{cols[k]}{first}:{cols[k]}{MAX_ROW}" for k in computed if k in cols]
    if last >= first:
        if "achievement" in cols:
            rules.append(_bar_rule(f"{cols['achievement']}{first}:{cols['achievement']}{last}"))
        if "status" in cols:
            rules += _status_rules(f"{cols['status']}{first}:{cols['status']}{last}", lang)
        if "rank_change" in cols:
            rules.append(_arrow_rule(f"{cols['rank_change']}{first}:{cols['rank_change']}{last}"))
        for (key, good_pos), rows in sorted(by_direction.items()):
            rules += _sign_rules(_sqref(cols[key], rows), good_pos)
    cf = SheetRules(sheet, tuple(owned), tuple(rules)) if owned else None
    return cells, styles, cf


# --- scorecard cells shown on owned sheets ----------------------------------------------------
def _sc_ref(review: model.Review, key: str, i: int) -> str | None:
    layout = review.layouts["Scorecard"]
    if key not in layout.columns:
        return None
    return f"{_q(layout.sheet)}!{layout.columns[key]}{layout.rows[i]}"


def _live(review, key, i, value):
    """A cell on an owned sheet that shows a scorecard cell: a formula with the value cached."""
    ref = _sc_ref(review, key, i)
    if ref is None:
        return value
    return (f'IF({ref}="","",{ref})', value)


QUARTER_KEYS = ("q1", "q2", "q3", "q4")


def _next_year_plan(review: model.Review, warnings: list[str], keep) -> tuple[list[CellWrite], dict]:
    """Quarterly targets of table NextYear as live formulas of the annual target.

    ``reviewkit.planning.split_quarters`` gives the seasonal shares (or an equal split, or no
    split for ratio KPIs); the formulas repeat its cumulative rounding, so Q1..Q4 add up to the
    annual target: Qk = ROUND(A*c_k, d) - ROUND(A*c_(k-1), d), Q4 = A - ROUND(A*c_3, d). Cells a user
    typed over are kept (``keep`` holds "Sheet!Q5" names).
    """
    ny = review.tables.get("NextYear")
    layout = review.layouts.get("NextYear")
    if ny is None or ny.empty or layout is None or "annual_target" not in layout.columns:
        return [], {}
    if not all(k in layout.columns for k in QUARTER_KEYS):
        return [], {}
    try:
        from decimal import Decimal

        from ..planning import split_quarters
        from ..planning.quarters import decimals_of

        split = split_quarters(ny, review.facts if not review.facts.empty else None, review.kpis)
    except (ImportError, InputError) as exc:
        warnings.append(f"no quarterly targets: {exc}")
        return [], {}
    kfmt = {str(k).strip(): str(f).strip() for k, f in zip(review.kpis["key"], review.kpis.get(
        "number_format", pd.Series([""] * len(review.kpis)))) if not _blank(k) and not _blank(f)}
    sheet = layout.sheet
    cells, styles, kept = [], {}, []
    for i, row in enumerate(split.to_dict("records")):
        n = layout.rows[i]
        a = f"{layout.columns['annual_target']}{n}"
        fmt = kfmt.get(row["kpi"]) or DEFAULT_NUMBER
        if row["method"] == "not split":
            forms = [f"={a}"] * 4
        else:
            d = decimals_of(kfmt.get(row["kpi"]), float(row["annual_target"]))
            cum, bounds = Decimal(0), []
            for k in QUARTER_KEYS[:3]:
                cum += Decimal(repr(float(row[f"share_{k}"])))
                bounds.append(f"ROUND({a}*{F.num(float(cum))},{d})")
            forms = [f"={bounds[0]}", f"={bounds[1]}-{bounds[0]}", f"={bounds[2]}-{bounds[1]}",
                     f"={a}-{bounds[2]}"]
        for k, form in zip(QUARTER_KEYS, forms):
            ref = f"{layout.columns[k]}{n}"
            if f"{sheet}!{ref}" in keep:
                kept.append(ref)
                continue
            cells.append(CellWrite(sheet, ref, _cached(row[k]), form, fmt))
            styles[(sheet, ref)] = _computed_style(fmt, "right")
    if kept:
        warnings.append(f"sheet '{sheet}': {len(kept)} quarterly target(s) typed by hand were kept "
                        f"({', '.join(kept[:8])}{' …' if len(kept) > 8 else ''})")
    return cells, styles
