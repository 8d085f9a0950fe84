"""The analysis engine: pure pandas functions, nothing about Excel.

Plain DataFrames in, plain DataFrames out; every output column is documented in
docs/analysis.md. Bad inputs raise :class:`reviewkit.errors.InputError`.
"""
from .breakdown import breakdown, drilldown
from .compare import achievement, compare
from .headroom import headroom
from .periods import by_period, campaign_share
from .rank import OVERALL, rank

__all__ = ["OVERALL", "achievement", "breakdown", "by_period", "campaign_share", "compare",
           "drilldown", "headroom", "rank"]
