"""How fill's cells look: colours (IBCS: green good, red bad, grey neutral), number formats, cell
styles and the conditional-format rules of computed columns and owned sheets."""
from __future__ import annotations

import pandas as pd

from .. import caching
from .. import formulas as F
from ..ooxml import CellIsRule, CellStyle, Cfvo, DataBarRule, DxfStyle, IconSetRule
from ..ooxml import numfmt


# --- colours: IBCS — green good, red bad, grey neutral ---------------------------------
COMPUTED_FILL = "#EDEDED"
GOOD_FONT, GOOD_FILL = "#006100", "#C6EFCE"
BAD_FONT, BAD_FILL = "#9C0006", "#FFC7CE"
AMBER_FONT, AMBER_FILL = "#9C5700", "#FFEB9C"
GREY_FONT, GREY_FILL = "#595959", "#D9D9D9"
HEADER_FILL, HEADER_FONT = "#1F4E79", "#FFFFFF"
SUB_FILL = "#DDEBF7"
BAR_COLOR = "#5B9BD5"
TITLE_FONT = "#1F4E79"
STATUS_STYLE = {"green": (GOOD_FONT, GOOD_FILL), "amber": (AMBER_FONT, AMBER_FILL),
                "red": (BAD_FONT, BAD_FILL), "grey": (GREY_FONT, GREY_FILL),
                "neutral": (GREY_FONT, "#F2F2F2")}
STATUS_ORDER = {"red": 0, "amber": 1, "grey": 2, "neutral": 3, "green": 3}
SEVERITY = {"red": 3.0, "amber": 2.0}

PCT_SIGNED = "+0.0%;-0.0%;0.0%"
PP_SIGNED = '+0.0" pp";-0.0" pp";0.0" pp"'
ACH_FORMAT = "0.0%"
RANK_FORMAT = "0"
RANK_CHANGE_FORMAT = "+0;-0;0"
DEFAULT_NUMBER = "#,##0.0#"


def _signed(fmt: str) -> str:
    return numfmt.signed(fmt)


def _kpi_format(kpi: pd.Series) -> str:
    fmt = str(kpi.get("number_format") or "").strip()
    if fmt:
        return fmt
    return "0.0%" if bool(kpi.get("is_percent")) else DEFAULT_NUMBER


TITLE = CellStyle(bold=True, font_color=TITLE_FONT)
SECTION = CellStyle(bold=True, font_color=TITLE_FONT, fill=SUB_FILL)
HEAD = CellStyle(bold=True, fill=HEADER_FILL, font_color=HEADER_FONT, border=True, align="center")
TEXT = CellStyle(border=True)
WRAP = CellStyle(border=True, wrap=True)
NOTE = CellStyle(italic=True, font_color=GREY_FONT)


@caching.memo("fill.num_style", 256)
def _num_style(fmt: str | None, align: str | None = None, font_color: str | None = None) -> CellStyle:
    return CellStyle(num_format=fmt, border=True, align=align, font_color=font_color)


# The rule factories below are remembered: the rules are frozen values, the same ranges recur in
# every workbook of a batch, and the writer renders a rule object it has seen once per process.
def _status_rules(sqref: str, lang: str) -> list:
    """The status column's fill by its label (green / amber / red / grey / neutral)."""
    return list(_status_rule_tuple(sqref, lang))


@caching.memo("fill.status_rules", 1024)
def _status_rule_tuple(sqref: str, lang: str) -> tuple:
    return tuple(CellIsRule(sqref, "equal", (f'"{F.STATUS_LABELS[lang][status]}"',),
                            DxfStyle(font_color=font, fill=fill, bold=True))
                 for status, (font, fill) in STATUS_STYLE.items())


@caching.memo("fill.arrow_rule", 1024)
def _arrow_rule(sqref: str) -> IconSetRule:
    # down below 0, sideways at 0, up from +1
    return IconSetRule(sqref, "3Arrows", thresholds=(Cfvo("num", -1e9), Cfvo("num", 0), Cfvo("num", 1)))


@caching.memo("fill.bar_rule", 1024)
def _bar_rule(sqref: str) -> DataBarRule:
    return DataBarRule(sqref, BAR_COLOR, low=Cfvo("num", 0), high=Cfvo("num", 1.5))


HUGE = "9.99E+307"
MAX_ROW = 1_048_576
TINY = "0.000000001"


def _sign_rules(sqref: str, good_positive: bool) -> list:
    """Green font where the number is good for the business, red where it is bad (text never matches)."""
    return list(_sign_rule_tuple(sqref, good_positive))


@caching.memo("fill.sign_rules", 1024)
def _sign_rule_tuple(sqref: str, good_positive: bool) -> tuple:
    good = DxfStyle(font_color=GOOD_FONT)
    bad = DxfStyle(font_color=BAD_FONT)
    pos, neg = (good, bad) if good_positive else (bad, good)
    return (CellIsRule(sqref, "between", (TINY, HUGE), pos),
            CellIsRule(sqref, "between", ("-" + HUGE, "-" + TINY), neg))


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for r in sorted(rows):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _sqref(col: str, rows: list[int]) -> str:
    return " ".join(f"{col}{a}" if a == b else f"{col}{a}:{col}{b}" for a, b in _runs(rows))


@caching.memo("fill.computed_style", 256)
def _computed_style(fmt: str, align: str | None) -> CellStyle:
    return CellStyle(num_format=fmt, fill=COMPUTED_FILL, border=True, align=align)
