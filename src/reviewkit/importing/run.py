"""``import_sources`` (``reviewkit import``), ``write_tables`` and ``new``: one workbook opened
(``_Job``: read once, edited with the lossless editor), each table imported, one atomic save.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import model
from ..errors import InputError, ValidationError
from ..reading.engine import FileEngine
from ..reading.read import read_tables
from .convert import bad_rows_by_parse, convert, row_of
from .mapping import MAP_SETTING_RE, map_headers, parse_map
from .sources import Source, frame_source, read_source
from .write import ImportResult, keep_map, plan_rows, record


#: ``--table`` names (lower case) → Excel table names
TABLE_CHOICES = {spec.name.lower(): spec.name for spec in model.TABLES if spec.name != "Settings"}
MODES = ("append", "replace", "upsert")


class _Job:
    """One workbook open for importing: its review (read once) and its editor; ``save`` writes once."""

    def __init__(self, path: Path):
        from ..files import Source
        from ..ooxml import WorkbookEditor
        from ..ooxml.package import Package
        self.path = path
        self.source = Source.read(path)  # first: a save after this is caught before the rename
        opened = Package.open(path, data=self.source.data)  # one read: the reader's and the editor's
        self.engine = FileEngine.open(opened)  # the reader's grids, kept for the rows above a table
        self.review, _ = read_tables(self.engine, check=False)
        self.original = self.source.data
        self.editor = WorkbookEditor(opened)
        self.lang = self.review.lang

    def grid(self, sheet: str) -> list:
        return self.engine.grid(sheet)

    def saved_map(self, table: str) -> dict[str, str]:
        df = self.review.tables.get("Settings")
        if df is None or df.empty:
            return {}
        for name, value in zip(df["setting"], df["value"]):
            m = MAP_SETTING_RE.match(str(name)) if isinstance(name, str) else None
            if m and m.group(1).lower() == table.lower() and isinstance(value, str):
                return parse_map(value)
        return {}

    def save(self) -> bool:
        data = self.editor.to_bytes()
        if data == self.original:  # an upsert of an unchanged export: the file is left alone
            return False
        from ..files import write_file

        write_file(self.path, data, source=self.source)  # lock file, read-only, changed meanwhile: refused
        return True


def _import_table(job: _Job, spec: model.TableSpec, sources: list[Source], *, mode: str, user_map: dict[str, str],
                  skip_bad: bool, save_map: bool, dry_run: bool) -> ImportResult:
    if mode not in MODES:
        raise InputError("unknown import mode", value=mode, expected=" / ".join(MODES))
    review, lang = job.review, job.lang
    layout = review.layouts.get(spec.name)
    if layout is None:
        raise InputError(f"the workbook has no Excel Table named '{spec.name}'", file=job.path,
                         expected="a workbook made by `reviewkit new`")
    table = job.editor.table(spec.name)
    result = ImportResult(job.path, spec.name, mode, [s.name for s in sources], dry_run=dry_run)
    existing_names = list(table.columns)
    saved = job.saved_map(spec.name)
    frames, problems = [], []
    used_map: dict[str, str] = {}
    for source in sources:
        mapping = map_headers(spec, source.headers, user_map if len(sources) == 1 else
                              {k: v for k, v in user_map.items()
                               if model.normalize_header(k) in {model.normalize_header(h) for h in source.headers}},
                              saved, existing_names)
        for j, target in sorted(mapping.columns.items()):
            shown = spec.column(target).header(lang) if target in {c.key for c in spec.columns} else target
            entry = (source.headers[j], shown, mapping.how[j])
            if entry not in result.mapped:
                result.mapped.append(entry)
            if mapping.how[j] in ("map", "saved"):
                used_map[source.headers[j]] = target
        for h in mapping.ignored:
            used_map[h] = "-"
        result.unmapped += [u for u in mapping.unmapped if u not in result.unmapped]
        if not mapping.columns:
            raise InputError(f"no column of the source matches a column of table '{spec.name}'", file=source.name,
                             value=source.headers[:8], expected="headers such as " + ", ".join(
                                 c.header(lang) for c in spec.input_columns[:5]) + "; or --map \"来源列=key\"")
        conv = convert(spec, source, mapping, lang, frozenset(review.measures) if spec is model.FACTS else frozenset())
        missing = [c for c in spec.input_columns if c.required and c.key not in conv.targets]
        if missing:
            hint = "; ".join(f"'{h}' → {k}?" for h, k in mapping.unmapped if k) or "none of its columns fits"
            raise InputError(f"the source has no column for the required '{missing[0].header(lang)}' of table "
                             f"'{spec.name}'", file=source.name, value=[h for h, _ in mapping.unmapped] or None,
                             expected=f"a column named '{missing[0].zh}' or '{missing[0].en}', or "
                                      f"--map \"来源列={missing[0].key}\" ({hint})")
        result.rows_read += len(source.where)
        errors = [p for p in conv.problems if p.severity == "error"]
        problems += conv.problems
        df = conv.frame
        if errors and skip_bad:
            bad_rows = {row_of(p, source) for p in errors}
            if None in bad_rows:  # a summarized problem: find the rows by refusal, not by message
                bad_rows = bad_rows_by_parse(conv, source, mapping, spec)
            mask = [i not in bad_rows for i in conv.keep]
            result.skipped += len(mask) - sum(mask)
            df = df[np.array(mask, dtype=bool)].reset_index(drop=True)
            conv.keep = [i for i, k in zip(conv.keep, mask) if k]
        frames.append((conv, df, source))
    result.problems = problems
    errors = [p for p in problems if p.severity == "error"]
    if errors and not skip_bad:
        raise ValidationError(errors)
    targets: list[str] = []
    for conv, _, _ in frames:
        targets += [t for t in conv.targets if t not in targets]
    measures = {m for conv, _, _ in frames for m in conv.measures}
    new_df = pd.concat([df.reindex(columns=targets) for _, df, _ in frames], ignore_index=True) \
        if len(frames) > 1 else frames[0][1].reindex(columns=targets)
    plan = plan_rows(job, spec, layout, table, new_df, targets, mode, frames, result)
    record(job, spec, layout, table, new_df, targets, plan, measures, result)
    if save_map and (used_map or result.unmapped):
        keep_map(job, spec, used_map)
        result.map_saved = True
    return result


def _spec_of(table: str) -> model.TableSpec:
    spec = model.TABLES_BY_NAME.get(TABLE_CHOICES.get(str(table).lower(), str(table)))
    if spec is None or spec is model.SETTINGS:
        raise InputError("unknown table", value=table, expected="one of " + ", ".join(TABLE_CHOICES))
    return spec


def _target(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputError("the workbook does not exist", file=path, expected="a review workbook (reviewkit new FILE)")
    from ..files import check_target

    check_target(path, replace=True)  # open in Excel (a ~$ lock file) or read-only: refused before the work
    return path


def import_sources(sources, into, *, table: str, mode: str = "append", mapping: str | dict | None = None,
                   sheet: str | None = None, source_table: str | None = None, encoding: str | None = None,
                   delimiter: str | None = None, save_map: bool = False, skip_bad: bool = False,
                   dry_run: bool = False) -> ImportResult:
    """Import the files ``sources`` into table ``table`` of the workbook ``into`` (``reviewkit import``).

    Raises ``ValidationError`` listing every bad value (source, row, column) and writes nothing,
    unless ``skip_bad``; ``dry_run`` computes the result without writing.
    """
    spec = _spec_of(table)
    path = _target(into)
    if isinstance(sources, (str, Path)):
        sources = [sources]
    read = [read_source(s, sheet=sheet, table=source_table, encoding=encoding, delimiter=delimiter) for s in sources]
    user = parse_map(mapping) if isinstance(mapping, str) or mapping is None else dict(mapping)
    job = _Job(path)
    try:
        result = _import_table(job, spec, read, mode=mode, user_map=user, skip_bad=skip_bad, save_map=save_map,
                               dry_run=dry_run)
        if not dry_run:
            result.written = job.save()
    finally:
        job.editor.close()
    return result


def write_tables(path, *, mode: str = "append", mapping: dict[str, str | dict] | None = None,
                 skip_bad: bool = False, dry_run: bool = False, **tables: pd.DataFrame) -> list[ImportResult]:
    """Put DataFrames into the tables of the workbook at ``path``: ``write_tables(p, facts=df, scorecard=df2)``.

    Columns are matched like a file's headers (canonical keys such as ``target``, the Chinese or
    English headers, synonyms); ``mapping={"facts": {"月份": "period"}}`` names the rest. Every
    table is written in one atomic save; nothing is written when a value is bad (``skip_bad``
    leaves those rows out). ``mode``: append, replace or upsert.
    """
    target = _target(path)
    job = _Job(target)
    results = []
    try:
        for name, df in tables.items():
            spec = _spec_of(name)
            user = (mapping or {}).get(name) or {}
            user = parse_map(user) if isinstance(user, str) else dict(user)
            results.append(_import_table(job, spec, [frame_source(df, spec.name)], mode=mode, user_map=user,
                                         skip_bad=skip_bad, save_map=False, dry_run=dry_run))
        if not dry_run:
            written = job.save()
            for r in results:
                r.written = written
    finally:
        job.editor.close()
    return results


def new(path, *, preset: str = "sales", lang: str = "zh", tables: dict[str, pd.DataFrame] | None = None,
        overwrite: bool = False, macro: bool = False) -> Path:
    """A new review workbook (``reviewkit new``), with ``tables`` (``{"facts": df, …}``) written in."""
    from ..templates import build_template

    out = build_template(path, preset=preset, lang=lang, macro=macro, overwrite=overwrite)
    if tables:
        write_tables(out, mode="replace", **tables)
    return out
