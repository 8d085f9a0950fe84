"""The fill of a workbook file: the plan applied with the lossless editor, cells typed by hand over
formulas kept, the atomic save (or none when nothing changed), and the stale check."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .. import formulas as F
from .. import model
from ..errors import InputError, ReviewkitError, translate
from ..files import write_file
from ..ooxml import CellStyle
from .build import build_fill_plan
from .plan import FillPlan
from .properties import FILLED_AT_PROPERTY, FINGERPRINT_PROPERTY, OWNED_PROPERTY, fingerprint
from .scorecard import QUARTER_KEYS


@dataclass
class FillResult:
    """What ``fill_workbook`` did; ``str()`` is what the CLI prints."""

    source: Path
    path: Path
    changed: bool
    cells: int
    formulas: int
    sheets: tuple[str, ...]
    fingerprint: str
    filled_at: str | None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    lang: str = "en"  # the workbook's: a zh workbook's result is said in Chinese too
    notes: tuple[str, ...] = ()  # what fill tidied in the inputs (text numbers stored as numbers, …)

    @property
    def status(self) -> str:
        """"filled" or "unchanged" (the batch runner's words)."""
        return "filled" if self.changed else "unchanged"

    def __str__(self) -> str:
        if not self.changed and self.source != self.path:
            head = (f"unchanged: {self.source} already holds these results (fingerprint {self.fingerprint[:12]}); "
                    f"copied it to {self.path}")
        elif not self.changed:
            head = f"unchanged: {self.path} already holds these results (fingerprint {self.fingerprint[:12]})"
        else:
            head = (f"filled {self.path}: {self.cells} computed cells ({self.formulas} live formulas); "
                    f"rebuilt {', '.join(self.sheets)}; fingerprint {self.fingerprint[:12]}")
        lines = [head]
        if self.lang == "zh":  # the first line stays the same in every language (batch reports it)
            lines.append("未改动：工作簿中已是这些结果" if not self.changed else
                         f"已填写：{self.cells} 个计算单元格（其中 {self.formulas} 个公式），"
                         f"重建了 {'、'.join(self.sheets)}")
        lines += list(self.notes) if self.changed else []
        if self.lang == "zh":
            lines += [f"警告：{translate(w, 'zh')}" for w in self.warnings]
        else:
            lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def apply_plan(editor, plan: FillPlan) -> None:
    """Record ``plan`` in an open :class:`reviewkit.ooxml.WorkbookEditor` (nothing is saved)."""
    sheets: dict = {}
    for c in plan.cells:
        ws = sheets.get(c.sheet)
        if ws is None:
            ws = sheets[c.sheet] = editor.sheet(c.sheet)
        style = plan.styles.get((c.sheet, c.cell))
        if style is None and c.number_format:
            style = CellStyle(num_format=c.number_format)
        if c.formula:
            ws.write_formula(c.cell, c.formula, cached=c.value, style=style)
        else:
            ws.write(c.cell, c.value, style=style)
    for r in plan.conditional_formats:
        editor.sheet(r.sheet).set_conditional_formats(owned=list(r.owned), rules=list(r.rules))
    existing = {n.lower() for n in editor.sheet_names}
    ours = _owned_names(editor)
    used = []
    for s in plan.sheets:
        name = s.name
        n = 1
        while name.lower() in existing and name.lower() not in ours:  # a user's sheet: leave it alone
            name = f"{s.name} (reviewkit)" if n == 1 else f"{s.name} (reviewkit {n})"
            n += 1
        used.append(name)
        spec = s.spec
        if s.key == "summary" and getattr(editor, "has_vba_project", False):
            from ..vba import refresh_button  # the Refresh button survives every rebuild of the summary

            spec = dataclasses.replace(spec, buttons=(*spec.buttons, refresh_button(plan.lang, "J2")))
        editor.replace_sheet(name, spec, position=None if name.lower() in existing else s.position)
    editor.set_custom_property(OWNED_PROPERTY, json.dumps(used, ensure_ascii=False))
    for k, v in plan.properties.items():
        editor.set_custom_property(k, v)


_CELL_RE = re.compile(rb'<(?:\w+:)?c\b([^>]*?)(/>|>(.*?)</(?:\w+:)?c>)', re.S)
_REF_RE = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')


def hand_typed_cells(sheet_xml: bytes, layout: model.TableLayout, keys=F.FORMULA_COLUMNS) -> set[str]:
    """Cells of a table's formula columns (``keys``) that hold a value but no formula: typed by hand.

    Fill writes formulas there, so a constant can only be a user's override; it is kept.
    """
    letters = {layout.columns[k] for k in keys if k in layout.columns}
    rows = set(layout.rows)
    out: set[str] = set()
    if not letters or not rows:
        return out
    for m in _CELL_RE.finditer(sheet_xml):
        ref = _REF_RE.search(m.group(1))
        if not ref or ref.group(1).decode() not in letters or int(ref.group(2)) not in rows:
            continue
        body = m.group(3) or b""
        if b"<f" in body or b":f" in body:
            continue
        if re.search(rb"<(?:\w+:)?(v|is)\b[^>]*>\s*[^<\s]", body) or b"<is>" in body and b"<t" in body:
            out.add(f"{ref.group(1).decode()}{int(ref.group(2))}")
    return out


def _owned_names(editor) -> set[str]:
    """Lower-case names of the sheets an earlier fill built in this workbook."""
    raw = editor.get_custom_property(OWNED_PROPERTY)
    if raw:
        try:
            return {str(n).lower() for n in json.loads(str(raw))}
        except ValueError:
            return set()
    if editor.get_custom_property(FINGERPRINT_PROPERTY):  # filled before the list was kept
        return {model.owned_sheet_name(k, lang).lower() for k in ("summary", "breakdown", "peers")
                for lang in model.LANGS}
    return set()


def fill_workbook(path, *, out=None, as_of=None, force: bool = False) -> FillResult:
    """Fill the review workbook at ``path`` (in place, or into ``out``); see the module docstring.

    Any validation error raises ``ValidationError`` listing every problem, and nothing is written.
    An existing ``out`` (or a link) is replaced only with ``force``. In place, the workbook must
    still hold exactly what was read when the result is written (``reviewkit.files``).
    """
    from ..files import Source, check_target
    from ..ooxml.package import Package
    from ..reading import read_review

    t0 = time.perf_counter()
    path = Path(path)
    target = Path(out) if out is not None else path
    if target.suffix.lower() != path.suffix.lower():
        raise InputError("the output must keep the workbook's file type", file=target, value=target.suffix,
                         expected=f"a name ending in {path.suffix}")
    source = Source.read(path)
    check_target(target, replace=force, source=source)  # refuse before the work, not after it
    pkg = Package.open(path, data=source.data)
    review = read_review(pkg)
    return _fill_open(target, review, pkg, as_of, t0, source=source, replace=force)


def fill_if_stale(path, *, force: bool = False) -> FillResult | None:
    """Fill ``path`` in place unless its inputs are unchanged since the last fill; then ``None``.

    What ``reviewkit batch`` does per file: the same as ``is_stale(path)`` followed (when not
    False, or with ``force``) by ``fill_workbook(path)`` — same checks in the same order, same
    errors, same result — but the workbook is opened and read once, not twice. ``path`` may be
    a ``Package`` opened already (``batch`` opens it for ``safety.check`` first).
    """
    from ..files import Source
    from ..ooxml import WorkbookEditor
    from ..ooxml.package import Package
    from ..reading import read_review, read_with_problems

    t0 = time.perf_counter()
    pkg = path if isinstance(path, Package) else Package.open(path)
    if force:  # fill_workbook's order: read, then edit
        review = read_review(pkg)
        return _fill_open(pkg.path, review, pkg, None, t0, source=Source.of(pkg.path, pkg.data))
    editor = WorkbookEditor(pkg)  # is_stale's order: the fingerprint, then read
    stored = editor.get_custom_property(FINGERPRINT_PROPERTY)
    review, problems = read_with_problems(pkg)  # read_review(path, strict=...) without reading twice
    fp = fingerprint(review) if stored else None
    if fp is not None and fp == str(stored):
        return None
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        from ..errors import ValidationError

        raise ValidationError(errors)
    return _fill_open(pkg.path, review, pkg, None, t0, fp, source=Source.of(pkg.path, pkg.data), editor=editor)


def _fill_open(target: Path, review: model.Review, pkg, as_of, t0: float, fp: str | None = None, *,
               source=None, replace: bool = False, editor=None) -> FillResult:
    """``_fill_review``; an error about the workbook says it in the workbook's language."""
    try:
        return _fill_review(target, review, pkg, as_of, t0, fp, source=source, replace=replace, editor=editor)
    except ReviewkitError as exc:
        if exc.lang is None:
            exc.lang = review.lang
        raise


def _fill_review(target: Path, review: model.Review, pkg, as_of, t0: float, fp: str | None = None, *,
                 source=None, replace: bool = False, editor=None) -> FillResult:
    """The fill itself, on ``review`` read from the opened package ``pkg``.

    ``fp``: the review's fingerprint if known. ``source``: the bytes as read from ``pkg.path``
    (a ``reviewkit.files.Source``): an in-place write refuses when the file no longer holds
    them. ``replace``: an existing other ``target`` may be replaced (``fill -o --force``).
    ``editor``: a ``WorkbookEditor`` on ``pkg`` opened already.
    """
    from ..ooxml import WorkbookEditor

    path = pkg.path
    editor = editor if editor is not None else WorkbookEditor(pkg)
    keep: set[str] = set()
    for table, keys in (("Scorecard", F.FORMULA_COLUMNS), ("NextYear", QUARTER_KEYS)):
        layout = review.layouts.get(table)
        if layout is not None and not review.table(table).empty:
            xml = pkg.read(editor.sheet(layout.sheet).part)  # as read: nothing is changed yet
            keep |= {f"{layout.sheet}!{c}" if table != "Scorecard" else c
                     for c in hand_typed_cells(xml, layout, keys)}
    plan = build_fill_plan(review, as_of=as_of, keep=keep, known_fingerprint=fp)
    old_fp = editor.get_custom_property(FINGERPRINT_PROPERTY)
    old_time = editor.get_custom_property(FILLED_AT_PROPERTY)
    apply_plan(editor, plan)
    stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    editor.set_custom_property(FILLED_AT_PROPERTY, stamp)
    data = editor.to_bytes()
    names = tuple(s.name for s in plan.sheets)
    # cheap tests first: a first fill or new inputs always write, without comparing parts
    if old_fp == plan.fingerprint and old_time and _same_parts(pkg):
        if target != path:
            write_file(target, pkg.data, replace=replace)
        return FillResult(path, target, False, len(plan.cells), plan.formulas, names, plan.fingerprint,
                          str(old_time), plan.warnings, time.perf_counter() - t0, plan.lang, plan.notes)
    write_file(target, data, replace=replace, source=source)
    return FillResult(path, target, True, len(plan.cells), plan.formulas, names, plan.fingerprint, stamp,
                      plan.warnings, time.perf_counter() - t0, plan.lang, plan.notes)


def _same_parts(pkg) -> bool:
    """True when ``pkg`` as written has the parts it was read with, docProps/custom aside."""
    before, after = pkg.signature(original=True), pkg.signature()
    custom = {n for n in set(before) | set(after) if n.lower().startswith("docprops/custom")}
    return all(before.get(n) == after.get(n) for n in (set(before) | set(after)) - custom)


def is_stale(path) -> bool | None:
    """True when the inputs changed since the last fill, False when not, None when never filled.

    Reads without validating (a workbook with input errors can still be stale).
    """
    return stale_review(path)[0]


def stale_review(path) -> tuple[bool | None, model.Review | None]:
    """``(is_stale(path), the review read to decide it)``; the review is None when never filled
    (``check`` words its warning in the review's language without reading the file again)."""
    from ..ooxml import WorkbookEditor
    from ..ooxml.package import Package
    from ..reading import read_review

    pkg = Package.open(path)
    stored = WorkbookEditor(pkg).get_custom_property(FINGERPRINT_PROPERTY)
    if not stored:
        return None, None
    review = read_review(pkg, strict=False)
    return fingerprint(review) != str(stored), review
