"""Form-control buttons of an owned sheet as a legacy VML drawing (``xl/drawings/vmlDrawingN.vml``).

Excel draws form buttons (and cell comments) in VML, not DrawingML. The markup here is what
XlsxWriter's ``insert_button`` writes (and Excel reads and writes back): one ``<v:shape>`` per
button, with ``<x:ClientData ObjectType="Button">`` holding the cell anchor and the macro.

Shape ids come in blocks of 1024 per drawing, declared by ``<o:idmap data="N"/>`` (ids
``N*1024+1`` ...). A new drawing takes the lowest block no other VML part of the workbook
declares, so rebuilding a sheet gives it the same block (and the same bytes) again.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ._xml import xml_text
from .cellref import parse_cell
from .spec import Button

VML_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
RT_VML_DRAWING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"

DEFAULT_COL_PX = 64   # 8.43 characters of Calibri 11, the width of a column with no <col> entry
DEFAULT_ROW_PX = 20   # 15 points
_IDMAP = re.compile(rb"<o:idmap\b[^>]*?\bdata\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)


def col_pixels(width: float) -> int:
    """Pixels of a column whose stored ``<col width>`` is ``width`` (Excel's rule for Calibri 11:
    a maximum digit width of 7 pixels)."""
    if width <= 0:
        return 0
    return int(((256 * width + int(128 / 7)) / 256) * 7)


def used_blocks(vml_parts: Iterable[bytes]) -> set[int]:
    """Shape-id blocks declared by ``<o:idmap data="1,2"/>`` in the given VML parts."""
    out: set[int] = set()
    for data in vml_parts:
        for m in _IDMAP.finditer(data):
            for item in m.group(1).split(b","):
                item = item.strip()
                if item.isdigit():
                    out.add(int(item))
    return out


def free_block(used: set[int]) -> int:
    n = 1
    while n in used:
        n += 1
    return n


def _anchor(button: Button, col_widths: dict[int, float]) -> tuple[list[int], int, int]:
    """(x:Anchor numbers, absolute left, absolute top) in pixels, as XlsxWriter computes them."""

    def size_col(c0: int) -> int:  # 0-based column
        w = col_widths.get(c0 + 1)
        return DEFAULT_COL_PX if w is None else col_pixels(w)

    def size_row(_r0: int) -> int:
        return DEFAULT_ROW_PX

    row, col = parse_cell(button.cell)
    col_start, row_start = col - 1, row - 1
    x_abs = sum(size_col(c) for c in range(col_start)) + button.x_offset
    y_abs = DEFAULT_ROW_PX * row_start + button.y_offset
    x1, y1 = button.x_offset, button.y_offset
    while x1 >= size_col(col_start):  # a zero-width (hidden) column is stepped over
        x1 -= size_col(col_start)
        col_start += 1
    while y1 >= size_row(row_start):
        y1 -= size_row(row_start)
        row_start += 1
    width = button.width + (x1 if size_col(col_start) > 0 else 0)
    height = button.height + y1
    col_end, row_end = col_start, row_start
    while width >= size_col(col_end):
        width -= size_col(col_end)
        col_end += 1
    while height >= size_row(row_end):
        height -= size_row(row_end)
        row_end += 1
    return [col_start, x1, row_start, y1, col_end, width, row_end, height], x_abs, y_abs


def _pt(px: float) -> str:
    return f"{px * 0.75:.15g}"


def render_vml(buttons: Iterable[Button], col_widths: dict[int, float], block: int) -> bytes:
    """The VML part drawing ``buttons`` on a sheet whose column widths are ``col_widths``."""
    out = ['<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
           'xmlns:x="urn:schemas-microsoft-com:office:excel">'
           f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
           '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
           '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
           'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>']
    for i, b in enumerate(buttons, start=1):
        anchor, left, top = _anchor(b, col_widths)
        alt = f' alt="{xml_text(b.description)}"' if b.description else ""
        style = (f"position:absolute;margin-left:{_pt(left)}pt;margin-top:{_pt(top)}pt;width:{_pt(b.width)}pt;"
                 f"height:{_pt(b.height)}pt;z-index:{i};mso-wrap-style:tight")
        out.append(
            f'<v:shape id="_x0000_s{block * 1024 + i}" type="#_x0000_t201"{alt} style="{style}" o:button="t" '
            'fillcolor="buttonFace [67]" strokecolor="windowText [64]" o:insetmode="auto">'
            '<v:fill color2="buttonFace [67]" o:detectmouseclick="t"/><o:lock v:ext="edit" rotation="t"/>'
            '<v:textbox style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center">'
            f'<font face="Calibri" size="220" color="#000000">{xml_text(b.caption)}</font></div></v:textbox>'
            f'<x:ClientData ObjectType="Button"><x:Anchor>{", ".join(str(n) for n in anchor)}</x:Anchor>'
            '<x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill>'
            f'<x:FmlaMacro>{xml_text(b.stored_macro)}</x:FmlaMacro><x:TextHAlign>Center</x:TextHAlign>'
            '<x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape>')
    out.append("</xml>")
    return "".join(out).encode("utf-8")
