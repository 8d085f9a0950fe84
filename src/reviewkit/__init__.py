"""reviewkit: business reviews (复盘) and next-year plans in Excel.

The analysis functions are plain pandas (DataFrames in, DataFrames out) so they work the
same from Jupyter, the CLI, the batch runner and the in-workbook button.
"""
from __future__ import annotations

from .errors import ReviewkitError

__version__ = "0.1.0"

_ANALYSIS = ("compare", "rank", "OVERALL", "cross_metric", "breakdown", "drilldown", "by_period",
             "campaign_share", "headroom", "conclusions", "closed_loop", "analyse", "achievement",
             "format_value")


_WORKBOOK = {"read_review": "reading", "fill_workbook": "fill",  # name -> module
             "write_tables": "importing", "new": "importing"}


def __getattr__(name: str):
    # The analysis engine and the workbook functions are imported lazily so `import reviewkit`
    # stays fast for the CLI.
    if name in _ANALYSIS:
        from . import analysis

        return getattr(analysis, name)
    if name in _WORKBOOK:
        import importlib

        return getattr(importlib.import_module(f".{_WORKBOOK[name]}", __name__), name)
    raise AttributeError(f"module 'reviewkit' has no attribute {name!r}")


__all__ = ["ReviewkitError", "__version__", *_ANALYSIS, *_WORKBOOK]
