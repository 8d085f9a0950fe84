"""Building the company view for ``rollup``: schema drift against the majority, then one ``Review``.

**Nothing is dropped silently.** Every difference from the majority of files is one ``Drift`` row:

* ``missing column`` / ``extra column`` in a table (by header, after the usual synonyms);
* ``renamed column``: a header recognised through a synonym (``完成值`` for 实际), or a Facts
  column whose name differs from the majority's where exactly one measure is missing and one
  new numeric column appeared — its values are consolidated under the majority's name;
* ``KPI definition``: a KPI whose direction, aggregation, measure, thresholds or weight differ
  from the majority of files (the company workbook uses the majority's definition);
* ``other unit``: rows about a unit other than the file's own (ignored, counted);
* ``duplicate unit``: a unit submitted in two files (the first file in the given order is used);
* ``last year``: a last-year figure that differs from last year's rollup (``--previous``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import model
from ..analysis._common import text as _text
from ..errors import InputError
from .submissions import CHECKED_TABLES, Submission
from .words import label, say

#: KPI definition fields compared between files
KPI_FIELDS = ("direction", "aggregation", "measure", "numerator", "denominator", "green", "amber",
              "neutral_band", "range_low", "range_high", "weight")
#: tables consolidated row by row (they have a unit column)
UNIT_TABLES = ("Scorecard", "Facts", "Causes", "Actions", "NextYear")


@dataclass(frozen=True)
class Drift:
    file: str
    table: str
    kind: str  # missing column, extra column, renamed column, KPI definition, other unit, ...
    detail: str
    zh: str = ""  # the detail in Chinese, for a zh rollup's status sheet and report

    def say(self, lang: str) -> tuple[str, str]:
        """(kind, detail) in ``lang``."""
        return label(self.kind, lang), (self.zh or self.detail) if lang == "zh" else self.detail

    def table_name(self, lang: str) -> str:
        """The table as a ``lang`` workbook names its sheet."""
        spec = model.TABLES_BY_NAME.get(self.table)
        return spec.sheet(lang) if spec is not None else say("workbook", lang) if self.table == "workbook" \
            else self.table

    def render(self, lang: str = "en") -> str:
        kind, detail = self.say(lang)
        return say("drift", lang, file=Path(self.file).name, table=self.table_name(lang), kind=kind, detail=detail)

    def __str__(self) -> str:
        return self.render("en")


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
