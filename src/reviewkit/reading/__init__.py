"""Reading review workbooks into a ``model.Review``: ``read_review``, ``read_with_problems`` and
``check_files`` (``reviewkit check``).

The modules, in the order a read runs through them:

* ``engine``: where sheets, tables and cells come from (``Engine``; ``FileEngine`` for a file,
  ``engines.xlwings_engine.OpenBook`` for a workbook open in Excel);
* ``package``: the safe zip package behind ``FileEngine`` (workbook.xml → tables);
* ``read``: the public functions and the one reading loop, ``read_tables(engine)``;
* ``table``: one Excel Table into a DataFrame (``TableReader``);
* ``values``: cell values into typed columns, parsed once per distinct value;
* ``links``: settings, KPI units and the links between tables, once every table is read;
* ``validate``: checks across rows and tables; ``messages``: their words in zh and en.

The names below are imported on first use, so ``reviewkit.reading.package`` stays light.
"""
from __future__ import annotations

_PUBLIC = {"read_review": "read", "read_with_problems": "read", "read_tables": "read",
           "check_files": "read", "REQUIRED_TABLES": "read", "MAX_PROBLEMS_PER_COLUMN": "read",
           "Engine": "engine", "FileEngine": "engine", "validate": "validate"}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'reviewkit.reading' has no attribute {name!r}")
