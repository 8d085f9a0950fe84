"""Analyse a review and say what a fill writes: :func:`build_fill_plan`."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pandas as pd

from .. import model
from ..engines.plan import CellWrite
from ..errors import InputError
from ..ooxml.cellref import parse_col
from .analysed import _analyse, _params, _settings_value, _skipped
from .breakdown import _breakdown_sheet
from .execution import execution_sheet
from .grid import _page_setup
from .peers import _peers_sheet
from .plan import FillPlan, OwnedSheet
from .properties import FINGERPRINT_PROPERTY, fingerprint
from .scorecard import _next_year_plan, _scorecard_plan, _scorecard_values
from .summary import _summary_sheet
from .timeline import _timeline_sheet


def build_fill_plan(review: model.Review, *, as_of=None, lower_rule: str | None = None,
                    cap: float | None = None, keep: frozenset[str] | set[str] = frozenset(),
                    known_fingerprint: str | None = None) -> FillPlan:
    """Analyse ``review`` (as read by ``reviewkit.reading.read_review``) and return what to write.

    ``lower_rule`` / ``cap`` default to the Settings rows of those names, else "linear" / none.
    ``keep``: scorecard cells (``"J7"``) a user typed by hand over a computed formula; they are
    left alone (see :func:`hand_typed_cells`). ``known_fingerprint``: ``fingerprint(review)``
    when the caller has just computed it. Raises InputError when the review lacks what the fill
    needs (a Scorecard layout).
    """
    lang = review.lang if review.lang in model.LANGS else "zh"
    lower_rule = lower_rule or str(_settings_value(review, "lower_rule", "linear")).strip().lower()
    if cap is None and _settings_value(review, "cap") is not None:
        cap = float(_settings_value(review, "cap"))
    if as_of is None:
        as_of = _settings_value(review, "as_of")
    if as_of is not None and not isinstance(as_of, (dt.date, pd.Timestamp)):
        try:
            as_of = pd.Timestamp(str(as_of)).date()
        except ValueError as exc:
            raise InputError("as-of date is not a date", value=as_of, expected="YYYY-MM-DD") from exc
    warnings: list[str] = []
    an = _analyse(review, lang, lower_rule, cap)
    fp = known_fingerprint or fingerprint(review)
    cells, styles, cf = _scorecard_plan(review, an, lang, lower_rule, cap, warnings, keep)
    scvals = []
    for d in an.rows:
        pp = _params(an, d["kpi"]).pp
        scvals.append(_scorecard_values(d, an.ranks.get((d["unit"], d["kpi"])), pp, lang))
    sheets = (
        OwnedSheet("summary", model.owned_sheet_name("summary", lang),
                   _summary_sheet(review, an, lang, fp, as_of or dt.date.today(), scvals), 1),
        OwnedSheet("breakdown", model.owned_sheet_name("breakdown", lang), _breakdown_sheet(review, an, lang), 2),
        OwnedSheet("peers", model.owned_sheet_name("peers", lang), _peers_sheet(review, an, lang, scvals), 3),
    )
    q_cells, q_styles = _next_year_plan(review, warnings, keep)
    cells += q_cells
    styles.update(q_styles)
    timeline = _timeline_sheet(review, lang, as_of, warnings)
    if timeline is not None:
        sheets += (OwnedSheet("timeline", model.owned_sheet_name("timeline", lang), timeline, 4),)
    execution = execution_sheet(review, as_of=as_of, lang=lang, compared=an.compared)
    if execution is not None:
        sheets += (OwnedSheet("execution", model.owned_sheet_name("execution", lang), execution, 5),)
    sheets = tuple(s if s.spec.page_setup is not None else
                   dataclasses.replace(s, spec=dataclasses.replace(s.spec, page_setup=_page_setup(s.spec)))
                   for s in sheets)
    for kpi, reason in _skipped(an):
        warnings.append(f"KPI {kpi} not broken down: {reason}")
    typed, notes = _tidied_inputs(review, lang, keep)
    return FillPlan(cells=tuple(typed + cells), styles=styles, conditional_formats=(cf,) if cf else (),
                    sheets=sheets, properties={FINGERPRINT_PROPERTY: fp}, fingerprint=fp, lang=lang,
                    warnings=tuple(warnings), notes=notes)


def _row_col(ref: str) -> tuple[int, int]:
    m = re.match(r"([A-Z]+)(\d+)$", ref)
    return (int(m.group(2)), parse_col(m.group(1))) if m else (0, 0)


def _tidied_inputs(review: model.Review, lang: str, keep) -> tuple[list[CellWrite], tuple[str, ...]]:
    """Input cells holding a number typed as text ('1,200万', '32%', '7,600'), stored as the
    number the reader read (in the column's unit), and key cells typed with spaces around them,
    trimmed; each cell keeps its style. Excel's formulas skip text numbers (COUNT, SUMPRODUCT)
    and compare keys as they are, so this is what makes the live formulas see what the engine
    sees. Returns the writes and one note per kind ("converted 4 text numbers: …")."""
    from ..reading.messages import say

    out: list[CellWrite] = []
    notes = []
    for found, key in ((review.text_numbers, "converted"), (review.trimmed_keys, "trimmed")):
        writes = [CellWrite(sheet, ref, value, None, None)
                  for sheet, cells in found.items()
                  for ref, value in sorted(cells.items(), key=lambda kv: _row_col(kv[0]))
                  if ref not in keep and f"{sheet}!{ref}" not in keep]
        if writes:
            names = [f"{w.sheet}!{w.cell}" for w in writes]
            shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
            notes.append(say(key, lang, n=len(writes), cells=shown))
            out += writes
    return out, tuple(notes)
