"""Plan and execution: plan checks, progress tracking, results review, next-year split, timeline.

Pure pandas functions over the model's plan tables (canonical column keys, dates as
Timestamps); ``reviewkit.planning.sheet`` turns the timeline into live Excel content.
"""
from .checks import check_actions, check_plan, check_risks
from .progress import track_progress
from .quarters import decimals_of, seasonality, split_quarters
from .results import budget_roi, results_review
from .sheet import TimelineLayout, review_timeline, timeline_sheet, write_timeline
from .timeline import GanttGrid, conflicts, gantt, holiday_dates, networkdays

__all__ = ["GanttGrid", "TimelineLayout", "budget_roi", "check_actions", "check_plan", "check_risks", "conflicts",
           "decimals_of", "gantt", "holiday_dates", "networkdays", "results_review", "review_timeline",
           "seasonality", "split_quarters", "timeline_sheet", "track_progress", "write_timeline"]
