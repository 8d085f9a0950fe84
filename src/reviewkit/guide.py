"""The Guide sheet (说明) of a new workbook: steps, legend, what each sheet and column is for.

Written by ``templates`` with the same XlsxWriter workbook and formats as the table sheets.
"""
from __future__ import annotations

from collections.abc import Iterable

from . import model
from .fill.grid import _text_lines
from .messages import pairs, pick
from .ooxml._xml import storable_text
from .templates import _WORDS, BORDER, INPUT_HEADER, _Formats, _print_setup, _t, _title

GUIDE_WIDTHS = (16, 13, 52, 26, 26)

_STEPS = tuple(pairs("templates", "steps").values())
_OWNED_PURPOSE = pairs("templates", "purpose")


def write_guide(ws, fmts: _Formats, lang: str, company: str, year: object) -> None:
    title = fmts.get(bold=True, font_size=18, font_color=INPUT_HEADER)
    section = fmts.get(bold=True, font_size=13, font_color=INPUT_HEADER, bottom=2, bottom_color=INPUT_HEADER)
    wrap = fmts.get(text_wrap=True, valign="top")
    head = fmts.get(bold=True, font_color="#FFFFFF", bg_color=INPUT_HEADER, border=1, border_color=BORDER,
                    text_wrap=True, valign="vcenter")
    cell = fmts.get(text_wrap=True, valign="top", border=1, border_color=BORDER)
    link = fmts.get(text_wrap=True, valign="top", border=1, border_color=BORDER, font_color="#0563C1", underline=1)
    for j, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(j, j, width)

    ws.write_string(0, 0, storable_text(_title(company, year, lang)), title)
    ws.write_string(1, 0, _t("subtitle", lang), fmts.get(italic=True, font_color="#595959"))
    row = 3
    ws.merge_range(row, 0, row, 4, _t("steps", lang), section)
    row += 1
    for step in (pick(lang, *pair) for pair in _STEPS):
        ws.merge_range(row, 0, row, 4, step, wrap)
        _fit_height(ws, row, [(step, sum(GUIDE_WIDTHS))])
        row += 1
    row += 1
    ws.merge_range(row, 0, row, 4, _t("legend", lang), section)
    row += 1
    ws.write_string(row, 0, _t("input", lang), fmts.cell(None, False))
    ws.merge_range(row, 1, row, 4, _t("legend_input", lang), wrap)
    row += 1
    ws.write_string(row, 0, _t("computed", lang), fmts.cell(None, True))
    ws.merge_range(row, 1, row, 4, _t("legend_computed", lang), wrap)
    row += 2

    ws.merge_range(row, 0, row, 4, _t("sheets", lang), section)
    row += 1
    for j, key in enumerate(("h_sheet", "h_table", "h_purpose", "h_required", "h_computed")):
        ws.write_string(row, j, _t(key, lang), head)
    row += 1
    sep = "、" if lang == "zh" else ", "
    for spec in model.TABLES:
        sheet = spec.sheet(lang)
        ws.write_url(row, 0, f"internal:'{sheet}'!A1", link, sheet)
        ws.write_string(row, 1, spec.name, cell)
        purpose = spec.guide(lang) + (("；" if lang == "zh" else "; ") + _t("open_columns", lang)
                                      if spec.open_columns else "")
        ws.write_string(row, 2, purpose, cell)
        ws.write_string(row, 3, sep.join(c.header(lang) for c in spec.columns if c.required), cell)
        computed = sep.join(c.header(lang) for c in spec.computed_columns)
        ws.write_string(row, 4, computed, cell)
        _fit_height(ws, row, [(purpose, GUIDE_WIDTHS[2]), (computed, GUIDE_WIDTHS[4])])
        row += 1
    for key, pair in _OWNED_PURPOSE.items():
        purpose = pick(lang, *pair)
        ws.write_string(row, 0, model.owned_sheet_name(key, lang), cell)
        ws.write_string(row, 1, "", cell)
        ws.write_string(row, 2, purpose, cell)
        ws.write_string(row, 3, "", cell)
        ws.write_string(row, 4, _t("after_fill", lang), cell)
        _fit_height(ws, row, [(purpose, GUIDE_WIDTHS[2])])
        row += 1
    row += 1

    ws.merge_range(row, 0, row, 4, _t("columns", lang), section)
    row += 1
    for j, key in enumerate(("h_sheet", "h_column", "h_help")):
        ws.write_string(row, j, _t(key, lang), head)
    ws.merge_range(row, 3, row, 4, _t("h_kind", lang), head)
    row += 1
    for spec in model.TABLES:
        for col in spec.columns:
            ws.write_string(row, 0, spec.sheet(lang), cell)
            ws.write_string(row, 1, col.header(lang), fmts.cell(None, col.computed))
            kind = _WORDS.label(col.kind, lang)
            note = _column_note(col, lang)
            ws.write_string(row, 2, note, cell)
            _fit_height(ws, row, [(note, GUIDE_WIDTHS[2])])
            ws.merge_range(row, 3, row, 4, kind, cell)
            row += 1
    _print_setup(ws, lang, landscape=False)


def _fit_height(ws, row: int, cells: Iterable[tuple[str, float]]) -> None:
    """Set a row tall enough for its wrapped cells (merged cells are not auto-fitted)."""
    lines = max((_text_lines(text, width) for text, width in cells if text), default=1)
    ws.set_row(row, 15 * max(lines, 1) + 3)


def _column_note(col: model.Column, lang: str) -> str:
    parts: list[str] = []
    if col.required:
        parts.append(_t("required", lang))
    if col.computed:
        parts.append(_t("computed_note", lang))
    if col.help(lang):
        parts.append(col.help(lang))
    if col.choices:
        parts.append(_t("choices", lang) + " / ".join(ch.label(lang) for ch in col.choices))
    return ("；" if lang == "zh" else "; ").join(parts)
