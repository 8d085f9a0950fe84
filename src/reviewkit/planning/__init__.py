"""Plan and execution: plan checks, progress tracking, results review, next-year split, timeline.

Pure pandas functions over the model's plan tables (canonical column keys, dates as
Timestamps), nothing about Excel: the sheets built from them (the live Gantt sheet, the Execution
sheet) are in ``reviewkit.fill.timeline`` and ``reviewkit.fill.execution``.
"""
from .checks import check_actions, check_plan, check_risks
from .progress import track_progress
from .quarters import decimals_of, seasonality, split_quarters
from .results import budget_roi, results_review
from .timeline import GanttGrid, conflicts, gantt, holiday_dates, networkdays

__all__ = ["GanttGrid", "budget_roi", "check_actions", "check_plan", "check_risks", "conflicts",
           "decimals_of", "gantt", "holiday_dates", "networkdays", "results_review",
           "seasonality", "split_quarters", "track_progress"]
