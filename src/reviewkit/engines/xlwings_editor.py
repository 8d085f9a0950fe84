"""``WorkbookEditor``'s writing API over a workbook open in Excel.

``fill`` writes files through :class:`reviewkit.ooxml.WorkbookEditor`: ``sheet(name).write``,
``write_formula``, ``set_column_width``, ``set_conditional_formats``, ``replace_sheet(name,
SheetSpec)``, ``set_custom_property``, ``save()``. :class:`XlwingsEditor` accepts the same
calls, records them, and on :meth:`save` applies them to the open book through
:class:`~reviewkit.engines.xlwings_engine.XlwingsEngine` in grouped range calls. So one
``fill`` routine can write a file or the open workbook, and the Refresh button writes the
same values, formulas, number formats and owned sheets as ``reviewkit fill``.

What Excel already shows is kept: conditional formats, data validations and charts written by
an earlier ``reviewkit fill`` (or the template) stay on their cells and show the new values;
the editor records new rules and charts but does not draw them live. Everything not applied
is listed in :attr:`XlwingsEditor.skipped`.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from ..errors import InputError
from .plan import CellWrite, _rectangles, col_letter, group_writes, parse_cell, plain, range_ref
from .xlwings_engine import XlwingsEngine, _pause, _resume


class _SheetRecorder:
    def __init__(self, editor: XlwingsEditor, name: str):
        self._editor, self.name = editor, name

    def write(self, ref: str, value: object, style=None) -> None:
        parse_cell(ref)
        self._editor._plan.append(CellWrite(self.name, ref, value, style=style))

    def write_formula(self, ref: str, formula: str, cached: object = None, style=None) -> None:
        if not isinstance(formula, str) or not formula.strip("= "):
            raise InputError("empty or non-text formula", sheet=self.name, cell=ref, value=formula)
        parse_cell(ref)
        f = formula if formula.startswith("=") else "=" + formula
        self._editor._plan.append(CellWrite(self.name, ref, cached, formula=f, style=style))

    def set_column_width(self, col: str | int, width: float) -> None:
        if not isinstance(width, (int, float)) or not 0 <= width <= 255:
            raise InputError("column width out of range", sheet=self.name, value=width, expected="0 .. 255")
        letter = col_letter(col) if isinstance(col, int) else str(col).upper()
        self._editor._widths[(self.name, letter)] = float(width)

    def set_conditional_formats(self, owned: Sequence[str], rules: Iterable) -> None:
        self._editor.skipped.append(f"conditional formats of sheet '{self.name}' ({len(list(rules))} rules): "
                                    "the workbook's existing rules stay")

    def set_data_validations(self, owned: Sequence[str], validations: Iterable) -> None:
        self._editor.skipped.append(f"data validations of sheet '{self.name}': the existing ones stay")


class XlwingsEditor:
    """Record ``WorkbookEditor`` calls; :meth:`save` applies them to the open ``book``."""

    def __init__(self, book):
        self.book = book
        self.engine = XlwingsEngine(book)
        self._plan: list[CellWrite] = []
        self._widths: dict[tuple[str, str], float] = {}
        self._owned: dict[str, tuple[object, int | None]] = {}
        self._props: dict[str, object] = {}
        self.skipped: list[str] = []
        self.cells_written = 0

    @property
    def path(self) -> str:
        return self.engine.source

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def _real_name(self, name: str) -> str | None:
        return next((s for s in self.sheet_names if s.lower() == name.lower()), None)

    def sheet(self, name: str) -> _SheetRecorder:
        real = self._real_name(name)
        if real is None:
            raise InputError("no such sheet", file=self.path or None, value=name,
                             expected="one of " + ", ".join(repr(n) for n in self.sheet_names))
        if real in self._owned:
            raise InputError("this sheet is rebuilt by replace_sheet; put its cells in the SheetSpec",
                             file=self.path or None, sheet=real)
        return _SheetRecorder(self, real)

    def replace_sheet(self, name: str, spec, *, position: int | None = None) -> None:
        if callable(spec) and not hasattr(spec, "cells"):
            spec = spec()
        if not hasattr(spec, "cells"):
            raise InputError("replace_sheet needs a SheetSpec", sheet=name, value=type(spec).__name__)
        self._owned[self._real_name(name) or name] = (spec, position)

    def add(self, plan: Iterable[CellWrite]) -> None:
        """Record a ready-made write plan (checked now, applied at :meth:`save`)."""
        for w in plan:
            parse_cell(w.cell)
            self._plan.append(w)

    def set_custom_property(self, name: str, value) -> None:
        self._props[name] = value

    def get_custom_property(self, name: str, default=None):
        if name in self._props:
            return self._props[name]
        try:  # Windows: the workbook's custom document properties through COM
            return self.book.api.CustomDocumentProperties(name).Value
        except Exception:  # noqa: BLE001 - absent property, macOS, or a stand-in book
            return default

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- applying ----------------------------------------------------------------------------
    def save(self, path=None) -> str:
        """Apply everything recorded to the open book (the user saves it in Excel)."""
        if path is not None:
            raise InputError("an open workbook is written in place; save it from Excel", value=str(path))
        plan = list(self._plan)
        for name, (spec, _position) in self._owned.items():
            plan.extend(self._owned_cells(name, spec))
        missing = {w.sheet for w in self._plan} - set(self.sheet_names)
        if missing:
            raise InputError("the write plan names a sheet the workbook does not have", file=self.path or None,
                             value=sorted(missing)[0])
        app = getattr(self.book, "app", None)
        saved = _pause(app)
        undo = self._snapshot(plan)
        try:
            for name, (spec, position) in self._owned.items():
                self._prepare_owned(name, spec, position)
            self.cells_written = self.engine.apply(plan)
            self._apply_styles(plan)
            for (sheet, letter), width in sorted(self._widths.items()):
                self._sheet(sheet).range(f"{letter}:{letter}").column_width = width
            self._apply_props()
        except BaseException:
            self._restore(undo)
            raise
        finally:
            _resume(app, saved)
        return self.path

    # -- all or nothing ---------------------------------------------------------------------
    def _snapshot(self, plan: list[CellWrite]) -> list[tuple]:
        """What a failed save puts back: the contents (formula-bar text) of every rectangle
        about to be written, the used range of owned sheets that exist, and which sheets are new.
        Formats and styles are not put back."""
        undo: list[tuple] = []
        existing = set(self.sheet_names)
        owned = set(self._owned)
        for name in owned:
            real = self._real_name(name)
            if real is None:
                undo.append(("added", name, None, None))
            else:
                used = self._sheet(real).used_range
                undo.append(("owned", real, used.address, _grid(used.formula)))
        for w in group_writes([w for w in plan if w.sheet in existing and w.sheet not in owned]):
            rng = self._sheet(w.sheet).range(w.ref)
            undo.append(("cells", w.sheet, w.ref, _grid(rng.formula)))
        return undo

    def _restore(self, undo: list[tuple]) -> None:
        for kind, sheet, ref, contents in reversed(undo):
            try:
                if kind == "added":
                    real = self._real_name(sheet)
                    if real is not None:
                        self._sheet(real).delete()
                    continue
                target = self._sheet(sheet)
                if kind == "owned":
                    target.clear_contents()
                target.range(ref).formula = contents if len(contents) > 1 or len(contents[0]) > 1 else contents[0][0]
            except Exception:  # noqa: BLE001 - put back as much as possible, then report the first error
                continue

    def _sheet(self, name: str):
        return next(s for s in self.book.sheets if s.name == name)

    def _owned_cells(self, name: str, spec) -> list[CellWrite]:
        out = []
        for c in spec.cells:
            formula = None if c.formula is None else "=" + c.formula.lstrip("=")
            out.append(CellWrite(name, c.ref, c.value, formula=formula, style=c.style))
        for col, width in dict(getattr(spec, "col_widths", {}) or {}).items():
            letter = col_letter(col) if isinstance(col, int) else str(col).upper()
            self._widths[(name, letter)] = float(width)
        return out

    def _prepare_owned(self, name: str, spec, position: int | None) -> None:
        """A clean sheet for an owned-sheet spec: contents cleared if it exists, added if not.

        Formats, conditional formats and charts stay: this engine does not draw charts or
        rules live, and those a file fill made point at the same cells, so they show the new
        values."""
        real = self._real_name(name)
        if real is not None:
            self._sheet(real).clear_contents()
        else:
            sheets = self.book.sheets
            if position is not None and 0 <= position < len(list(sheets)):
                sheets.add(name, before=list(sheets)[position])
            else:
                sheets.add(name, after=list(sheets)[-1])
        for m in getattr(spec, "merged", ()):
            self._sheet(name).range(m).merge()
        if getattr(spec, "charts", ()) or getattr(spec, "conditional_formats", ()):
            self.skipped.append(f"charts and conditional formats of sheet '{name}' are kept as they were; "
                                "run `reviewkit fill` on the saved file to redraw them")

    def _apply_styles(self, plan: list[CellWrite]) -> None:
        """Fill colour, bold/italic, font colour and wrapping: one call per rectangle of cells
        sharing one attribute value (not per whole style, which would split rectangles)."""
        latest: dict[tuple[str, int, int], object] = {}
        for w in plan:
            if w.style is not None:
                r, c = parse_cell(w.cell)
                latest[(w.sheet, r, c)] = w.style
        by_look: dict[tuple[str, str, object], dict[tuple[int, int], object]] = defaultdict(dict)
        for (sheet, r, c), style in latest.items():
            for attr, value in _looks(style):
                by_look[(sheet, attr, value)][(r, c)] = value
        for (sheet, attr, value), cells in by_look.items():
            for r0, c0, r1, c1 in _rectangles(cells):
                rng = self._sheet(sheet).range(range_ref(r0, c0, r1, c1))
                try:
                    target = rng.font if attr.startswith("font.") else rng
                    setattr(target, attr.split(".", 1)[-1], value)
                except Exception:  # noqa: BLE001 - an Excel without this property: keep going
                    self.skipped.append(f"{attr} on {sheet}!{range_ref(r0, c0, r1, c1)}")

    def _apply_props(self) -> None:
        for name, value in self._props.items():
            try:
                props = self.book.api.CustomDocumentProperties
                try:
                    props(name).Value = plain(value)
                except Exception:  # noqa: BLE001 - not there yet: add it (4 = msoPropertyTypeString)
                    props.Add(name, False, 4, str(value))
            except Exception:  # noqa: BLE001 - macOS or a stand-in: no custom properties live
                self.skipped.append(f"custom property {name}")


def _grid(contents) -> list[list]:
    """xlwings gives one cell as a scalar and a range as rows; always rows."""
    if isinstance(contents, (list, tuple)):
        rows = list(contents)
        if rows and not isinstance(rows[0], (list, tuple)):
            return [rows]
        return [list(r) for r in rows]
    return [[contents]]


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    h = color.lstrip("#")[-6:]
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _looks(style) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    if getattr(style, "fill", None):
        out.append(("color", _hex_to_rgb(style.fill)))
    if getattr(style, "bold", False):
        out.append(("font.bold", True))
    if getattr(style, "italic", False):
        out.append(("font.italic", True))
    if getattr(style, "font_color", None):
        out.append(("font.color", _hex_to_rgb(style.font_color)))
    if getattr(style, "wrap", False):
        out.append(("wrap_text", True))
    return out

