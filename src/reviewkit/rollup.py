"""``reviewkit rollup``: departmental workbooks consolidated into one company workbook.

    read every file (safely, never stopping at a bad one) → find schema drift against the
    majority → consolidate → rank, compare, closed loop → build the company workbook with
    ``templates.build_workbook`` → ``fill_workbook`` (Summary, Breakdown, Peers) → add the
    ``汇总状态`` / ``Rollup status`` sheet → rename into place (atomic)

**Nothing is dropped silently.** Every file gets a status (``ok``, ``drift`` or ``refused`` with
the reason); every difference from the majority of files is one ``Drift`` row:

* ``missing column`` / ``extra column`` in a table (by header, after the usual synonyms);
* ``renamed column``: a header recognised through a synonym (``完成值`` for 实际), or a Facts
  column whose name differs from the majority's where exactly one measure is missing and one
  new numeric column appeared — its values are consolidated under the majority's name;
* ``KPI definition``: a KPI whose direction, aggregation, measure, thresholds or weight differ
  from the majority of files (the company workbook uses the majority's definition);
* ``other unit``: rows about a unit other than the file's own (ignored, counted);
* ``duplicate unit``: a unit submitted in two files (the first file in the given order is used);
* ``last year``: a last-year figure that differs from last year's rollup (``--previous``).

A file's own unit is the custom property ``reviewkit.unit`` written by ``split``; without it,
the most frequent unit of its Scorecard (or Facts) rows. A file split ``--by`` a Facts column
(``reviewkit.split_by``) keeps the Facts rows whose value in that column is its unit.

The company workbook has the consolidated Settings, KPIs, Scorecard, Facts, Causes, Actions,
NextYear and Campaigns tables. Departmental Plan/Progress/Results/KeepStopStart/Risks/Budget
tables are not merged (task ids collide across departments; each department owns its plan).
With ``previous``, last year's actuals for the ranking come from last year's rollup.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import model
from .errors import InputError, ReviewkitError
from .files import check_target
from .ooxml._xml import excel_unescape
from .safety import check

STATUS_SHEET = ("汇总状态", "Rollup status")
ROLLUP_PROPERTY = "reviewkit.rollup_of"
#: KPI definition fields compared between files
KPI_FIELDS = ("direction", "aggregation", "measure", "numerator", "denominator", "green", "amber",
              "neutral_band", "range_low", "range_high", "weight")
#: tables consolidated row by row (they have a unit column)
UNIT_TABLES = ("Scorecard", "Facts", "Causes", "Actions", "NextYear")
CHECKED_TABLES = ("KPIs", "Scorecard", "Facts", "Causes", "Actions", "NextYear")


#: drift kinds and submission statuses as a zh rollup's status sheet names them
DRIFT_KINDS_ZH = {"missing column": "缺少列", "extra column": "多出的列", "renamed column": "列名不同",
                  "KPI definition": "KPI定义不同", "extra KPI": "多出的KPI", "missing KPI": "缺少KPI",
                  "other unit": "其他单位的行", "external link": "外部链接", "duplicate unit": "单位重复",
                  "duplicate row": "重复行", "last year": "去年数值不同"}
STATUS_ZH = {"ok": "正常", "drift": "结构有差异", "refused": "未汇总"}


@dataclass(frozen=True)
class Drift:
    file: str
    table: str
    kind: str  # missing column, extra column, renamed column, KPI definition, other unit, ...
    detail: str
    zh: str = ""  # the detail in Chinese, for a zh rollup's status sheet

    def say(self, lang: str) -> tuple[str, str]:
        """(kind, detail) in ``lang``."""
        if lang == "zh":
            return DRIFT_KINDS_ZH.get(self.kind, self.kind), self.zh or self.detail
        return self.kind, self.detail

    def __str__(self) -> str:
        return f"{Path(self.file).name}: {self.table}: {self.kind}: {self.detail}"


@dataclass
class Submission:
    """One departmental file as read."""

    path: Path
    unit: str | None = None
    status: str = "ok"  # ok, drift, refused
    reason: str = ""
    reason_zh: str = ""  # the same in Chinese, for a zh company workbook's status sheet
    review: model.Review | None = None
    headers: dict[str, list[str]] = field(default_factory=dict)  # table -> raw header texts
    stale: bool | None = None  # True: inputs changed since the last fill; None: never filled
    rows: dict[str, int] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)  # external workbook links: listed, never followed
    by: str = "unit"  # the Facts column naming whose rows these are (split --by)
    company: bool = False  # a company workbook written by rollup (reviewkit.rollup_of), not a department's


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

    def __str__(self) -> str:
        ok = [s for s in self.submissions if s.status != "refused"]
        lines = [f"rollup of {len(ok)} of {len(self.submissions)} file(s)"
                 + (f" into {self.out}" if self.out else "")]
        for s in self.submissions:
            lines.append(f"  {s.status:<7} {s.path.name}" + (f" ({s.unit})" if s.unit else "")
                         + (f" — {s.reason}" if s.reason else ""))
        if self.drift:
            lines.append(f"schema drift ({len(self.drift)}):")
            lines += [f"  {d}" for d in self.drift]
        if self.not_submitted:
            lines.append("not submitted: " + ", ".join(self.not_submitted))
        if self.stale:
            lines.append("results not up to date (run reviewkit batch): "
                         + ", ".join(f"{s.path.name} ({'never filled' if s.stale is None else 'inputs changed'})"
                                     for s in self.stale))
        if self.loop_gaps is not None and len(self.loop_gaps):
            lines.append("red KPIs lacking a cause or an action:")
            for r in self.loop_gaps.itertuples(index=False):
                lines.append(f"  {r.unit} · {r.kpi}: no {r.missing}")
        if self.fill_summary:
            lines.append(self.fill_summary.splitlines()[0])
        return "\n".join(lines)


# --- reading ------------------------------------------------------------------------------
def custom_properties(source) -> dict[str, str]:
    """Custom document properties as text (``source``: a path or an opened ``Package``); the
    part is parsed without DTDs, entities or network. {} when there are none or it is unreadable."""
    from .ooxml.package import Package

    try:
        pkg = source if isinstance(source, Package) else Package.open(source)
        name = pkg.resolve_name("docProps/custom.xml")
        if name is None or pkg.infos[name].file_size > 1 << 20:
            return {}
        root = pkg.read_xml(name)
    except ReviewkitError:
        return {}
    out = {}
    for prop in root:
        name = prop.get("name")
        if name and len(prop):  # text as written by CustomProperties.set (excel_text), decoded alike
            out[name] = excel_unescape(prop[0].text or "")
    return out


def _text(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v).strip()


def read_submission(path: str | os.PathLike) -> Submission:
    """Read one departmental workbook; never raises for a bad file (status ``refused``)."""
    from .fill import FINGERPRINT_PROPERTY, fingerprint
    from .ooxml.package import Package
    from .reader import read_with_problems
    from .reading.package import find_tables

    sub = Submission(Path(path))
    try:
        opened = Package.open(sub.path)  # one read for the check, the reader and the properties
        info = check(opened)
        sub.links = list(info.external_links)
        review, problems = read_with_problems(opened, check=False)
        pkg = find_tables(opened)
        for name in CHECKED_TABLES:
            info = pkg.table(name)
            if info is not None:
                sub.headers[name] = [c.name for c in info.columns]
        props = custom_properties(opened)
    except ReviewkitError as exc:
        sub.status, sub.reason = "refused", str(exc).splitlines()[0]
        sub.reason_zh = "无法读取：" + sub.reason
        return sub
    except Exception as exc:  # a file from many hands: report, never crash the rollup
        sub.status, sub.reason = "refused", f"cannot read it ({type(exc).__name__}: {exc})"
        sub.reason_zh = "无法读取：" + sub.reason
        return sub
    missing = [t for t in ("KPIs", "Scorecard") if t not in review.tables]
    if missing:
        sub.status = "refused"
        sub.reason = "not a review workbook: no table " + " or ".join(missing)
        sub.reason_zh = "不是复盘工作簿：缺少表格 " + " 或 ".join(missing)
        return sub
    stored = props.get(FINGERPRINT_PROPERTY)
    sub.stale = None if not stored else fingerprint(review) != stored
    sub.review = review
    unit = props.get("reviewkit.unit", "").strip()
    sub.by = props.get("reviewkit.split_by", "").strip() or "unit"
    sub.company = ROLLUP_PROPERTY in props
    if not unit:
        units = Counter(_text(u) for u in review.scorecard.get("unit", pd.Series(dtype=object)))
        if not units:
            units = Counter(_text(u) for u in review.facts.get("unit", pd.Series(dtype=object)))
        units.pop("", None)
        unit = units.most_common(1)[0][0] if units else ""
    sub.unit = unit or None
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        sub.reason = f"{len(errors)} input problem(s), e.g. {errors[0]}"
        sub.reason_zh = f"有 {len(errors)} 个输入问题，例如：{errors[0]}"
    return sub


# --- drift --------------------------------------------------------------------------------
def _majority(values: list) -> object:
    counts = Counter(values)
    return counts.most_common(1)[0][0] if counts else None


def _norm_value(v):
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else round(float(v), 9)
    if isinstance(v, (int, np.integer)):
        return float(v)
    s = str(v).strip()
    return s or None


def _table_drift(subs: list[Submission], drift: list[Drift]) -> dict[str, dict[str, str]]:
    """Missing/extra/renamed columns per file; returns Facts renames to apply {file: {old: new}}."""
    renames: dict[str, dict[str, str]] = {}
    n = len(subs)
    for name in CHECKED_TABLES:
        spec = model.TABLES_BY_NAME[name]
        present = [s for s in subs if s.review is not None and name in s.review.layouts]
        if not present:
            continue
        layouts = {str(s.path): s.review.layouts[name] for s in present}
        if spec.open_columns:  # Facts: columns compared with the majority of files
            cols = {str(s.path): [c for c in layouts[str(s.path)].columns] for s in present}
            counts = Counter(c for cs in cols.values() for c in set(cs))
            majority = {c for c, k in counts.items() if k * 2 > len(present)}
            for s in present:
                mine = set(cols[str(s.path)])
                miss = sorted(majority - mine)
                extra = sorted(mine - majority)
                measures = set(s.review.measures)
                miss_measures = [c for c in miss if c not in {"period", "unit"}]
                extra_numeric = [c for c in extra if c in measures]
                if len(miss_measures) == 1 and len(extra_numeric) == 1:
                    old, new = extra_numeric[0], miss_measures[0]
                    renames.setdefault(str(s.path), {})[old] = new
                    drift.append(Drift(str(s.path), name, "renamed column",
                                       f"'{old}' read as '{new}' (the name in {counts[new]} of {len(present)} files)",
                                       f"“{old}”按“{new}”读取（{len(present)} 个文件中有 {counts[new]} 个用这个列名）"))
                    miss.remove(new)
                    extra.remove(old)
                for c in miss:
                    drift.append(Drift(str(s.path), name, "missing column",
                                       f"'{c}' (present in {counts[c]} of {len(present)} files)",
                                       f"“{c}”（{len(present)} 个文件中有 {counts[c]} 个有此列）"))
                for c in extra:
                    drift.append(Drift(str(s.path), name, "extra column",
                                       f"'{c}' (kept; blank for the other files)",
                                       f"“{c}”（保留；其他文件此列为空）"))
            continue
        for s in present:
            lay = layouts[str(s.path)]
            raw = s.headers.get(name, [])
            matched = set(lay.headers.values())
            miss = [c for c in spec.input_columns if c.key not in lay.columns]
            extra = [h for h in raw if h not in matched]
            for c in miss:
                drift.append(Drift(str(s.path), name, "missing column",
                                   f"'{c.header(s.review.lang)}' ({c.key}); its values are blank in the rollup",
                                   f"“{c.zh}”：汇总中此列为空"))
            for h in extra:
                guess = f"; is it the missing '{miss[0].header(s.review.lang)}'?" if len(miss) == 1 and len(extra) == 1 else ""
                drift.append(Drift(str(s.path), name, "extra column",
                                   f"'{h}' is not a column reviewkit knows; not consolidated{guess}",
                                   f"“{h}”不是 reviewkit 认识的列，未汇总"
                                   + (f"；是否就是缺少的“{miss[0].zh}”？" if guess else "")))
            for key, h in lay.headers.items():
                try:
                    col = spec.column(key)
                except KeyError:
                    continue
                if model.normalize_header(h) not in {model.normalize_header(col.zh), model.normalize_header(col.en),
                                                     model.normalize_header(col.key)}:
                    drift.append(Drift(str(s.path), name, "renamed column",
                                       f"'{h}' read as '{col.header(s.review.lang)}' ({key})",
                                       f"“{h}”按“{col.zh}”读取"))
        _ = n
    return renames


def _kpi_majority(subs: list[Submission], drift: list[Drift]) -> pd.DataFrame:
    """The company KPI table: per key the definition most files hold; disagreements reported."""
    rows_by_key: dict[str, list[tuple[str, dict]]] = {}
    order: list[str] = []
    for s in subs:
        k = s.review.kpis
        for rec in k.to_dict("records"):
            key = _text(rec.get("key"))
            if not key:
                continue
            if key not in rows_by_key:
                order.append(key)
            rows_by_key.setdefault(key, []).append((str(s.path), rec))
    out = []
    for key in order:
        entries = rows_by_key[key]
        sigs = [tuple(_norm_value(rec.get(f)) for f in KPI_FIELDS) for _, rec in entries]
        best = _majority(sigs)
        winner = entries[sigs.index(best)][1]
        out.append(winner)
        for (path, rec), sig in zip(entries, sigs):
            if sig != best:
                diffs = [f"{f} {sig[i]!r} (majority {best[i]!r})" for i, f in enumerate(KPI_FIELDS) if sig[i] != best[i]]
                drift.append(Drift(path, "KPIs", "KPI definition", f"'{key}' differs: " + ", ".join(diffs),
                                   f"“{_text(rec.get('name')) or key}”的定义与多数文件不同：" + "，".join(
                                       f"{model.KPIS.column(f).zh} 为 {sig[i]!r}（多数为 {best[i]!r}）"
                                       for i, f in enumerate(KPI_FIELDS) if sig[i] != best[i])))
        if len(entries) * 2 <= len(subs):
            for path, _ in entries:
                drift.append(Drift(path, "KPIs", "extra KPI", f"'{key}' is defined in only {len(entries)} of "
                                                              f"{len(subs)} files (kept)",
                                   f"“{_text(winner.get('name')) or key}”只在 {len(subs)} 个文件中的 {len(entries)} 个里定义（保留）"))
        else:
            having = {path for path, _ in entries}
            for s in subs:
                if str(s.path) not in having:
                    drift.append(Drift(str(s.path), "KPIs", "missing KPI",
                                       f"'{key}' is not defined here but in {len(entries)} of {len(subs)} files "
                                       "(the majority's definition is used)",
                                       f"本文件没有定义“{_text(winner.get('name')) or key}”，{len(subs)} 个文件中有 {len(entries)} 个定义了它"
                                       "（采用多数文件的定义）"))
    return pd.DataFrame(out)


# --- consolidation --------------------------------------------------------------------------
def _own_rows(sub: Submission, name: str, drift: list[Drift]) -> pd.DataFrame | None:
    df = sub.review.tables.get(name)
    col = sub.by if name == "Facts" and sub.by in getattr(df, "columns", ()) else "unit"
    if df is None or df.empty or col not in df.columns or not sub.unit:
        return df
    units = df[col].map(_text)
    mine = (units == sub.unit) | (units == "")
    other = units[~mine]
    if len(other):
        for u, k in Counter(other).items():
            drift.append(Drift(str(sub.path), name, "other unit", f"{k} row(s) for '{u}' ignored (the file is "
                                                                  f"{sub.unit}'s)",
                               f"{k} 行属于“{u}”，已忽略（本文件属于“{sub.unit}”）"))
    df = df[mine].copy()
    if col == "unit":  # the file's own spelling of its unit; blank stays blank (applies to all)
        df.loc[units[mine] != "", "unit"] = sub.unit
    return df


def consolidate(subs: list[Submission], drift: list[Drift] | None = None) -> model.Review:
    """One company ``Review`` from the readable submissions (see the module docstring)."""
    drift = [] if drift is None else drift
    good = [s for s in subs if s.status != "refused" and s.review is not None]
    if not good:
        raise InputError("no departmental workbook could be read", value=len(subs),
                         expected="at least one readable review workbook")
    for s in good:
        for link in s.links:
            drift.append(Drift(str(s.path), "workbook", "external link",
                               f"links to {link!r}; not followed: the values cached in the file are used",
                               f"链接到 {link}；未跟随链接，使用文件中保存的数值"))
    renames = _table_drift(good, drift)
    kpis = _kpi_majority(good, drift)
    seen_units: dict[str, str] = {}
    parts: dict[str, list[pd.DataFrame]] = {n: [] for n in UNIT_TABLES}
    for s in good:
        if s.unit and s.unit in seen_units:
            drift.append(Drift(str(s.path), "Scorecard", "duplicate unit",
                               f"'{s.unit}' was already submitted in {Path(seen_units[s.unit]).name}; this file is "
                               "not consolidated",
                               f"“{s.unit}”已由 {Path(seen_units[s.unit]).name} 提交；本文件未汇总"))
            s.status = "refused"
            s.reason = f"'{s.unit}' was already submitted in {Path(seen_units[s.unit]).name}"
            s.reason_zh = f"“{s.unit}”已由 {Path(seen_units[s.unit]).name} 提交"
            continue
        if s.unit:
            seen_units[s.unit] = str(s.path)
        for name in UNIT_TABLES:
            df = _own_rows(s, name, drift)
            if df is None or df.empty:
                continue
            spec = model.TABLES_BY_NAME[name]
            if spec.open_columns:
                lay = s.review.layouts.get(name)
                keep = [c for c in df.columns if lay is None or c in lay.columns or c in ("period", "unit")]
                df = df[keep].rename(columns=renames.get(str(s.path), {}))
            else:
                df = df[[c.key for c in spec.input_columns if c.key in df.columns]]
            parts[name].append(df.reset_index(drop=True))
            s.rows[name] = len(df)
    tables: dict[str, pd.DataFrame] = {"KPIs": kpis}
    for name, frames in parts.items():
        spec = model.TABLES_BY_NAME[name]
        frames = [f.dropna(axis=1, how="all") if spec.open_columns else f for f in frames]
        if frames:
            tables[name] = pd.concat(frames, ignore_index=True, sort=False)
    for name in ("Causes", "Actions", "NextYear"):  # blank-unit rows came back from every file: keep one
        df = tables.get(name)
        if df is not None and "unit" in df.columns:
            blank = df["unit"].map(_text) == ""
            dup = blank & df.astype(str).duplicated(keep="first")
            if dup.any():
                tables[name] = df[~dup].reset_index(drop=True)
    sc = tables.get("Scorecard")
    if sc is not None:
        dup = sc.duplicated(["unit", "kpi"], keep="first")
        if dup.any():
            for u, k in sc.loc[dup, ["unit", "kpi"]].itertuples(index=False):
                drift.append(Drift(seen_units.get(u, ""), "Scorecard", "duplicate row",
                                   f"'{u}' · '{k}' appears twice; the first row is used",
                                   f"“{u}”·“{k}”出现两次，采用第一行"))
            tables["Scorecard"] = sc[~dup].reset_index(drop=True)
    first = good[0].review
    for name in ("Campaigns",):
        if name in first.tables:
            tables[name] = first.tables[name]
    facts = tables.get("Facts")
    if facts is None:  # scorecard-only departments: keep their Facts columns, with no rows
        empty = [s.review.tables["Facts"].iloc[0:0].rename(columns=renames.get(str(s.path), {}))
                 for s in good if s.review.tables.get("Facts") is not None]
        if empty:
            facts = pd.concat(empty, ignore_index=True, sort=False)
    measures, dims = [], []
    if facts is not None:
        for s in good:
            for m in s.review.measures:
                m = renames.get(str(s.path), {}).get(m, m)
                if m in facts.columns and m not in measures:
                    measures.append(m)
            for d in s.review.dimensions:
                if d in facts.columns and d not in dims and d not in measures:
                    dims.append(d)
        order = [c for c in ("period", "unit") if c in facts.columns] + dims + measures
        order += [c for c in facts.columns if c not in order and c != "year"]
        tables["Facts"] = facts[order]
    for s in good:
        if s.status == "ok" and any(d.file == str(s.path) for d in drift):
            s.status = "drift"
    return model.Review(tables=tables, settings=dict(first.settings), lang=first.lang, source=None,
                        dimensions=dims, measures=measures)


def _apply_previous(company: model.Review, previous: model.Review, drift: list[Drift]) -> None:
    """Last year's actuals from last year's rollup: fill blanks, report disagreements, use them."""
    sc = company.tables.get("Scorecard")
    prev = previous.tables.get("Scorecard")
    if sc is None or prev is None or prev.empty:
        return
    last = {(_text(u), _text(k)): a for u, k, a in zip(prev["unit"], prev["kpi"], prev["actual"])
            if not pd.isna(a)}
    new = []
    for u, k, ly in zip(sc["unit"], sc["kpi"], sc["last_year"]):
        p = last.get((_text(u), _text(k)))
        if p is None:
            new.append(ly)
            continue
        if not pd.isna(ly) and not np.isclose(float(ly), float(p), rtol=1e-9, atol=1e-9):
            drift.append(Drift(str(previous.source or "previous"), "Scorecard", "last year",
                               f"'{u}' · '{k}': the department says {ly:g}, last year's rollup {float(p):g} "
                               "(the rollup's figure is used for the ranking)",
                               f"“{u}”·“{k}”：部门填写 {ly:g}，去年汇总为 {float(p):g}（排名采用去年汇总的数值）"))
        new.append(float(p))
    sc["last_year"] = pd.to_numeric(pd.Series(new, index=sc.index), errors="coerce")


# --- the company workbook -------------------------------------------------------------------
def _status_sheet(report: RollupReport, lang: str):
    from .ooxml import Cell, CellStyle, SheetSpec

    zh = lang == "zh"
    head = CellStyle(bold=True, font_color="#FFFFFF", fill="#1F4E79")
    title = CellStyle(bold=True, font_color="#1F4E79")
    cells: list = []
    row = 1

    def put(values, style=None):
        nonlocal row
        for j, v in enumerate(values):
            if v is None or v == "":
                continue
            cells.append(Cell(f"{'ABCDE'[j]}{row}", v if not isinstance(v, str) else v[:2000], style))
        row += 1

    put(["汇总状态：文件、结构差异、未提交、未更新、闭环缺口" if zh else
         "Rollup status: files, schema drift, missing submissions, stale results, closed-loop gaps"], title)
    row += 1
    put(["文件" if zh else "File", "单位" if zh else "Unit", "状态" if zh else "Status",
         "行数" if zh else "Rows", "说明" if zh else "Reason"], head)
    for s in report.submissions:
        put([s.path.name, s.unit or "", STATUS_ZH.get(s.status, s.status) if zh else s.status,
             sum(s.rows.values()), _reason(s, lang)])
    row += 1
    put(["结构差异" if zh else "Schema drift", "", "", "", ""], title)
    put(["文件" if zh else "File", "表" if zh else "Table", "类型" if zh else "Kind", "", "说明" if zh else "Detail"], head)
    for d in report.drift or []:
        spec = model.TABLES_BY_NAME.get(d.table)
        table = (spec.sheet_zh if zh else spec.sheet_en) if spec is not None else \
            ("工作簿" if zh and d.table == "workbook" else d.table)
        put([Path(d.file).name, table, *d.say(lang)[:1], "", d.say(lang)[1]])
    if not report.drift:
        put(["无" if zh else "none"])
    row += 1
    put(["未提交的单位" if zh else "Not submitted"], title)
    for u in report.not_submitted or (["无" if zh else "none"]):
        put([u])
    row += 1
    put(["结果未更新（请运行 reviewkit batch）" if zh else "Results not up to date (run reviewkit batch)"], title)
    for s in report.stale or []:
        put([s.path.name, s.unit or "", ("从未填写" if zh else "never filled") if s.stale is None else
             ("输入已改动" if zh else "inputs changed")])
    if not report.stale:
        put(["无" if zh else "none"])
    row += 1
    put(["缺少原因或行动的红灯 KPI" if zh else "Red KPIs lacking a cause or an action"], title)
    gaps = report.loop_gaps if report.loop_gaps is not None else pd.DataFrame()
    from .fill.words import MISSING_TEXT

    for r in gaps.itertuples(index=False):
        put([r.unit, r.name, MISSING_TEXT.get(r.missing, (r.missing, r.missing))[0 if zh else 1], "",
             "" if zh else r.detail])
    if gaps.empty:
        put(["无" if zh else "none"])
    return SheetSpec(cells=cells, col_widths={"A": 28, "B": 16, "C": 16, "D": 10, "E": 80}, tab_color="#C00000")


def _reason(s: Submission, lang: str) -> str:
    """Why a file was refused, in ``lang``."""
    return s.reason_zh if lang == "zh" and s.reason_zh else s.reason


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
    from .batch import _mp_context, default_jobs, watch_parent

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
    from .analysis import breakdown, compare, rank
    from .analysis.loop import closed_loop
    from .batch import find_workbooks

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

    from .files import write_file
    from .fill import fill_workbook
    from .ooxml import WorkbookEditor
    from .templates import build_workbook

    with tempfile.TemporaryDirectory(prefix="reviewkit-rollup-") as tmp_dir:
        draft = Path(tmp_dir) / target.name
        build_workbook(draft, company, lang=company.lang, overwrite=True)
        result = fill_workbook(draft)
        report.fill_summary = str(result).replace(str(draft), str(target))
        editor = WorkbookEditor.open(draft)
        try:
            name = STATUS_SHEET[0] if company.lang == "zh" else STATUS_SHEET[1]
            editor.replace_sheet(name, _status_sheet(report, company.lang))
            editor.set_custom_property(ROLLUP_PROPERTY, str(len([s for s in report.submissions
                                                                 if s.status != "refused"])))
            data = editor.to_bytes()
        finally:
            editor.close()
    write_file(target, data, replace=overwrite)
