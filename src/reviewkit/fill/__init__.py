"""``reviewkit fill``: the analysis written back into the review workbook.

    read → validate → analyse → build a write plan (plain data) → apply with the lossless
    editor → atomic save

The **write plan** (:class:`FillPlan`, from :func:`build_fill_plan`) is engine-neutral: the
file engine (:mod:`.workflow`) applies it with :mod:`reviewkit.ooxml`; the xlwings engine applies the same
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

The modules, in the order a fill runs through them:

* :mod:`.workflow` — ``fill_workbook`` / ``fill_if_stale`` / ``is_stale``: read,
  open, keep cells typed by hand (``hand_typed_cells``), ``apply_plan``, save atomically;
* :mod:`.build` — ``build_fill_plan``: analyse, then put the plan together from the modules below;
* :mod:`.analysed` — the review analysed once (:class:`_Analysis`), settings, KPI parameters;
* :mod:`.scorecard` — the Scorecard's computed columns and NextYear's quarterly targets;
* :mod:`.summary`, :mod:`.breakdown`, :mod:`.peers`, :mod:`.timeline` (the live Gantt sheet),
  :mod:`.execution` — the owned sheets;
* :mod:`.grid` — the owned sheets' grid, text widths and page setup; :mod:`.styles` — colours,
  number formats, cell styles, conditional-format rules; :mod:`.words` — the zh/en words;
* :mod:`.plan` — the plan's data types; :mod:`.properties` — the document properties and the
  inputs' ``fingerprint``; :mod:`.records` — plain Python values of cells and frame rows.
"""
from __future__ import annotations

from .build import build_fill_plan
from .plan import FillPlan, OwnedSheet, SheetRules
from .properties import FILLED_AT_PROPERTY, FINGERPRINT_PROPERTY, OWNED_PROPERTY, fingerprint
from .workflow import (FillResult, apply_plan, fill_if_stale, fill_workbook, hand_typed_cells, is_stale,
                       stale_review)

__all__ = ["FillPlan", "FillResult", "OwnedSheet", "SheetRules", "build_fill_plan", "apply_plan",
           "fill_workbook", "fill_if_stale", "fingerprint", "hand_typed_cells", "is_stale", "stale_review",
           "FINGERPRINT_PROPERTY", "FILLED_AT_PROPERTY", "OWNED_PROPERTY"]
