"""Lossless, package-level editing of existing .xlsx/.xlsm workbooks.

Only the parts reviewkit changes are rewritten; every other zip entry is copied byte for byte.
See docs/writer.md.
"""
from __future__ import annotations

from .cells import ErrorValue
from .editor import SheetNotFoundError, WorkbookEditor
from .package import Limits
from .rules import CellIsRule, Cfvo, ColorScaleRule, DataBarRule, ExpressionRule, IconSetRule, ListValidation
from .spec import Button, Cell, Chart, PageSetup, Series, SheetSpec, waterfall_series
from .styles import CellStyle, DxfStyle
from .worksheet import WorksheetEditor

__all__ = ["WorkbookEditor", "WorksheetEditor", "CellStyle", "DxfStyle", "ErrorValue", "Limits",
           "SheetNotFoundError", "CellIsRule", "ExpressionRule", "ColorScaleRule", "DataBarRule", "IconSetRule",
           "Cfvo", "ListValidation", "SheetSpec", "PageSetup", "Button", "Cell", "Chart", "Series", "waterfall_series"]
