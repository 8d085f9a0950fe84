"""Workbook engines: where a review is read from and where its results are written.

A file on disk is read by ``reviewkit.reading`` and written by ``reviewkit.ooxml``; a workbook
open in Excel is read and written by :mod:`reviewkit.engines.xlwings_engine`. Both sides of
``fill`` speak the same two things:

* reading gives a :class:`reviewkit.model.Review` (tables by canonical key, settings and
  ``layouts``: where each table and column sits), and
* writing takes a **write plan**: a list of :class:`CellWrite` (sheet, cell, value or formula
  with its cached value, number format) that an engine applies.

The plan types live in :mod:`reviewkit.engines.plan` and need nothing but the standard library.
"""
from .plan import CellWrite, RangeWrite, group_formats, group_writes

__all__ = ["CellWrite", "RangeWrite", "group_formats", "group_writes"]
