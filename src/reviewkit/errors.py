"""One error tree for reviewkit.

Every error a user can cause is a ``ReviewkitError``. Its message names where the
problem is (file, sheet, cell), the value found and what was expected, so the CLI
can print it as one line and exit with code 2 instead of showing a traceback.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class ReviewkitError(Exception):
    """Base of every error reviewkit raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None, sheet: str | None = None,
                 cell: str | None = None, value: object = None, expected: str | None = None):
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.cell = cell
        self.value = value
        self.expected = expected
        self.detail = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.file:
            where.append(printable(Path(self.file).name))
        if self.sheet:
            where.append(f"sheet '{self.sheet}'")
        if self.cell:
            where.append(f"cell {self.cell}")
        text = self.detail
        if self.value is not None:
            text += f" (found {self.value!r})"
        if self.expected:
            text += f"; expected {self.expected}"
        return (", ".join(where) + ": " + text) if where else text


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` on one line: control characters (a newline in a file name) shown as ``\\n``,
    ``\\x07``, so an error stays one line."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class WorkbookFormatError(ReviewkitError):
    """The file is not an editable .xlsx/.xlsm: not a zip, truncated, encrypted, strict OOXML, .xls."""


class UnsafeWorkbookError(WorkbookFormatError):
    """The file looks hostile or too large to open safely (zip bomb, entity expansion, bad paths)."""


class WorkbookLockedError(ReviewkitError):
    """Excel has the file open (its ``~$`` lock file is beside it); writing now would fight Excel."""


class InputError(ReviewkitError):
    """A value in the workbook cannot be used: wrong type, unknown key, duplicate row, missing table."""


class MissingDependencyError(ReviewkitError):
    """An optional tool or package (LibreOffice, xlwings with Excel, dask) is not installed."""


@dataclass(frozen=True)
class Problem:
    """One finding of ``reviewkit check``; many are collected before reporting."""

    file: str
    sheet: str | None
    cell: str | None
    message: str
    value: object = None
    expected: str | None = None
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:  # same shape as ReviewkitError messages
        return str(ReviewkitError(self.message, file=self.file, sheet=self.sheet, cell=self.cell,
                                  value=self.value, expected=self.expected))


class ValidationError(InputError):
    """Raised with every problem found at once, so a user fixes them in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__((first.message if first else "invalid input") + more,
                         file=first.file if first else None, sheet=first.sheet if first else None,
                         cell=first.cell if first else None, value=first.value if first else None,
                         expected=first.expected if first else None)
