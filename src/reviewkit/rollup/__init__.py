"""``reviewkit rollup``: departmental workbooks consolidated into one company workbook.

    read every file (safely, never stopping at a bad one) → find schema drift against the
    majority → consolidate → rank, compare, closed loop → build the company workbook with
    ``templates.build_workbook`` → ``fill_workbook`` (Summary, Breakdown, Peers) → add the
    ``汇总状态`` / ``Rollup status`` sheet → rename into place (atomic)

**Nothing is dropped silently.** Every file gets a status (``ok``, ``drift`` or ``refused`` with
the reason); every difference from the majority of files is one ``Drift`` row (the kinds are
listed in :mod:`.consolidate`). The work is split by concern:

* :mod:`.submissions` — reading each file (``read_submission``), its unit and custom properties;
* :mod:`.consolidate` — schema drift against the majority and the company ``Review``;
* :mod:`.report` — the report the command prints and the status sheet, in the workbook's language;
* this module — the command: find the files, consolidate, analyse, write the company workbook.

The company workbook has the consolidated Settings, KPIs, Scorecard, Facts, Causes, Actions,
NextYear and Campaigns tables. Departmental Plan/Progress/Results/KeepStopStart/Risks/Budget
tables are not merged (task ids collide across departments; each department owns its plan).
With ``previous``, last year's actuals for the ranking come from last year's rollup.
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import model
from ..analysis._common import text as _text
from ..errors import InputError, ReviewkitError
from ..files import check_target
from .consolidate import KPI_FIELDS, UNIT_TABLES, Drift, _apply_previous, consolidate
from .report import STATUS_SHEET, RollupReport, status_sheet
from .submissions import CHECKED_TABLES, ROLLUP_PROPERTY, Submission, custom_properties, read_submission

__all__ = ["CHECKED_TABLES", "KPI_FIELDS", "ROLLUP_PROPERTY", "STATUS_SHEET", "UNIT_TABLES", "Drift", "RollupReport",
           "Submission", "consolidate", "custom_properties", "read_submission", "rollup_workbooks"]


def _expected_units(expected) -> list[str]:
    if expected is None:
        return []
    if isinstance(expected, (str, os.PathLike)):
        p = Path(expected)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"cannot read the list of expected units ({exc.strerror or exc})", file=p,
                             expected="a text file, one unit a line") from None
        except UnicodeDecodeError as exc:
            raise InputError("the list of expected units is not UTF-8 text", file=p,
                             value=exc.object[max(exc.start - 4, 0):exc.start + 4],
                             expected="a UTF-8 text file, one unit a line (save it as UTF-8 text)") from None
        if "\x00" in text:
            raise InputError("the list of expected units is not a text file", file=p,
                             expected="a UTF-8 text file, one unit a line (save it as UTF-8 text)")
        return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [str(u).strip() for u in expected if str(u).strip()]


def _read_all(files: list[Path], jobs: int | None) -> list[Submission]:
    """``read_submission`` for every file, in worker processes when there are many."""
    from ..batch import _mp_context, default_jobs, watch_parent

    n = min(jobs or default_jobs(), len(files))
    if n <= 1 or len(files) < 8:
        return [read_submission(f) for f in files]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=n, mp_context=_mp_context(("pandas", "reviewkit.rollup")),
                             initializer=watch_parent, initargs=(os.getpid(),)) as ex:
        return list(ex.map(read_submission, files, chunksize=4))


def rollup_workbooks(paths, out: str | os.PathLike | None, *, previous: str | os.PathLike | None = None,
                     expected=None, overwrite: bool = False, jobs: int | None = None) -> RollupReport:
    """Read every departmental workbook under ``paths`` and write the company workbook ``out``.

    ``previous``: last year's company rollup (rank changes; who is expected). ``expected``: a
    text file (one unit a line) or a list of units that should have submitted. ``out=None``
    computes the report without writing. Raises only when nothing at all can be consolidated or
    ``out`` cannot be written; bad files are reported in ``RollupReport.submissions``.
    """
    from ..analysis import breakdown, compare, rank
    from ..analysis.loop import closed_loop
    from ..batch import find_workbooks

    target = Path(out) if out is not None else None
    if target is not None:
        if target.suffix.lower() != ".xlsx":
            raise InputError("the company workbook must be an .xlsx", file=target, value=target.suffix,
                             expected="a name ending in .xlsx")
        if os.path.lexists(target) and not overwrite and not target.is_dir():
            raise ReviewkitError("the company workbook already exists", file=target,
                                 expected="a new file name, or --force to overwrite")
        check_target(target, replace=overwrite)  # a lock file, a read-only file: refused before the work
    files, bad = find_workbooks(paths)
    if target is not None:
        files = [f for f in files if f.resolve() != target.resolve()]
    subs = [Submission(Path(b.path), status="refused", reason=b.reason, reason_zh="无法读取：" + b.reason)
            for b in bad]
    subs += _read_all(files, jobs)
    for s in subs:
        if s.company and s.status != "refused":  # an earlier rollup lying among the departments
            s.status = "refused"
            s.reason = "a company workbook written by rollup, not a department's (last year's goes in --previous)"
            s.reason_zh = "这是 rollup 生成的公司汇总工作簿，不是部门工作簿（去年的汇总请用 --previous）"
    drift: list[Drift] = []
    company = consolidate(subs, drift)
    prev_units: list[str] = []
    if previous is not None:
        prev = read_submission(previous)
        if prev.status == "refused":
            raise InputError(f"last year's rollup cannot be read: {prev.reason}", file=previous)
        prev.review.source = str(previous)
        _apply_previous(company, prev.review, drift)
        prev_units = [u for u in dict.fromkeys(_text(u) for u in prev.review.scorecard["unit"]) if u]
    wanted = list(dict.fromkeys(_expected_units(expected) + prev_units))
    got = {s.unit for s in subs if s.status != "refused" and s.unit}
    report = RollupReport(out=target, submissions=subs, drift=drift, company=company,
                          not_submitted=[u for u in wanted if u not in got])
    sc = company.tables.get("Scorecard")
    if sc is not None and not sc.empty:
        report.ranking = rank(sc, company.kpis)
        report.compared = compare(sc, company.kpis)
        gaps = closed_loop(report.compared, company.tables.get("Causes"), company.tables.get("Actions"))
        report.loop_gaps = gaps[gaps["missing"].isin(["cause", "action"])].reset_index(drop=True)
    facts = company.tables.get("Facts")
    if facts is not None and not facts.empty:
        k = company.kpis
        cols = [c for c in ("measure", "numerator", "denominator") if c in k.columns]
        for _, row in k.iterrows():
            needed = [_text(row[c]) for c in cols if _text(row[c])]
            if not needed or not all(n in facts.columns for n in needed):
                continue
            for dim in ["unit", *company.dimensions]:
                try:
                    report.breakdowns[(_text(row["key"]), dim)] = breakdown(facts, _text(row["key"]), k, by=dim)
                except ReviewkitError:  # e.g. only one year of facts: nothing to break down
                    break
    if target is not None:
        _write_company(report, company, target, overwrite)
    return report


def _write_company(report: RollupReport, company: model.Review, target: Path, overwrite: bool) -> None:
    """Build, fill and finish the company workbook in a private folder, then write it to ``target``
    (``files.write_file``: atomic, refusing a lock file, a read-only file or a link). The draft
    carries ``target``'s name, so no message ever names a temporary file."""
    import tempfile

    from ..files import write_file
    from ..fill import fill_workbook
    from ..ooxml import WorkbookEditor
    from ..templates import build_workbook

    with tempfile.TemporaryDirectory(prefix="reviewkit-rollup-") as tmp_dir:
        draft = Path(tmp_dir) / target.name
        build_workbook(draft, company, lang=company.lang, overwrite=True)
        result = fill_workbook(draft)
        report.fill_summary = str(result).replace(str(draft), str(target))
        editor = WorkbookEditor.open(draft)
        try:
            name = STATUS_SHEET[0] if company.lang == "zh" else STATUS_SHEET[1]
            editor.replace_sheet(name, status_sheet(report, company.lang))
            editor.set_custom_property(ROLLUP_PROPERTY, str(len([s for s in report.submissions
                                                                 if s.status != "refused"])))
            data = editor.to_bytes()
        finally:
            editor.close()
    write_file(target, data, replace=overwrite)
