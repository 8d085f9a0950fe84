"""``reviewkit import`` and ``write_tables``: exports and DataFrames into a review workbook's tables.

    read the source (``sources``: CSV / xlsx / 飞书 Bitable JSON / DataFrame) → map its headers to
    the table's columns (``mapping``) → convert every value with the reader (``convert``:
    ``reading.read_tables`` over the source, so numbers, dates, percentages and drop-downs are
    understood exactly as in a workbook) → match rows by the table's key and record the cells with
    the lossless editor (``write``) → one atomic save (``run``)

Nothing is written when a row is bad, unless ``skip_bad``: then the bad rows are left out and
reported. Every problem names the source file, its row and its column. See docs/import.md.
"""
from __future__ import annotations

from .mapping import MAP_SETTING, TOOL_WORDS, Mapping, map_headers, parse_map
from .run import MODES, TABLE_CHOICES, import_sources, new, write_tables
from .sources import Source, frame_source, read_source
from .convert import TOOL_STATES
from .write import UPSERT_KEYS, ImportResult

__all__ = ["ImportResult", "import_sources", "write_tables", "new", "read_source", "frame_source", "Source",
           "TABLE_CHOICES", "MODES", "TOOL_WORDS", "TOOL_STATES", "UPSERT_KEYS", "MAP_SETTING", "Mapping",
           "map_headers", "parse_map"]
