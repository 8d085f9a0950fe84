"""What ``rollup`` reports: the :class:`RollupReport` the command prints and the status sheet it
adds to the company workbook, both in the workbook's language."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import model
from ..messages import pick
from .consolidate import Drift
from .submissions import Submission
from .words import label, say

STATUS_SHEET = ("汇总状态", "Rollup status")


@dataclass
class RollupReport:
    out: Path | None
    submissions: list[Submission]
    drift: list[Drift]
    company: model.Review | None = None
    not_submitted: list[str] = field(default_factory=list)
    ranking: pd.DataFrame | None = None
    compared: pd.DataFrame | None = None
    loop_gaps: pd.DataFrame | None = None  # red KPIs lacking a cause or an action
    #: (kpi, dimension) -> the company's change of that KPI broken down by unit or a Facts dimension
    breakdowns: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    fill_summary: str = ""

    @property
    def by_unit(self) -> dict[str, pd.DataFrame]:
        """kpi -> the company's change broken down by unit (department)."""
        return {k: df for (k, dim), df in self.breakdowns.items() if dim == "unit"}

    @property
    def refused(self) -> list[Submission]:
        return [s for s in self.submissions if s.status == "refused"]

    @property
    def stale(self) -> list[Submission]:
        return [s for s in self.submissions if s.status != "refused" and s.stale is not False]

    @property
    def exit_code(self) -> int:
        return 1 if self.refused else 0

    @property
    def lang(self) -> str:
        """The company workbook's language (English when nothing could be read)."""
        return self.company.lang if self.company is not None else "en"

    def render(self, lang: str | None = None) -> str:
        """What the command prints, in ``lang`` (default: the company workbook's)."""
        lang = lang or self.lang
        sep = say("list_sep", lang)
        ok = [s for s in self.submissions if s.status != "refused"]
        lines = [say("head", lang, ok=len(ok), n=len(self.submissions),
                     into=say("into", lang, out=self.out) if self.out else "")]
        for s in self.submissions:
            reason = _reason(s, lang)
            lines.append(say("file", lang, status=label(s.status, lang), name=s.path.name,
                             unit=say("unit", lang, unit=s.unit) if s.unit else "",
                             reason=say("reason", lang, reason=reason) if reason else ""))
        if self.drift:
            lines.append(say("drift_head", lang, n=len(self.drift)))
            lines += [f"  {d.render(lang)}" for d in self.drift]
        if self.not_submitted:
            lines.append(say("not_submitted_line", lang, units=sep.join(self.not_submitted)))
        if self.stale:
            lines.append(say("stale_line", lang, files=sep.join(
                say("stale_file", lang, name=s.path.name, why=label(_stale_why(s), lang)) for s in self.stale)))
        if self.loop_gaps is not None and len(self.loop_gaps):
            lines.append(say("gaps_head", lang))
            lines += [say("gap", lang, unit=r.unit, kpi=r.name if lang == "zh" else r.kpi,
                          missing=label(r.missing, lang)) for r in self.loop_gaps.itertuples(index=False)]
        if self.fill_summary:
            fill = self.fill_summary.splitlines()
            lines.append(fill[1] if lang == "zh" and len(fill) > 1 else fill[0])
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render("en")


def _stale_why(s: Submission) -> str:
    return "never filled" if s.stale is None else "inputs changed"


def _reason(s: Submission, lang: str) -> str:
    """Why a file was refused (or what is wrong with it), in ``lang``."""
    return s.reason_zh if lang == "zh" and s.reason_zh else s.reason


def status_sheet(report: RollupReport, lang: str):
    """The ``汇总状态`` / ``Rollup status`` sheet as an ``ooxml.SheetSpec``: one table per part of the
    report, the reason column wrapped so that the sheet prints one page wide."""
    from ..fill.grid import _Grid, _section
    from ..fill.styles import HEAD, SECTION, TEXT, TITLE, WRAP, _num_style
    from ..fill.words import MISSING_TEXT

    g = _Grid()
    styles = [TEXT, TEXT, TEXT, _num_style("#,##0"), WRAP]

    def line(values):
        g.line([v[:2000] if isinstance(v, str) else v for v in values], styles[:len(values)])

    def section(key, headers=()):
        g.skip()
        _section(g, say(key, lang), len(styles))
        if headers:
            g.line([say(h, lang) if h else None for h in headers], HEAD)

    g.put(1, say("title", lang), TITLE)
    g.skip(2)
    g.line([say(h, lang) for h in ("h_file", "h_unit", "h_status", "h_rows", "h_reason")], HEAD)
    for s in report.submissions:
        line([s.path.name, s.unit or None, label(s.status, lang), sum(s.rows.values()), _reason(s, lang) or None])
    gaps = report.loop_gaps if report.loop_gaps is not None else pd.DataFrame()
    parts = [
        ("drift_title", ("h_file", "h_table", "h_kind", "", "h_detail"),
         [[Path(d.file).name, d.table_name(lang), kind, None, detail]
          for d in report.drift for kind, detail in [d.say(lang)]]),
        ("not_submitted", (), [[u] for u in report.not_submitted]),
        ("stale", (), [[s.path.name, s.unit or None, label(_stale_why(s), lang)] for s in report.stale]),
        ("gaps", (), [[r.unit, r.name, pick(lang, *MISSING_TEXT.get(r.missing, (r.missing, r.missing))), None,
                       None if lang == "zh" else r.detail] for r in gaps.itertuples(index=False)]),
    ]
    for key, headers, rows in parts:
        section(key, headers)
        for values in rows or [[say("none", lang)]]:
            line(values)
    widths = g.fit_widths({"A": (10, 30), "B": (8, 20), "C": (8, 36), "D": (8, 10), "E": (12, 80)},
                          skip=(TITLE, SECTION))
    return g.spec(widths, tab="#C00000", fit_rows=True)
