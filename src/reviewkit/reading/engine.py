"""Where the reading loop gets a workbook's sheets, tables and cells: an ``Engine``.

As pandas' ``BaseExcelReader``, an engine only gives what the workbook holds; the one reading
loop (``reading.read.read_tables``) turns it into a ``Review`` for every engine alike. An engine
answers:

* ``source``: the name problems give the workbook (its path);
* ``sheets``: the sheet names in workbook order;
* ``tables``: every Excel Table as a ``TableInfo`` (name, sheet, range, header and totals rows,
  column names), and ``table(name)`` finds one by name, case-insensitively as Excel does;
* ``date1904``: whether serial numbers count from 1904-01-01;
* ``grid(sheet)``: the sheet's cells as rows from A1 (lists; blank cells '' or None, numbers
  as ``float``, dates as ``datetime``, text as ``str``), cached values of formula cells included;
* ``errors(sheet)``: cells holding an Excel error, ``{'D4': '#N/A'}`` (default: none);
* ``merged(sheet)``: the sheet's merged ranges, ``['A5:A6']`` (default: none).

``FileEngine`` reads a file (the safe zip package for the tables, python-calamine for the
cells: it measured fastest, ``benchmarks/bench_read.py``); ``engines.xlwings_engine.OpenBook``
reads a workbook open in Excel; the importer reads a CSV/xlsx/JSON source through a
one-table engine of its own.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import WorkbookFormatError
from ..ooxml.package import Package
from .package import TableInfo, WorkbookTables, find_tables

__all__ = ["Engine", "FileEngine"]


class Engine:
    """The reading loop's view of a workbook (see the module docstring).

    A subclass sets ``sheets`` and ``tables`` (and ``source``, ``date1904`` where they apply)
    and implements ``grid``; ``errors`` and ``merged`` default to none.
    """

    source: str = ""
    date1904: bool = False
    sheets: list[str]
    tables: list[TableInfo]

    def table(self, name: str) -> TableInfo | None:
        """The Excel Table named ``name`` (Excel names are case-insensitive), or None."""
        low = name.lower()
        return next((t for t in self.tables if t.name.lower() == low), None)

    def grid(self, sheet: str) -> list[list]:
        raise NotImplementedError

    def errors(self, sheet: str) -> dict[str, str]:
        return {}

    def merged(self, sheet: str) -> list[str]:
        return []


class FileEngine(Engine):
    """A workbook file: its checked zip package (tables, error cells, merged ranges) and
    python-calamine's cell values. Grids are read once per sheet and kept with the engine."""

    def __init__(self, pkg: WorkbookTables, source: str = ""):
        self.pkg = pkg
        self.source = source
        self.sheets = pkg.sheets
        self.tables = pkg.tables
        self.date1904 = bool(pkg.date1904)
        self._wb = None
        self._grids: dict[str, list[list]] = {}
        self._errors: dict[str, dict[str, str]] = {}

    @classmethod
    def open(cls, source: str | Path | Package) -> FileEngine:
        """Open ``source``, a path or an opened ``Package`` (``WorkbookFormatError`` or
        ``UnsafeWorkbookError`` when it is not a usable, safe workbook)."""
        return cls(find_tables(source), str(getattr(source, "path", source)))

    def table(self, name: str) -> TableInfo | None:
        return self.pkg.table(name)

    def grid(self, sheet: str) -> list[list]:
        if sheet not in self._grids:
            import io

            from python_calamine import CalamineWorkbook

            try:
                if self._wb is None:
                    self._wb = CalamineWorkbook.from_filelike(io.BytesIO(self.pkg.data))
                self._grids[sheet] = self._wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except Exception as exc:  # noqa: BLE001 - calamine raises several unrelated types
                raise WorkbookFormatError(f"the cells of the sheet cannot be read ({exc})",
                                          file=self.pkg.path, sheet=sheet,
                                          expected="an undamaged .xlsx; save it again in Excel") from None
        return self._grids[sheet]

    def errors(self, sheet: str) -> dict[str, str]:
        """Excel error cells of ``sheet`` (calamine returns them blank)."""
        if sheet not in self._errors:
            self._errors[sheet] = self.pkg.error_cells(sheet)
        return self._errors[sheet]

    def merged(self, sheet: str) -> list[str]:
        return self.pkg.merged_cells(sheet)
