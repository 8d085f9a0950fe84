"""Render a ``SheetSpec`` to a worksheet part, and its charts to drawing + chart parts."""
from __future__ import annotations

from dataclasses import dataclass

from .. import caching
from ._xml import MAIN, REL_NS, XML_DECLARATION, esc, excel_text
from .cellref import cell_name, num_to_col, parse_cell, parse_range
from .cells import _num_like, number_text, value_xml
from .rules import conditional_formatting_text, data_validations_element
from .spec import Chart, SheetSpec
from .styles import CellStyle, StylesPart, argb

from lxml import etree

from ..errors import InputError

C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_DATE_STYLE = CellStyle(num_format="yyyy-mm-dd")  # a date without a style of its own
_PALETTE = ("#4472C4", "#ED7D31", "#A5A5A5", "#FFC000", "#5B9BD5", "#70AD47", "#264478", "#9E480E")


@dataclass
class RenderedSheet:
    sheet_xml: bytes
    drawing_xml: bytes | None
    charts_xml: list[bytes]


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def render_sheet(spec: SheetSpec, sheet_name: str, styles: StylesPart, drawing_rid: str | None,
                 date1904: bool = False, legacy_drawing_rid: str | None = None) -> RenderedSheet:
    rows: dict[int, dict[int, str]] = {}
    xf_index = styles.xf_index
    # the xf index per style object: a sheet passes the same few objects for all its cells
    by_style: dict[int, int] = {}
    refs = _REFS
    values: dict[tuple[int, int], object] | None = {} if spec.charts else None  # what the charts show
    for c in spec.cells:
        ref = c.ref
        found = refs.get(ref)
        if found is None:
            r, col = parse_cell(ref)
            found = refs.put(ref, (r, col, cell_name(r, col)))
        r, col, name = found
        value = c.value
        if values is not None:
            values[(r, col)] = value
        st = c.style
        if st is not None:
            style = by_style.get(id(st))
            if style is None:
                style = by_style[id(st)] = xf_index(st)
        else:
            style = None
            if value is not None and hasattr(value, "year") and c.formula is None:
                style = xf_index(_DATE_STYLE)
        row = rows.get(r)
        if row is None:
            row = rows[r] = {}
        try:
            row[col] = value_xml(name, value, c.formula, style, date1904)
        except InputError as exc:  # the caller adds file and sheet
            raise InputError(exc.detail, cell=name, value=exc.value, expected=exc.expected) from None
    parts = [f'<worksheet xmlns="{MAIN}" xmlns:r="{REL_NS}">']
    page = spec.page_setup
    sheet_pr = ""
    if spec.tab_color:
        sheet_pr += f'<tabColor rgb="{argb(spec.tab_color)}"/>'
    if page is not None and page.scale is None and (page.fit_width or page.fit_height):
        sheet_pr += '<pageSetUpPr fitToPage="1"/>'
    if sheet_pr:
        parts.append(f"<sheetPr>{sheet_pr}</sheetPr>")
    if rows:
        allc = [c for cols in rows.values() for c in cols]
        parts.append(f'<dimension ref="{cell_name(min(rows), min(allc))}:{cell_name(max(rows), max(allc))}"/>')
    else:
        parts.append('<dimension ref="A1"/>')
    view = '<sheetView workbookViewId="0"' + ('' if spec.show_grid_lines else ' showGridLines="0"')
    if spec.freeze and spec.freeze != "A1":
        fr, fc = parse_cell(spec.freeze)
        xs, ys = fc - 1, fr - 1
        pane = "bottomRight" if xs and ys else ("bottomLeft" if ys else "topRight")
        attrs = (f' xSplit="{xs}"' if xs else "") + (f' ySplit="{ys}"' if ys else "")
        view += (f'><pane{attrs} topLeftCell="{spec.freeze}" activePane="{pane}" state="frozen"/>'
                 f'<selection pane="{pane}" activeCell="{spec.freeze}" sqref="{spec.freeze}"/></sheetView>')
    else:
        view += "/>"
    parts.append(f"<sheetViews>{view}</sheetViews>")
    parts.append('<sheetFormatPr defaultRowHeight="15"/>')
    if spec.col_widths or spec.hidden_columns:
        hidden = set(spec.hidden_columns)
        cols = sorted(set(spec.col_widths) | hidden)
        parts.append("<cols>" + "".join(
            f'<col min="{c}" max="{c}" width="{number_text(spec.col_widths.get(c, 8.43))}" customWidth="1"'
            + (' hidden="1"' if c in hidden else "") + "/>" for c in cols) + "</cols>")
    parts.append("<sheetData>")
    for r in sorted(rows):
        height = spec.row_heights.get(r)
        attrs = f' ht="{height:g}" customHeight="1"' if height else ""
        row = rows[r]
        parts.append(f'<row r="{r}"{attrs}>' + "".join([row[c] for c in sorted(row)]) + "</row>")
    parts.append("</sheetData>")
    if spec.merged:
        parts.append(f'<mergeCells count="{len(spec.merged)}">'
                     + "".join(f'<mergeCell ref="{esc(m)}"/>' for m in spec.merged) + "</mergeCells>")
    parts.append(conditional_formatting_text(spec.conditional_formats, styles, 1))
    if spec.data_validations:
        parts.append(_fragment(data_validations_element(spec.data_validations)))
    if page is not None:
        parts.append('<printOptions horizontalCentered="1"/>')
    parts.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if page is not None:
        fit = (f'scale="{page.scale}"' if page.scale is not None else
               f'fitToWidth="{page.fit_width}" fitToHeight="{page.fit_height}"')
        parts.append(f'<pageSetup paperSize="{page.paper_size}" {fit} '
                     f'orientation="{"landscape" if page.landscape else "portrait"}"/>')
    if spec.row_breaks:
        brks = sorted(set(spec.row_breaks))
        # Excel's brk id is the last row before the break
        parts.append(f'<rowBreaks count="{len(brks)}" manualBreakCount="{len(brks)}">'
                     + "".join(f'<brk id="{r - 1}" max="16383" man="1"/>' for r in brks) + "</rowBreaks>")
    if drawing_rid:
        parts.append(f'<drawing r:id="{drawing_rid}"/>')
    if legacy_drawing_rid:  # form buttons (VML); CT_Worksheet puts it right after <drawing>
        parts.append(f'<legacyDrawing r:id="{legacy_drawing_rid}"/>')
    parts.append("</worksheet>")
    xml = "".join(parts)
    sheet_xml = XML_DECLARATION + xml.encode("utf-8")
    drawing = None
    charts = []
    if spec.charts:
        drawing = render_drawing(spec.charts)
        charts = [render_chart(ch, sheet_name, values) for ch in spec.charts]
    return RenderedSheet(sheet_xml, drawing, charts)


#: cell reference -> (row, column, canonical name): the owned sheets of one template repeat the
#: same references in every file
_REFS = caching.Cache("render.refs", 50_000)


def _fragment(el: etree._Element) -> str:
    """An lxml element in the main namespace as text without its own namespace declaration."""
    wrap = etree.Element(f"{{{MAIN}}}w", nsmap={None: MAIN})
    wrap.append(el)
    return etree.tostring(el, encoding="unicode").replace(f' xmlns="{MAIN}"', "")


def render_drawing(charts: tuple[Chart, ...]) -> bytes:
    out = [f'<xdr:wsDr xmlns:xdr="{XDR_NS}" xmlns:a="{A_NS}">']
    for i, ch in enumerate(charts, start=1):
        r, c = parse_cell(ch.anchor)
        w, h = ch.size
        out.append(
            f"<xdr:twoCellAnchor><xdr:from><xdr:col>{c - 1}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r - 1}"
            f"</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>{c - 1 + w}</xdr:col><xdr:colOff>0"
            f"</xdr:colOff><xdr:row>{r - 1 + h}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
            f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{i + 1}" name="Chart {i}"/>'
            "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm><a:off x=\"0\" y=\"0\"/>"
            "<a:ext cx=\"0\" cy=\"0\"/></xdr:xfrm><a:graphic><a:graphicData "
            f'uri="{C_NS}"><c:chart xmlns:c="{C_NS}" xmlns:r="{REL_NS}" r:id="rId{i}"/>'
            "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>")
    out.append("</xdr:wsDr>")
    return XML_DECLARATION + "".join(out).encode("utf-8")


@caching.memo("render.abs_ref", 1024)
def _abs_ref(sheet: str, ref: str) -> str:
    r1, c1, r2, c2 = parse_range(ref)
    a = f"${num_to_col(c1)}${r1}"
    b = f"${num_to_col(c2)}${r2}"
    return f"{quote_sheet(sheet)}!{a}" + ("" if (r1, c1) == (r2, c2) else f":{b}")


def _points(ref: str, values: dict) -> list[object]:
    r1, c1, r2, c2 = parse_range(ref)
    return [values.get((r, c)) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def _str_ref(sheet: str, ref: str, values: dict) -> str:
    pts = _points(ref, values)
    body = "".join(f'<c:pt idx="{i}"><c:v>{esc(excel_text(str(v)))}</c:v></c:pt>' for i, v in enumerate(pts) if v is not None)
    return (f"<c:strRef><c:f>{esc(_abs_ref(sheet, ref))}</c:f><c:strCache><c:ptCount val=\"{len(pts)}\"/>"
            f"{body}</c:strCache></c:strRef>")


def _num_ref(sheet: str, ref: str, values: dict) -> str:
    pts = _points(ref, values)
    nums = [(i, _cache_number(v)) for i, v in enumerate(pts)]
    body = "".join(f'<c:pt idx="{i}"><c:v>{n}</c:v></c:pt>' for i, n in nums if n is not None)
    return (f"<c:numRef><c:f>{esc(_abs_ref(sheet, ref))}</c:f><c:numCache><c:formatCode>General</c:formatCode>"
            f"<c:ptCount val=\"{len(pts)}\"/>{body}</c:numCache></c:numRef>")


def _cache_number(v) -> str | None:
    try:
        return _num_like(v)
    except InputError:  # NaN/inf: a gap in the chart's cache
        return None


def _sp_pr(color: str | None, invisible: bool, line: bool) -> str:
    if invisible:
        return "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
    if color is None:
        return ""
    rgb = argb(color)[2:]
    if line:
        return f'<c:spPr><a:ln w="28575"><a:solidFill><a:srgbClr val="{rgb}"/></a:solidFill></a:ln></c:spPr>'
    return f'<c:spPr><a:solidFill><a:srgbClr val="{rgb}"/></a:solidFill></c:spPr>'


def render_chart(ch: Chart, sheet: str, values: dict) -> bytes:
    line = ch.kind == "line"
    sers = []
    cat = f"<c:cat>{_str_ref(sheet, ch.categories, values)}</c:cat>" if ch.categories else ""  # same for each series
    for i, s in enumerate(ch.series):
        color = s.color or _PALETTE[i % len(_PALETTE)]
        tx = f"<c:tx><c:v>{esc(excel_text(s.name))}</c:v></c:tx>" if s.name else ""
        val = f"<c:val>{_num_ref(sheet, s.values, values)}</c:val>"
        sp = _sp_pr(color, s.invisible, line)
        if line:
            sers.append(f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>{tx}{sp}<c:marker><c:symbol val="none"/>'
                        f'</c:marker>{cat}{val}<c:smooth val="0"/></c:ser>')
        else:
            sers.append(f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>{tx}{sp}<c:invertIfNegative val="0"/>'
                        f"{cat}{val}</c:ser>")
    if line:
        plot = (f'<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>{"".join(sers)}'
                '<c:marker val="1"/><c:axId val="500000001"/><c:axId val="500000002"/></c:lineChart>')
    else:
        stacked = ch.kind in ("stacked_column", "stacked_bar", "waterfall")
        bar_dir = "bar" if ch.kind in ("bar", "stacked_bar") else "col"
        plot = (f'<c:barChart><c:barDir val="{bar_dir}"/><c:grouping val="{"stacked" if stacked else "clustered"}"/>'
                f'<c:varyColors val="0"/>{"".join(sers)}<c:gapWidth val="{50 if ch.kind == "waterfall" else 150}"/>'
                + ('<c:overlap val="100"/>' if stacked else "")
                + '<c:axId val="500000001"/><c:axId val="500000002"/></c:barChart>')
    cat_pos, val_pos = ("l", "b") if ch.kind in ("bar", "stacked_bar") else ("b", "l")
    # horizontal stacked bars list the categories top-down, as the table beside them does
    cat_order = "maxMin" if ch.kind == "stacked_bar" else "minMax"
    # CT_Scaling: orientation, then max, then min
    bounds = ((f'<c:max val="{number_text(float(ch.y_max))}"/>' if ch.y_max is not None else "")
              + (f'<c:min val="{number_text(float(ch.y_min))}"/>' if ch.y_min is not None else ""))
    fmt = (f'<c:numFmt formatCode="{esc(ch.y_num_format)}" sourceLinked="0"/>' if ch.y_num_format
           else '<c:numFmt formatCode="General" sourceLinked="1"/>')
    axes = (f'<c:catAx><c:axId val="500000001"/><c:scaling><c:orientation val="{cat_order}"/></c:scaling>'
            f'<c:delete val="0"/><c:axPos val="{cat_pos}"/><c:numFmt formatCode="General" sourceLinked="1"/>'
            '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="low"/>'
            '<c:crossAx val="500000002"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
            '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
            f'<c:valAx><c:axId val="500000002"/><c:scaling><c:orientation val="minMax"/>{bounds}</c:scaling>'
            f'<c:delete val="0"/><c:axPos val="{val_pos}"/><c:majorGridlines/>{fmt}<c:majorTickMark val="out"/>'
            '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="500000001"/>'
            '<c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>')
    title = ""
    if ch.title:
        title = (f'<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>{esc(excel_text(ch.title))}</a:t></a:r></a:p>'
                 '</c:rich></c:tx><c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>')
    else:
        title = '<c:autoTitleDeleted val="1"/>'
    legend = ""
    if ch.legend and not (ch.kind == "waterfall" and len(ch.series) <= 2):
        hidden = "".join(f'<c:legendEntry><c:idx val="{i}"/><c:delete val="1"/></c:legendEntry>'
                         for i, s in enumerate(ch.series) if s.invisible)  # no entry for a waterfall's base
        legend = f'<c:legend><c:legendPos val="b"/>{hidden}<c:overlay val="0"/></c:legend>'
    xml = (f'<c:chartSpace xmlns:c="{C_NS}" xmlns:a="{A_NS}" xmlns:r="{REL_NS}"><c:roundedCorners val="0"/>'
           f"<c:chart>{title}<c:plotArea><c:layout/>{plot}{axes}</c:plotArea>{legend}"
           '<c:plotVisOnly val="0"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>')
    return XML_DECLARATION + xml.encode("utf-8")
