"""What an import does to the table: which rows are added, updated or cleared (``append``,
``replace``, ``upsert`` by the table's key), and the cells, growth and saved mapping recorded
with the lossless editor. ``ImportResult`` says what was (or would be) done.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import model
from ..errors import InputError, Problem, ValidationError
from ..reading.values import CellColumn, is_blank
from .mapping import MAP_SETTING, MAP_SETTING_RE


#: which columns identify a row in ``upsert`` mode, the first set the source has all of
UPSERT_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Scorecard": (("unit", "kpi"),), "NextYear": (("unit", "kpi"),), "KPIs": (("key",),),
    "Progress": (("task_id",), ("milestone", "owner")), "Plan": (("task_id",), ("task", "owner")),
    "Actions": (("item", "owner"), ("item",)), "Causes": (("unit", "kpi", "kind"),),
    "Results": (("goal",),), "KeepStopStart": (("decision", "item"),), "Risks": (("risk",),),
    "Budget": (("category",),), "Campaigns": (("name",),),
}


@dataclass
class ImportResult:
    """What an import did (or, with ``dry_run``, would do) to one table."""

    path: Path
    table: str
    mode: str
    sources: list[str]
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    cleared: int = 0
    skipped: int = 0
    mapped: list[tuple[str, str, str]] = field(default_factory=list)  # (source header, target, how)
    unmapped: list[tuple[str, str | None]] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    map_saved: bool = False

    def __str__(self) -> str:
        verb = "would change" if self.dry_run else ("imported into" if self.written else "no change to")
        lines = [f"{verb} table {self.table} of {self.path.name} ({self.mode}): {self.rows_read} source row(s); "
                 f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.kept} kept"
                 + (f", {self.cleared} cleared" if self.cleared else "")
                 + (f", {self.skipped} bad row(s) skipped" if self.skipped else "")]
        if self.mapped:
            lines.append("  columns: " + ", ".join(f"{s} → {t}" + ("" if how in ("header", "existing") else f" ({how})")
                                                   for s, t, how in self.mapped))
        if self.new_columns:
            lines.append("  new columns: " + ", ".join(self.new_columns))
        for h, key in self.unmapped:
            lines.append(f"  not imported: '{h}'" + (f" (perhaps --map \"{h}={key}\")" if key else
                                                     " (no matching column; --map \"列=key\" to import it)"))
        for p in self.problems:
            lines.append(f"  {p.severity}: {p}")
        if self.map_saved:
            lines.append("  mapping saved in the Settings table")
        return "\n".join(lines)


def cell_value(v):
    if v is None:
        return None
    if isinstance(v, float):
        return None if v != v else v
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).date()
    if isinstance(v, pd.Timestamp):
        return v.date()
    if v is pd.NaT:
        return None
    return v


def _column_cells(spec: model.TableSpec, name: str, series: pd.Series, lang: str, measures: set[str]):
    """What goes into the cells of one column: numbers (a float array, NaN blank), dates, text,
    drop-down labels (object arrays, None blank)."""
    col = spec.column(name) if name in {c.key for c in spec.columns} else None
    arr = series.to_numpy()
    if arr.dtype.kind == "f":
        return arr.astype("float64", copy=True)
    if arr.dtype.kind == "M":
        days = arr.astype("datetime64[D]")
        return [None if np.isnat(d) else d.item() for d in days]
    cells = CellColumn(list(arr))  # each distinct value converted once
    conv = []
    for u in cells.uniques:
        if col is not None and col.kind == model.CHOICE:
            u = next((ch.label(lang) for ch in col.choices if ch.key == u), u)
        elif spec is model.FACTS and name == "period" and isinstance(u, str):
            try:
                p = pd.Period(u)
                u = p.to_timestamp().date() if p.freqstr == "D" else u
            except ValueError:
                pass
        conv.append(cell_value(u))
    return cells.take(conv)


def _key_text(v) -> str:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return ""
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return v.date().isoformat()
    if isinstance(v, np.datetime64):
        return "" if np.isnat(v) else str(v.astype("datetime64[D]"))
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return model.normalize_header(v) if isinstance(v, str) else str(v)


def _same(a, b) -> bool:
    a, b = cell_value(a), cell_value(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    return _key_text(a) == _key_text(b) if isinstance(a, (dt.date, float)) or isinstance(b, (dt.date, float)) \
        else str(a) == str(b)


@dataclass
class _RowPlan:
    updates: list[tuple[int, int]]  # (frame row, sheet row)
    appends: list[int]  # frame rows to add
    clear: list[int]  # sheet rows to blank (replace mode)
    start: int  # first sheet row of the appended rows


def plan_rows(job, spec, layout: model.TableLayout, table, new_df: pd.DataFrame, targets: list[str],
               mode: str, frames, result: ImportResult) -> _RowPlan:
    rows = list(layout.rows)
    n = len(new_df)
    if mode == "replace":
        start = layout.first_row
        updates = []
        result.added = n
        clear = [r for r in rows if r >= start + n]
        result.cleared = len(clear)
        return _RowPlan(updates, list(range(n)), clear, start)
    start = (max(rows) + 1) if rows else layout.first_row
    if mode == "append":
        result.added, result.kept = n, len(rows)
        return _RowPlan([], list(range(n)), [], start)
    key_cols = next((k for k in UPSERT_KEYS.get(spec.name, ()) if all(c in targets for c in k)), None)
    if spec is model.FACTS:
        dims = [t for t in targets if t not in {m for conv, _, _ in frames for m in conv.measures}]
        key_cols = tuple(dims) if {"period", "unit"} <= set(dims) else None
    if key_cols is None:
        options = " or ".join("+".join(k) for k in UPSERT_KEYS.get(spec.name, ())) or "period+unit+dimensions"
        raise InputError(f"upsert needs the key columns of table '{spec.name}' in the source", value=targets,
                         expected=f"columns {options} (or use --append / --replace)")
    old = job.review.tables[spec.name]
    old_keys = {}
    for pos, key in enumerate(zip(*[old[c].tolist() if c in old.columns else [None] * len(old) for c in key_cols])):
        old_keys.setdefault(tuple(_key_text(v) for v in key), pos)
    seen: dict[tuple, int] = {}
    dups = []
    updates, appends = [], []
    new_lists = [new_df[c].tolist() for c in key_cols]
    for i, key in enumerate(zip(*new_lists)):
        k = tuple(_key_text(v) for v in key)
        if k in seen:
            dups.append((seen[k], i, k))
            continue
        seen[k] = i
        if k in old_keys:
            updates.append((i, rows[old_keys[k]]))
        else:
            appends.append(i)
    if dups:
        first, second, k = dups[0]
        raise ValidationError([Problem(result.sources[0], None, None,
                                       f"rows {first + 1} and {second + 1} of the imported rows have the same key "
                                       f"({'+'.join(key_cols)} = {' / '.join(k)})", None,
                                       "one row per key in upsert mode")
                               for first, second, k in dups[:20]])
    matched = {old_keys[k] for k in seen if k in old_keys}
    result.kept = len(rows) - len(matched)
    result.added = len(appends)
    # which updates change something
    pos_of_row = {r: p for p, r in enumerate(rows)}
    changed = 0
    lists = {c: new_df[c].tolist() for c in targets}
    olds = {c: old[c].tolist() for c in targets if c in old.columns}
    for i, r in updates:
        p = pos_of_row[r]
        if any(c not in olds or not _same(lists[c][i], olds[c][p]) for c in targets):
            changed += 1
    result.updated, result.unchanged = changed, len(updates) - changed
    return _RowPlan(updates, appends, [], start)


def record(job, spec, layout: model.TableLayout, table, new_df: pd.DataFrame, targets: list[str],
            plan: _RowPlan, measures: set[str], result: ImportResult) -> None:
    """Record the cells, the table's growth and the stretched validations with the editor."""
    from ..ooxml.cellref import col_to_num, num_to_col

    ws = job.editor.sheet(layout.sheet)
    r1, c1, r2, c2 = table.box
    last_data = r2 - table.totals_rows
    letters = {k: v for k, v in layout.columns.items()}
    new_cols = [t for t in targets if t not in letters]
    result.new_columns = new_cols
    for k, name in enumerate(new_cols):
        letters[name] = num_to_col(c2 + 1 + k)
    lang = job.lang
    cells = {t: _column_cells(spec, t, new_df[t], lang, measures) for t in targets}
    n_append = len(plan.appends)
    new_last = max(last_data, plan.start + n_append - 1)
    # room below and beside the table
    if new_last > last_data or new_cols:
        _check_room(job, layout.sheet, table, last_data, new_last, len(new_cols))
    style_row = ws.cell_styles(last_data) if last_data >= layout.first_row else {}
    header_styles = ws.cell_styles(layout.header_row)
    last_style = style_row.get(c2)
    styles = {col_to_num(letters[t]): style_row.get(col_to_num(letters[t]), last_style) for t in targets}
    if new_cols:
        ws.write_rows(layout.header_row, {col_to_num(letters[t]): [t] for t in new_cols},
                      styles={col_to_num(letters[t]): header_styles.get(c2) for t in new_cols})
        above = job.grid(layout.sheet)[layout.header_row - 2] if layout.header_row > 1 else []
        role = above[c2 - 1] if len(above) >= c2 else None
        if isinstance(role, str) and role.strip() in ("输入", "input"):  # the template's column roles
            ws.write_rows(layout.header_row - 1, {col_to_num(letters[t]): [role] for t in new_cols},
                          styles={col_to_num(letters[t]): ws.cell_styles(layout.header_row - 1).get(c2)
                                  for t in new_cols})
        for t in new_cols:  # as wide as the template makes an open Facts column
            ws.set_column_width(letters[t], max(10.0, min(30.0, 2.0 * len(t) + 2)))
    all_letters = [num_to_col(c) for c in range(c1, c2 + 1)]
    if plan.clear or (result.mode == "replace"):
        blank_cols = [col_to_num(x) for x in all_letters if x not in {letters[t] for t in targets}]
        for r in plan.clear:
            for c in range(c1, c2 + 1):
                ws.write(f"{num_to_col(c)}{r}", None)
        if blank_cols and n_append:
            rows_with_data = [r for r in layout.rows if plan.start <= r < plan.start + n_append]
            for r in rows_with_data:
                for c in blank_cols:
                    ws.write(f"{num_to_col(c)}{r}", None)
    for i, r in plan.updates:
        for t in targets:
            ws.write(f"{letters[t]}{r}", cell_value(cells[t][i]))
    if n_append:
        idx = plan.appends
        whole = idx == list(range(len(new_df)))
        columns = {col_to_num(letters[t]): (cells[t] if whole else [cells[t][i] for i in idx]) for t in targets}
        formulas = {}
        name_col = {name: c1 + k for k, name in enumerate(table.columns)}
        for name, formula in table.formulas.items():
            c = name_col.get(name)
            if c is not None and c not in columns:
                formulas[c] = formula
                styles.setdefault(c, style_row.get(c))
        blank = [None] * len(idx)
        # the table's other columns formatted like the rows above; not in Facts, where an export
        # brings many rows and the template keeps it plain too (no drop-downs there either)
        for c in range(c1, c2 + 1) if spec is not model.FACTS else ():
            if c not in columns and c not in formulas and style_row.get(c):
                columns[c] = blank
                styles[c] = style_row[c]
        ws.write_rows(plan.start, columns, styles=styles, formulas=formulas)
    if new_last > last_data or new_cols:
        table.grow(new_last, new_cols)
        ws.extend_ranges(c1, c2 + len(new_cols), layout.first_row, new_last)


def _check_room(job, sheet: str, table, last_data: int, new_last: int, n_new: int) -> None:
    r1, c1, r2, c2 = table.box
    grid = job.grid(sheet)
    def look(rows, cols):
        for r in rows:
            if r - 1 >= len(grid):
                return None
            row = grid[r - 1]
            for c in cols:
                if c - 1 < len(row) and not is_blank(row[c - 1]):
                    return r, c, row[c - 1]
        return None
    hit = look(range(r2 + 1, new_last + 1), range(c1, c2 + 1))
    if hit is None and n_new:
        hit = look(range(r1, new_last + 1), range(c2 + 1, c2 + n_new + 1))
    if hit is not None:
        from ..ooxml.cellref import cell_name

        r, c, v = hit
        raise InputError(f"table '{table.name}' cannot grow to hold the imported rows: a cell in the way is not "
                         "empty", file=job.path, sheet=sheet, cell=cell_name(r, c), value=v,
                         expected="empty cells below and right of the table (move what is there)")


def keep_map(job, spec: model.TableSpec, used: dict[str, str]) -> None:
    """Keep the mapping in the Settings table: one row per table, updated in place."""
    layout = job.review.layouts.get("Settings")
    if layout is None or "setting" not in layout.columns or "value" not in layout.columns:
        raise InputError("the workbook has no Settings table to keep the mapping in", file=job.path,
                         expected="a workbook made by `reviewkit new`")
    text = "; ".join(f"{k}={v}" for k, v in used.items())
    name = MAP_SETTING[job.lang].format(table=spec.name)
    df = job.review.tables["Settings"]
    ws = job.editor.sheet(layout.sheet)
    for pos, setting in enumerate(df["setting"].tolist()):
        m = MAP_SETTING_RE.match(str(setting)) if isinstance(setting, str) else None
        if m and m.group(1).lower() == spec.name.lower():
            ws.write(layout.cell("value", pos), text)
            return
    settings_table = job.editor.table("Settings")
    sub = pd.DataFrame({"setting": [name], "value": [text]})
    result = ImportResult(job.path, "Settings", "append", [])
    plan = plan_rows(job, model.SETTINGS, layout, settings_table, sub, ["setting", "value"], "append", [], result)
    record(job, model.SETTINGS, layout, settings_table, sub, ["setting", "value"], plan, set(), result)
