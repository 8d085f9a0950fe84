"""The analysis engine: pure pandas functions, nothing about Excel.

Plain DataFrames in, plain DataFrames out; every output column is documented in
docs/analysis.md. Bad inputs raise :class:`reviewkit.errors.InputError`.
"""
from .analyse import analyse
from .breakdown import breakdown, drilldown
from .compare import achievement, compare
from .conclusions import conclusions, format_value
from .cross import cross_metric
from .headroom import headroom
from .loop import closed_loop
from .periods import by_period, campaign_share
from .rank import OVERALL, rank

__all__ = ["OVERALL", "achievement", "analyse", "breakdown", "by_period", "campaign_share",
           "closed_loop", "compare", "conclusions", "cross_metric", "drilldown", "format_value",
           "headroom", "rank"]
