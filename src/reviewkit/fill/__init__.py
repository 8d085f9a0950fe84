"""``reviewkit fill``: the analysis written back into the review workbook.

    read → validate → analyse → build a write plan (plain data) → apply with the lossless
    editor → atomic save

The **write plan** (:class:`FillPlan`, from :func:`build_fill_plan`) is engine-neutral: the
file engine here applies it with :mod:`reviewkit.ooxml`; the xlwings engine applies the same
``plan.cells`` to a workbook open in Excel. Its structure is documented in docs/fill.md.

What a fill writes, and nothing else:

* the **computed columns** of the Scorecard table (grey, beside the inputs): live formulas from
  :mod:`reviewkit.formulas` with the engine's values cached, the conclusion as text;
* **conditional formats** on those columns (IBCS colours direction-aware per KPI, data bars for
  achievement, arrows for rank change, status colours);
* the sheets reviewkit owns (Summary, Breakdown, Peers), rebuilt from scratch every time;
* two custom document properties: ``reviewkit.fingerprint`` (a hash of every input) and
  ``reviewkit.filled_at`` (when the results last changed).

Input cells are never written. Filling twice changes nothing the second time: when every part
would come out byte-identical the file is not saved at all and the result says "unchanged".
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import re
import math
import time
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import formulas as F
from .. import model
from ..analysis._common import total_units
from ..engines.plan import CellWrite
from ..errors import InputError, ReviewkitError, translate
from ..files import write_file
from ..ooxml import (Cell, CellIsRule, CellStyle, Cfvo, Chart, DataBarRule, DxfStyle, IconSetRule, Series,
                    PageSetup, SheetSpec, waterfall_series)
from ..ooxml import numfmt
from ..ooxml.cellref import num_to_col, parse_cell, parse_col
from .words import (_L, MISSING_TEXT, _t)
from .styles import (COMPUTED_FILL, GOOD_FONT, GOOD_FILL, BAD_FONT, BAD_FILL, AMBER_FONT, AMBER_FILL,
                     GREY_FONT, GREY_FILL, HEADER_FILL, HEADER_FONT, SUB_FILL, BAR_COLOR, TITLE_FONT,
                     STATUS_STYLE, STATUS_ORDER, SEVERITY, PCT_SIGNED, PP_SIGNED, ACH_FORMAT, RANK_FORMAT,
                     RANK_CHANGE_FORMAT, DEFAULT_NUMBER, TITLE, SECTION, HEAD, TEXT, WRAP, NOTE, _num_style,
                     _status_rules_cached, _status_rules, _status_rules_new, _arrow_rule, _bar_rule, HUGE,
                     MAX_ROW, TINY, _sign_rules, _sign_rules_cached, _runs, _sqref, _computed_style, _signed,
                     _kpi_format)
from .records import (_blank, _plain, _cached, _object_rows, _records, _index_dicts, _records_by_column)
from .grid import (LINE_WIDTH, _display_width, _WIDTHS, _wrap, _TOKEN_RE, _tokens, _col_letters, _COL_LETTERS,
                   _Grid, PAGE_WIDTH_PT, PAGE_HEIGHT_PT, ROW_PT, _column_pt, _print_scale, _rows_per_page,
                   _page_breaks, _page_setup, _fit_page_setup, _fit_columns, _section, CHART_ROWS)
from .properties import (FINGERPRINT_PROPERTY, FILLED_AT_PROPERTY, OWNED_PROPERTY, FILL_FORMAT, _canonical,
                         fingerprint)
from .analysed import (_Analysis, _skipped, _settings_value, _params, _analyse, _overall_rows)
from .scorecard import (_scorecard_values, _column_format, _scorecard_plan, _sc_ref, _live, _q, QUARTER_KEYS,
                        _next_year_plan)
from .plan import (SheetRules, OwnedSheet, FillPlan)
from .summary import (_SUM_LAST_COL, _SUM_HELP, _SUM_LINE, _pick, _headline, _open_items, _overdue,
                      _summary_page, _summary_sheet)
from .peers import (_PEER_WIDTHS, _PEER_ACROSS, _peers_sheet)
from .breakdown import (_delta, _dim_label, _axis_floor, _BD_VAR, _BD_BRIDGE, _BD_TREE, _BD_HELP_VAR,
                        _BD_HELP_WF, _BD_TREE_ROWS, _BD_HEADROOM_ROWS, _breakdown_sheet)
from .timeline import (_timeline_sheet, TIMELINE_MAX_WEEKS, _timeline_freq)
from .build import (build_fill_plan, _row_col, _tidied_inputs)
from .workflow import (FillResult, apply_plan, _owned_names, _CELL_RE, _REF_RE, hand_typed_cells,
                       _part_signature, _signature, _same_parts, fill_workbook, fill_if_stale, fill_checked,
                       _fill_if_stale, _fill_open, _fill_review, is_stale)
# <moved>

__all__ = ["FillPlan", "FillResult", "OwnedSheet", "SheetRules", "build_fill_plan", "apply_plan",
           "fill_workbook", "fingerprint", "hand_typed_cells", "is_stale", "FINGERPRINT_PROPERTY",
           "FILLED_AT_PROPERTY", "OWNED_PROPERTY"]


