"""``WorkbookEditor``: open an existing .xlsx/.xlsm, change a few things, save losslessly."""
from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from ..errors import InputError, WorkbookFormatError
from . import _xml
from ._xml import (CT_CHART, CT_CUSTOM_PROPS, CT_DRAWING, CT_WORKBOOK_MAIN, CT_WORKSHEET, CT_XLSB, REL_NS,
                   RT_CALC_CHAIN, RT_CHART, RT_CUSTOM_PROPS, RT_DRAWING, RT_OFFICE_DOCUMENT, RT_STYLES, RT_WORKSHEET,
                   STRICT_MAIN, STRICT_REL_PREFIX, q)
from .custom_props import PART as CUSTOM_PART
from .custom_props import CustomProperties
from .cellref import parse_range
from .package import Limits, Package, Relationship, rels_name, resolve_target
from .cellref import num_to_col, parse_cell
from .render import render_sheet
from .spec import SheetSpec
from .styles import StylesPart
from .tables import TableEditor, find_table
from .vml import RT_VML_DRAWING, VML_CONTENT_TYPE, free_block, render_vml, used_blocks
from .worksheet import WorksheetEditor

WORKBOOK_ORDER = ("fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
                  "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
                  "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
                  "fileRecoveryPr", "webPublishObjects", "extLst")
#: what Excel refuses in a sheet name, and what no XML attribute can hold (control characters,
#: lone surrogates: a sheet name has no _xHHHH_ escape, so such a name is refused, not escaped)
_BAD_SHEET_CHARS = re.compile("[\\[\\]:*?/\\\\\x00-\x1f\ud800-\udfff\ufffe\uffff]")
RT_VBA_PROJECT = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
RT_TABLE = _xml.RT + "table"
CT_MACRO_ENABLED = {"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                    "application/vnd.ms-excel.template.macroEnabled.main+xml"}


_SHEETS_TAG, _SHEET_TAG, _RID_ATTR = q("sheets"), q("sheet"), q("id", REL_NS)


class SheetNotFoundError(InputError, KeyError):
    """No sheet of that name; the message lists the sheets that exist."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class WorkbookEditor:
    """An open workbook package. Use ``WorkbookEditor.open(path)``, ideally as a context manager."""

    def __init__(self, pkg: Package):
        self._pkg = pkg
        self.path = pkg.path
        self._closed = False
        self._sheets_cache: tuple | None = None
        self._find_workbook()
        self._editors: dict[str, WorksheetEditor] = {}
        self._owned: dict[str, tuple[SheetSpec, int | None]] = {}
        self._styles: StylesPart | None = None
        self._custom: CustomProperties | None = None
        self._renames: dict[str, dict[int, str]] = {}  # table part -> {column index: new name}
        self._wb_changed = False
        self._tables: dict[str, TableEditor] = {}

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, limits: Limits | None = None) -> WorkbookEditor:
        """Open and validate ``path``; raises WorkbookFormatError / UnsafeWorkbookError for bad files.
        ``WorkbookEditor(package)`` edits a ``Package`` opened already (by the reader, by safety)."""
        return cls(Package.open(path, limits))

    @classmethod
    def open_bytes(cls, path: str | os.PathLike, data: bytes, *, limits: Limits | None = None) -> WorkbookEditor:
        """``open(path)`` on ``data`` already read from ``path``."""
        return cls(Package.open(path, limits, data=data))

    @property
    def package(self) -> Package:
        """The opened package this editor changes."""
        return self._pkg

    def __enter__(self) -> WorkbookEditor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True

    def _fail(self, message: str, **kw) -> WorkbookFormatError:
        return WorkbookFormatError(message, file=str(self.path), **kw)

    def _find_workbook(self) -> None:
        pkg = self._pkg
        root_rels = pkg.rels("")
        if any(r.type.startswith(STRICT_REL_PREFIX) for r in root_rels):
            raise self._fail("the workbook is saved as Strict Open XML", value="purl.oclc.org namespaces",
                             expected="an .xlsx saved as 'Excel Workbook' (transitional), not 'Strict Open XML'")
        main = [r for r in root_rels if r.type == RT_OFFICE_DOCUMENT and not r.external]
        if not main:
            raise self._fail("no workbook part in the package", expected="an .xlsx/.xlsm with xl/workbook.xml")
        self.workbook_part = resolve_target("", main[0].target)
        ct = pkg.content_types.get(self.workbook_part)
        if ct == CT_XLSB:
            raise self._fail("this is a binary workbook (.xlsb)", expected="an .xlsx/.xlsm")
        if ct not in CT_WORKBOOK_MAIN:
            raise self._fail("the main part is not a SpreadsheetML workbook", value=ct,
                             expected="an .xlsx/.xlsm/.xltx/.xltm workbook")
        self._wb_doc = _xml.PreservingXml(pkg.read(self.workbook_part), str(self.path), self.workbook_part)
        self._wb = self._wb_doc.root
        if self._wb.tag == q("workbook", STRICT_MAIN):
            raise self._fail("the workbook is saved as Strict Open XML",
                             expected="an .xlsx saved as 'Excel Workbook' (transitional)")
        if self._wb.tag != q("workbook"):
            raise self._fail("the workbook part has an unexpected root element", value=self._wb.tag)
        wbpr = self._wb.find(q("workbookPr"))
        self.date1904 = wbpr is not None and wbpr.get("date1904", "0").lower() in ("1", "true")

    def _sheets(self) -> list[tuple[etree._Element, str | None]]:
        """(``<sheet>`` element, its part name or None) in tab order.

        Kept until the workbook's relationships or its ``<sheets>`` change (a fill looks the
        sheets up a dozen times): the key holds the relationship list, its length and last item,
        and the ``<sheets>`` element with its child count."""
        rel_list = self._pkg.rels(self.workbook_part)
        sheets = self._wb.find(_SHEETS_TAG)
        key = (len(rel_list), rel_list[-1] if rel_list else None, sheets,
               len(sheets) if sheets is not None else -1)
        cached = self._sheets_cache
        if cached is not None and cached[0] is rel_list and cached[1] == key:
            return cached[2]
        rels = {r.id: r for r in rel_list}
        out = []
        for el in (sheets if sheets is not None else []):
            if el.tag != _SHEET_TAG:
                continue
            rel = rels.get(el.get(_RID_ATTR))
            out.append((el, resolve_target(self.workbook_part, rel.target) if rel else None))
        self._sheets_cache = (rel_list, key, out)
        return out

    @property
    def has_vba_project(self) -> bool:
        """True for a macro-enabled workbook (.xlsm/.xltm) whose VBA project part is present."""
        if self._pkg.content_types.get(self.workbook_part) not in CT_MACRO_ENABLED:
            return False
        return any(r.type == RT_VBA_PROJECT and not r.external
                   and self._pkg.exists(resolve_target(self.workbook_part, r.target))
                   for r in self._pkg.rels(self.workbook_part))

    @property
    def sheet_names(self) -> list[str]:
        return [el.get("name", "") for el, _ in self._sheets()]

    def _lookup(self, name: str) -> tuple[etree._Element, str | None] | None:
        wanted = name.lower()
        for el, part in self._sheets():
            if el.get("name", "").lower() == wanted:
                return el, part
        return None

    def _check_usable(self) -> None:
        if self._closed:
            raise InputError("the workbook editor is closed", file=str(self.path))

    # -- sheets --------------------------------------------------------------------------
    def sheet(self, name: str) -> WorksheetEditor:
        """The existing worksheet ``name`` (case-insensitive, as in Excel)."""
        self._check_usable()
        found = self._lookup(name)
        if found is None:
            raise SheetNotFoundError("no such sheet", file=str(self.path), value=name,
                                     expected="one of " + ", ".join(repr(n) for n in self.sheet_names))
        el, part = found
        real = el.get("name")
        if real in self._owned:
            raise InputError("this sheet is rebuilt by replace_sheet; put its cells in the SheetSpec",
                             file=str(self.path), sheet=real)
        ct = self._pkg.content_types.get(part) if part else None
        if part is None or not self._pkg.exists(part):
            raise self._fail("the sheet's part is missing", sheet=real, value=part)
        if ct != CT_WORKSHEET:
            raise InputError("only worksheets can be written", file=str(self.path), sheet=real, value=ct,
                             expected="a worksheet (not a chartsheet, dialog or macro sheet)")
        if real not in self._editors:
            self._editors[real] = WorksheetEditor(self, real, part)
        return self._editors[real]

    def replace_sheet(self, name: str, spec: SheetSpec | Callable[[], SheetSpec], *,
                      position: int | None = None) -> None:
        """Create sheet ``name`` or rebuild it from scratch from ``spec`` (a SheetSpec or a callable
        returning one). A new sheet is appended, or inserted at 0-based ``position``.

        The sheet's old dependent parts (drawing, charts, VML) go; ``spec.buttons`` are drawn in
        a fresh VML part that takes the freed name. Buttons run macros, so they are refused with
        an InputError unless the workbook has a VBA project (:attr:`has_vba_project`): dropping
        them silently would hide a broken button, and Excel refuses macros in an .xlsx."""
        self._check_usable()
        if callable(spec) and not isinstance(spec, SheetSpec):
            spec = spec()
        if not isinstance(spec, SheetSpec):
            raise InputError("replace_sheet needs a SheetSpec", sheet=name, value=type(spec).__name__)
        _check_sheet_name(name)
        if spec.buttons and not self.has_vba_project:
            suffix = self.path.suffix or "(no extension)"
            raise InputError("form buttons run macros, and this workbook has no VBA project", file=str(self.path),
                             sheet=name, value=f"{len(spec.buttons)} button(s) in a {suffix} workbook",
                             expected="a macro-enabled .xlsm with a VBA project (reviewkit new --macro), "
                                      "or a SheetSpec without buttons")
        found = self._lookup(name)
        real = found[0].get("name") if found else name
        if found:
            part = found[1]
            if part is None or self._pkg.content_types.get(part) != CT_WORKSHEET:
                raise InputError("a sheet of that name exists and is not a worksheet", file=str(self.path),
                                 sheet=real, expected="a new name, or the name of a worksheet reviewkit owns")
        self._editors.pop(real, None)
        self._owned[real] = (spec, position)

    # -- tables --------------------------------------------------------------------------
    def table(self, name: str) -> TableEditor:
        """The Excel Table ``name`` (case-insensitive), to grow it (``TableEditor.grow``)."""
        self._check_usable()
        key = name.lower()
        if key not in self._tables:
            found = find_table(self, name)
            if found is None:
                raise InputError("the workbook has no Excel Table of that name", file=str(self.path), value=name,
                                 expected="a table made by `reviewkit new` (or Insert > Table, named so)")
            self._tables[key] = found
        return self._tables[key]

    def table_headers(self, part: str) -> dict[tuple[int, int], tuple[str, str, str, int]]:
        """(row, column) of each header cell of the tables on sheet ``part`` -> (table, column name,
        table part, column index)."""
        pkg = self._pkg
        out: dict[tuple[int, int], tuple[str, str]] = {}
        for rel in pkg.rels(part):
            if rel.type != RT_TABLE or rel.external:
                continue
            target = pkg.resolve_target(part, rel)
            if not pkg.exists(target):
                continue
            root = pkg.read_xml(target)
            if root.get("headerRowCount", "1") in ("0", "false"):
                continue
            try:
                r1, c1, _r2, _c2 = parse_range(root.get("ref", ""))
            except InputError:
                continue  # the reader names a broken range; nothing to keep in step here
            table = root.get("displayName") or root.get("name") or target
            for i, tc in enumerate(root.iter(_xml.q("tableColumn"))):
                out[(r1, c1 + i)] = (table, _xml.excel_unescape(tc.get("name", "")), target, i)
        return out

    def table_formulas_use(self, table_part: str, column: str) -> bool:
        """True when a calculated-column or totals formula of the table names ``column``."""
        low = column.casefold()
        for el in self._pkg.read_xml(table_part).iter(_xml.q("calculatedColumnFormula"),
                                                      _xml.q("totalsRowFormula")):
            if low in _xml.excel_unescape(el.text or "").casefold():
                return True
        return False

    def rename_table_column(self, table_part: str, index: int, name: str) -> None:
        """Give column ``index`` of the table in ``table_part`` the name ``name`` at save."""
        self._renames.setdefault(table_part, {})[index] = name

    def _apply_renames(self) -> None:
        for part, names in self._renames.items():
            doc = _xml.PreservingXml(self._pkg.read(part), str(self.path), part)
            columns = list(doc.root.iter(_xml.q("tableColumn")))
            for index, name in names.items():
                columns[index].set("name", _xml.excel_text(name, attribute=True))
            self._pkg.set(part, doc.to_bytes())
        self._renames.clear()

    def show_only(self, names: list[str]) -> None:
        """Hide every sheet except ``names`` (case-insensitive) and make the first shown sheet the
        active one: what a printed or exported copy should contain. The print areas of the hidden
        sheets are dropped (LibreOffice prints a hidden sheet that has one). Unknown names raise
        SheetNotFoundError; at least one sheet must stay visible."""
        self._check_usable()
        wanted = set()
        for name in names:
            found = self._lookup(name)
            if found is None:
                raise SheetNotFoundError("no such sheet", file=str(self.path), value=name,
                                         expected="one of " + ", ".join(repr(n) for n in self.sheet_names))
            wanted.add(found[0].get("name"))
        if not wanted:
            raise InputError("at least one sheet must stay visible", file=str(self.path),
                             expected="one or more sheet names")
        first = None
        for i, (el, _) in enumerate(self._sheets()):
            if el.get("name") in wanted:
                if el.get("state") is not None:
                    del el.attrib["state"]
                first = i if first is None else first
            else:
                if el.get("state") != "veryHidden":
                    el.set("state", "hidden")
                self._set_sheet_name_def(el.get("name"), "_xlnm.Print_Area", None)
        for view in self._wb.iter(q("workbookView")):
            view.set("activeTab", str(first))
            view.set("firstSheet", str(first))
        self._wb_changed = True

    # -- custom properties ----------------------------------------------------------------
    def _custom_props(self) -> CustomProperties:
        if self._custom is None:
            part = self._custom_part()
            data = self._pkg.read(part) if part and self._pkg.exists(part) else None
            self._custom = CustomProperties(data, str(self.path), part or CUSTOM_PART)
        return self._custom

    def _custom_part(self) -> str | None:
        for r in self._pkg.rels(""):
            if r.type == RT_CUSTOM_PROPS and not r.external:
                return resolve_target("", r.target)
        return None

    def set_custom_property(self, name: str, value: str | int | float | bool) -> None:
        self._check_usable()
        self._custom_props().set(name, value)

    def get_custom_property(self, name: str, default=None):
        return self._custom_props().get(name, default)

    # -- saving --------------------------------------------------------------------------
    def styles(self) -> StylesPart:
        if self._styles is None:
            part = None
            for r in self._pkg.rels(self.workbook_part):
                if r.type == RT_STYLES and not r.external:
                    part = resolve_target(self.workbook_part, r.target)
            if part is None:
                part = posixpath.join(posixpath.dirname(self.workbook_part), "styles.xml")
                self._pkg.add_rel(self.workbook_part, RT_STYLES, part)
                self._styles = StylesPart(None, str(self.path), part)
            else:
                self._styles = StylesPart(self._pkg.read(part), str(self.path), part)
        return self._styles

    def save(self, path: str | os.PathLike | None = None, *, replace: bool = True, source=None) -> Path:
        """Write the workbook (to ``path`` or over the original) atomically; returns the path written.

        ``replace=False`` refuses an existing ``path``; ``source`` (a ``reviewkit.files.Source``)
        refuses when that file changed since it was read. See ``reviewkit.files.write_file``.
        """
        self._check_usable()
        target = Path(path) if path is not None else self.path
        from ..files import check_target

        check_target(target, replace=replace, source=source)  # before the work, not only after it
        self._apply()
        return self._pkg.save(target, replace=replace, source=source)

    def to_bytes(self) -> bytes:
        """The edited package as bytes (what ``save`` would write)."""
        self._apply()
        return self._pkg.to_bytes()

    def _apply(self) -> None:
        pkg = self._pkg
        cells_changed = bool(self._owned) or any(e._writes or e._blocks for e in self._editors.values())
        formulas = any(e.has_formula for e in self._editors.values()) or any(
            c.formula is not None for spec, _ in self._owned.values() for c in spec.cells)
        for name, (spec, position) in self._owned.items():
            self._build_owned(name, spec, position)
        for name, (spec, _) in self._owned.items():
            self._set_print_titles(name, spec.page_setup.repeat_columns if spec.page_setup else None)
            self._set_print_area(name, spec.page_setup.print_area if spec.page_setup else None)
        self._apply_renames()
        for editor in self._editors.values():
            if editor.dirty:
                old = pkg.read(editor.part)
                new = editor.render(old, self.styles(), self.date1904)
                if new != old:
                    pkg.set(editor.part, new)
        for table in self._tables.values():
            if table.dirty:
                pkg.set(table.part, table.render(pkg.read(table.part)))
                table._reset()
        if cells_changed:
            self._drop_calc_chain()
        if formulas:
            self._request_full_calc()
        if self._styles is not None:
            data = self._styles.to_bytes()
            if data is not None:
                pkg.set(self._styles.part, data, "application/vnd.openxmlformats-officedocument."
                                                 "spreadsheetml.styles+xml")
                self._styles.changed = False
        if self._custom is not None and self._custom.changed:
            part = self._custom_part()
            if part is None:
                part = CUSTOM_PART
                pkg.add_rel("", RT_CUSTOM_PROPS, part)
            pkg.set(part, self._custom.to_bytes(), CT_CUSTOM_PROPS)
            self._custom.changed = False
        if self._wb_changed:
            pkg.set(self.workbook_part, self._wb_doc.to_bytes())
            self._wb_changed = False
        # pending edits are now in the package; a second save writes the same bytes, and
        # WorksheetEditor objects the caller still holds keep working for further writes
        self._owned.clear()
        for editor in self._editors.values():
            editor._reset()

    def _set_print_titles(self, name: str, columns: str | None) -> None:
        """Set (or clear) the sheet's ``_xlnm.Print_Titles`` defined name: columns on every page."""
        first, _, last = columns.partition(":") if columns else ("", "", "")
        self._set_sheet_name_def(name, "_xlnm.Print_Titles", f"${first}:${last or first}" if columns else None)

    def set_print_title_rows(self, name: str, first: int, last: int) -> None:
        """Print rows ``first``..``last`` of sheet ``name`` on top of every page (``_xlnm.Print_Titles``)."""
        self._set_sheet_name_def(self.sheet(name).name, "_xlnm.Print_Titles", f"${first}:${last}")

    def _set_print_area(self, name: str, area: str | None) -> None:
        """Set (or clear) the sheet's ``_xlnm.Print_Area`` defined name (``"A1:N40"``)."""
        text = None
        if area:
            a, _, b = area.partition(":")
            (ra, ca), (rb, cb) = parse_cell(a), parse_cell(b or a)
            text = f"${num_to_col(ca)}${ra}:${num_to_col(cb)}${rb}"
        self._set_sheet_name_def(name, "_xlnm.Print_Area", text)

    def _set_sheet_name_def(self, name: str, defined: str, ref: str | None) -> None:
        """Set (or clear, ``ref=None``) a sheet-local built-in defined name to ``'Sheet'!ref``."""
        entries = list(self._wb.iter(q("sheet")))
        index = next((i for i, el in enumerate(entries) if el.get("name") == name), None)
        if index is None:
            return
        names = self._wb.find(q("definedNames"))
        old = [dn for dn in (names if names is not None else ())
               if dn.get("name") == defined and dn.get("localSheetId") == str(index)]
        if ref is None and not old:
            return
        quoted = "'" + name.replace("'", "''") + "'"
        text = f"{quoted}!{ref}" if ref else None
        if old and text is not None and old[0].text == text and len(old) == 1:
            return
        for dn in old:
            names.remove(dn)
        if text is not None:
            if names is None:
                names = etree.Element(q("definedNames"))
                _xml.insert_in_order(self._wb, names, WORKBOOK_ORDER)
            dn = etree.SubElement(names, q("definedName"), name=defined, localSheetId=str(index))
            dn.text = text
        elif names is not None and len(names) == 0:
            self._wb.remove(names)
        self._wb_changed = True

    def _drop_calc_chain(self) -> None:
        rels = self._pkg.rels(self.workbook_part)
        for r in list(rels):
            if r.type == RT_CALC_CHAIN:
                self._pkg.remove(resolve_target(self.workbook_part, r.target))
                rels.remove(r)
                self._pkg.touch_rels(self.workbook_part)

    def _request_full_calc(self) -> None:
        calc = self._wb.find(q("calcPr"))
        if calc is None:
            calc = etree.Element(q("calcPr"))
            _xml.insert_in_order(self._wb, calc, WORKBOOK_ORDER)
            self._wb_changed = True
        if calc.get("fullCalcOnLoad") != "1":
            calc.set("fullCalcOnLoad", "1")
            self._wb_changed = True

    def _build_owned(self, name: str, spec: SheetSpec, position: int | None) -> None:
        pkg = self._pkg
        found = self._lookup(name)
        if found:
            part = found[1]
            self._remove_dependants(part)
        else:
            part = pkg.unique_name("xl/worksheets/sheet{}.xml")
            rid = pkg.add_rel(self.workbook_part, RT_WORKSHEET, part)
            self._insert_sheet_entry(name, rid, position)
        drawing_rid = "rId1" if spec.charts else None
        vml_rid = ("rId2" if spec.charts else "rId1") if spec.buttons else None
        try:
            rendered = render_sheet(spec, name, self.styles(), drawing_rid, self.date1904, vml_rid)
        except InputError as exc:  # a value no cell can hold: say where
            raise InputError(exc.detail, file=str(self.path), sheet=name, cell=exc.cell, value=exc.value,
                             expected=exc.expected) from None
        pkg.set(part, rendered.sheet_xml, CT_WORKSHEET)
        sheet_rels = pkg.rels(part)
        sheet_rels.clear()
        pkg.touch_rels(part)
        if rendered.drawing_xml is not None:
            drawing = pkg.unique_name("xl/drawings/drawing{}.xml")
            pkg.set(drawing, rendered.drawing_xml, CT_DRAWING)
            sheet_rels.append(Relationship("rId1", RT_DRAWING, pkg.relative_target(part, drawing)))
            drawing_rels = pkg.rels(drawing)
            drawing_rels.clear()
            pkg.touch_rels(drawing)
            for i, chart_xml in enumerate(rendered.charts_xml, start=1):
                chart = pkg.unique_name("xl/charts/chart{}.xml")
                pkg.set(chart, chart_xml, CT_CHART)
                drawing_rels.append(Relationship(f"rId{i}", RT_CHART, pkg.relative_target(drawing, chart)))
        if spec.buttons:
            # after _remove_dependants dropped this sheet's old drawing, so a rebuild reuses its
            # part name and shape-id block and writes the same bytes
            others = [pkg.read(n) for n in pkg.names() if n.lower().endswith(".vml")]
            vml = pkg.unique_name("xl/drawings/vmlDrawing{}.vml")
            pkg.set(vml, render_vml(spec.buttons, spec.col_widths, free_block(used_blocks(others))))
            pkg.content_types.want_default("vml", VML_CONTENT_TYPE)
            pkg.content_types.want(vml, VML_CONTENT_TYPE)
            sheet_rels.append(Relationship(vml_rid, RT_VML_DRAWING, pkg.relative_target(part, vml)))

    def _remove_dependants(self, part: str) -> None:
        """Remove the parts only ``part`` refers to (its drawing, charts, comments...), recursively."""
        pkg = self._pkg
        doomed: list[str] = []
        stack = [part]
        while stack:
            src = stack.pop()
            for r in pkg.rels(src):
                if r.external:
                    continue
                tgt = resolve_target(src, r.target)
                if pkg.exists(tgt) and tgt not in doomed and tgt != part:
                    doomed.append(tgt)
                    stack.append(tgt)
        if not doomed:
            pkg.remove(rels_name(part))
            pkg.rels(part).clear()
            return
        # keep anything another (surviving) part still refers to
        still_used: set[str] = set()
        for name in pkg.names():
            if not name.endswith(".rels"):
                continue
            src = _source_of(name)
            if src == part or src in doomed:
                continue
            for r in pkg.rels(src):
                if not r.external:
                    still_used.add(resolve_target(src, r.target).lower())
        for tgt in doomed:
            if tgt.lower() not in still_used:
                pkg.remove(tgt)
        pkg.remove(rels_name(part))
        pkg.rels(part).clear()

    def _insert_sheet_entry(self, name: str, rid: str, position: int | None) -> None:
        sheets = self._wb.find(q("sheets"))
        if sheets is None:
            sheets = etree.Element(q("sheets"))
            _xml.insert_in_order(self._wb, sheets, WORKBOOK_ORDER)
        entries = [el for el in sheets if el.tag == q("sheet")]
        ids = [int(el.get("sheetId", "0")) for el in entries if el.get("sheetId", "0").isdigit()]
        new = etree.Element(q("sheet"), name=name, sheetId=str(max([0, *ids]) + 1))
        new.set(q("id", REL_NS), rid)
        self._wb_changed = True
        if position is None or position >= len(entries):
            if entries:
                entries[-1].addnext(new)
            else:
                sheets.append(new)
            return
        position = max(0, position)
        entries[position].addprevious(new)
        # sheet indexes after the insertion point move by one
        for dn in self._wb.iter(q("definedName")):
            lid = dn.get("localSheetId")
            if lid is not None and lid.isdigit() and int(lid) >= position:
                dn.set("localSheetId", str(int(lid) + 1))
        for view in self._wb.iter(q("workbookView")):
            for attr in ("activeTab", "firstSheet"):
                v = view.get(attr)
                if v is not None and v.isdigit() and int(v) >= position and not (attr == "firstSheet" and int(v) == 0):
                    view.set(attr, str(int(v) + 1))
        self._wb_changed = True

    def __repr__(self) -> str:
        return f"<WorkbookEditor {self.path.name}>"


def _source_of(rels_part: str) -> str:
    d, f = posixpath.split(rels_part)
    return posixpath.join(posixpath.dirname(d), f[:-len(".rels")])


def _check_sheet_name(name: str) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= 31 or _BAD_SHEET_CHARS.search(name) \
            or name.startswith("'") or name.endswith("'") or name.lower() == "history":
        raise InputError("invalid sheet name", value=name,
                         expected="1-31 characters, none of [ ] : * ? / \\ or control characters, "
                                  "not starting or ending with '")
