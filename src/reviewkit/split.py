"""``reviewkit split``: one prefilled workbook per unit (department, region, person) of a master.

Each departmental workbook holds, as ordinary input tables a department can edit:

* **its own rows**: Scorecard, Facts, Causes, Actions and NextYear rows of that unit (and the
  Causes/Actions/NextYear rows with a blank unit, which apply to every unit);
* **shared definitions**: Settings, every KPI definition, the Campaigns calendar;
* **empty** Plan, Progress, Results, KeepStopStart, Risks and Budget tables (they are the
  department's own to write; the master's company rows are not handed out).

**What a unit may see of its peers** (the decision, see docs): never another unit's name or its
individual figures. The sheet ``同级对标`` / ``Peer benchmarks`` lists, per KPI, the unit's own
actual and target next to the **average, median and best actual of all units** and its **rank
among n units**, this year and last year (from ``analysis.rank``). The sheet is plain values,
not a named table: ``fill`` leaves it alone and ``rollup`` ignores it. It also carries the
master's ranks into the department workbook: the reader takes them from it
(``read_peer_ranks``), and ``fill`` states them in the conclusions, the scorecard's rank
columns and the Peers sheet, instead of ranking the one unit of the workbook 1 of 1.

The file name comes from the unit's name through ``safety.unique_filenames`` and
``safety.output_path``: Chinese names stay readable, nothing can climb out of the folder.
Files are built with ``templates.workbook_bytes`` (styles, validation, and the Refresh button
when the master is an .xlsm) and written with ``files.write_file``; when one cannot be written,
the files and the folder this split created are removed again. The unit's name is stamped as
the custom document property ``reviewkit.unit`` so ``rollup`` knows whose file it reads even if
the file is renamed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import model
from .analysis._common import text, total_units
from .errors import InputError, ReviewkitError
from .files import check_target, make_dir, write_file
from .messages import Messages
from .safety import check, output_path, unique_filenames

UNIT_PROPERTY = "reviewkit.unit"
SOURCE_PROPERTY = "reviewkit.split_from"
BY_PROPERTY = "reviewkit.split_by"  # the column the file was split on ("unit" or a Facts column)
PEER_SHEET = ("同级对标", "Peer benchmarks")

#: tables whose rows belong to one unit (by their ``unit`` column)
UNIT_TABLES = ("Scorecard", "Causes", "Actions", "NextYear")
#: tables every unit receives whole
SHARED_TABLES = ("Settings", "KPIs", "Campaigns")

_WORDS = Messages.load("split")  # the peer sheet's words and the report
_t = _WORDS.say


@dataclass(frozen=True)
class SplitFile:
    unit: str
    path: Path
    rows: dict[str, int]  # table -> rows written


@dataclass
class SplitReport:
    master: Path
    by: str
    files: list[SplitFile] = field(default_factory=list)
    #: units without Scorecard rows in the master (their workbooks hold only facts)
    no_scorecard: list[str] = field(default_factory=list)
    lang: str = "en"  # the master's: the report is said in it

    def render(self, lang: str | None = None) -> str:
        """What the command prints, in ``lang`` (default: the master's)."""
        lang = lang or self.lang
        by = _t("by_unit", lang) if self.by == "unit" else self.by
        lines = [_t("head", lang, master=self.master.name, by=by, n=len(self.files))]
        lines += [_t("file", lang, name=f.path.name, unit=f.unit, scorecard=f.rows.get("Scorecard", 0),
                     facts=f.rows.get("Facts", 0)) for f in self.files]
        lines += [_t("warning", lang, text=_t("no_scorecard", lang, unit=u)) for u in self.no_scorecard]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render("en")


# --- pure part ------------------------------------------------------------------------
def resolve_by(review: model.Review, by: str) -> str:
    """The column to split on: ``"unit"`` for the unit column or any of its names (部门, region …),
    otherwise a Facts column matched by header text."""
    norm = model.normalize_header(by)
    if norm in model.header_aliases(model.SCORECARD.column("unit")):
        return "unit"
    facts = review.tables.get("Facts")
    if facts is not None:
        for col in facts.columns:
            if model.normalize_header(col) == norm:
                return str(col)
    available = ["unit"] + ([str(c) for c in facts.columns if c not in ("period", "unit")]
                            if facts is not None else [])
    raise InputError("cannot split by this column", file=review.source, value=by,
                     expected="unit (部门/区域/人员) or a Facts column: " + ", ".join(available))


def _inputs(df: pd.DataFrame, spec: model.TableSpec, layout: model.TableLayout | None = None) -> pd.DataFrame:
    """Input columns only: no computed ones, and for Facts only the columns on the sheet (the
    reader derives a ``year`` column from ``period``; it must not become a column of its own)."""
    computed = {c.key for c in spec.computed_columns}
    keep = [c for c in df.columns if c not in computed]
    if spec.open_columns:
        inputs = {c.key for c in spec.input_columns}
        on_sheet = set(layout.columns) if layout is not None and layout.columns else None
        keep = [c for c in keep if c in inputs or (on_sheet is not None and c in on_sheet)
                or (on_sheet is None and c != "year")]
    return df[keep]


def split_review(review: model.Review, *, by: str = "unit") -> dict[str, model.Review]:
    """``{unit: Review}``: each unit's own rows plus the shared tables (see the module docstring).

    Units come from the Scorecard's unit column (or the ``by`` Facts column) in order of first
    appearance, then any that only appear in Facts. Rows are matched on the stripped text. Total
    rows (合计 / 小计 / Total, or 全国 over regions) are no unit: nobody fills them in, and the
    rollup adds the units up again.
    """
    col = resolve_by(review, by)
    sc = review.tables.get("Scorecard")
    facts = review.tables.get("Facts")
    units = []
    if col == "unit" and sc is not None and "unit" in sc.columns:
        units += list(sc["unit"])
    if facts is not None and col in facts.columns:
        units += list(facts[col])
    units = [u for u in dict.fromkeys(map(text, units)) if u]
    totals = total_units(units) if col == "unit" else set()
    units = [u for u in units if u not in totals]  # a 合计 / Total row stays in the master only
    if not units:
        raise InputError("the master has no units to split by", file=review.source, value=by,
                         expected="Scorecard or Facts rows with a unit")
    keys = {}
    for name, df in review.tables.items():
        spec = model.TABLES_BY_NAME.get(name)
        if spec is None or df is None:
            continue
        if name == "Facts":
            key_col = col
        elif name in UNIT_TABLES:
            key_col = "unit"
        else:
            continue
        if key_col in df.columns:
            keys[name] = df[key_col].map(text)
    out: dict[str, model.Review] = {}
    for unit in units:
        tables: dict[str, pd.DataFrame] = {}
        for spec in model.TABLES:
            df = review.tables.get(spec.name)
            if df is None:
                continue
            layout = review.layouts.get(spec.name)
            if spec.name in SHARED_TABLES:
                tables[spec.name] = _inputs(df, spec, layout).copy()
            elif spec.name in keys:
                # rows with a blank unit apply to every unit (closed_loop's rule): everyone gets them
                mine = (keys[spec.name] == unit) | ((keys[spec.name] == "") & (spec.name != "Facts"))
                tables[spec.name] = _inputs(df[mine], spec, layout).reset_index(drop=True)
            else:
                tables[spec.name] = df.iloc[0:0][[c.key for c in spec.input_columns if c.key in df.columns]]
        out[unit] = model.Review(tables=tables, settings=dict(review.settings), lang=review.lang,
                                 source=None, dimensions=list(review.dimensions),
                                 measures=list(review.measures))
    return out


def peer_benchmarks(review: model.Review) -> pd.DataFrame:
    """Per unit and KPI (plus the overall row): own target/actual, the average, median and best
    actual of all units, rank among n, last year's rank and the change. Empty without a scorecard."""
    from .analysis import OVERALL, rank

    sc = review.tables.get("Scorecard")
    if sc is None or sc.empty:
        return pd.DataFrame(columns=["unit", "kpi", "name", "target", "actual", "avg", "median", "best",
                                     "rank", "n", "rank_ly", "rank_change"])
    r = rank(sc, review.kpis)
    r["unit"] = r["unit"].astype(str).str.strip()
    k = review.kpis.set_index(review.kpis["key"].astype(str).str.strip())
    direction = {key: str(k.loc[key, "direction"]) if key in k.index else "higher" for key in r["kpi"].unique()}
    stats = r.groupby("kpi", sort=False)["value"].agg(["mean", "median", "max", "min"])
    best = {key: (stats.loc[key, "min"] if direction.get(key) == "lower" else
                  stats.loc[key, "max"] if direction.get(key) in ("higher", None) or key == OVERALL else np.nan)
            for key in stats.index}
    if OVERALL in stats.index:
        best[OVERALL] = stats.loc[OVERALL, "max"]
    targets = sc.assign(_u=sc["unit"].astype(str).str.strip(), _k=sc["kpi"].astype(str).str.strip()) \
        .drop_duplicates(["_u", "_k"]).set_index(["_u", "_k"])["target"]
    out = pd.DataFrame({
        "unit": r["unit"], "kpi": r["kpi"], "name": r["name"],
        "target": [targets.get((u, kk), np.nan) if kk != OVERALL else np.nan for u, kk in zip(r["unit"], r["kpi"])],
        "actual": r["value"].astype("float64"),
        "avg": r["kpi"].map(stats["mean"]).astype("float64"),
        "median": r["kpi"].map(stats["median"]).astype("float64"),
        "best": r["kpi"].map(best).astype("float64"),
        "rank": r["rank"], "n": r["n_units"], "rank_ly": r["rank_ly"], "rank_change": r["rank_change"],
    })
    return out.reset_index(drop=True)


# --- writing --------------------------------------------------------------------------
def _num(v):
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def peer_sheet_spec(peers: pd.DataFrame, unit: str, lang: str, kpi_formats: dict[str, str]):
    """The ``Peer benchmarks`` sheet of one unit as an ``ooxml.SheetSpec`` (values only): the
    header in row ``PEER_FIRST_ROW - 1``, one row per KPI below it and the overall score last."""
    from .analysis import OVERALL
    from .fill.grid import _Grid
    from .fill.styles import (ACH_FORMAT, DEFAULT_NUMBER, HEAD, NOTE, RANK_CHANGE_FORMAT, RANK_FORMAT, TEXT,
                              TITLE, _num_style)

    g = _Grid()
    g.put(1, _t("title", lang, unit=unit), TITLE)
    g.put(1, _t("note", lang, n=int(peers["n"].max()) if len(peers) and peers["n"].notna().any() else 0), NOTE,
          row=2)
    g.row = PEER_FIRST_ROW - 1
    g.line([_t(c, lang) for c in PEER_COLUMNS], HEAD)
    own = peers[peers["unit"] == unit]
    rank_style = _num_style(RANK_FORMAT, align="center")
    for _, p in pd.concat([own[own["kpi"] != OVERALL], own[own["kpi"] == OVERALL]]).iterrows():
        overall = p["kpi"] == OVERALL
        number = _num_style(ACH_FORMAT if overall else kpi_formats.get(str(p["kpi"])) or DEFAULT_NUMBER)
        g.line([None if overall else str(p["kpi"]), _t("overall", lang) if overall else str(p["name"]),
                *(_num(p[c]) for c in PEER_COLUMNS[2:])],
               [TEXT, TEXT, *[number] * 5, rank_style, rank_style, rank_style,
                _num_style(RANK_CHANGE_FORMAT, align="center")])
    widths = g.fit_widths({"A": (8, 20), "B": (10, 36), **{c: (10, 22) for c in "CDEFGHIJK"}},
                          first_row=PEER_FIRST_ROW - 1)
    return g.spec(widths, freeze=f"C{PEER_FIRST_ROW}", tab="#5B9BD5")


#: the columns of the peer sheet, A.. in order (``peer_sheet_spec`` writes them from row 5)
PEER_COLUMNS = ("kpi", "name", "target", "actual", "avg", "median", "best", "rank", "n", "rank_ly",
                "rank_change")
PEER_FIRST_ROW = 5


def read_peer_ranks(grid: list[list]) -> pd.DataFrame | None:
    """The master's ranks from a department workbook's peer sheet (``grid``: its rows from A1).

    DataFrame[kpi, rank, n, rank_ly, rank_change], the overall row under ``analysis.OVERALL``;
    None when the sheet holds no rank. ``fill`` uses them so that the department's conclusions
    and Peers sheet give its rank among all units of the master, not 1 of 1.
    """
    from .analysis import OVERALL

    def num(v):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v else np.nan
    at = {c: j for j, c in enumerate(PEER_COLUMNS)}
    rows = []
    for line in grid[PEER_FIRST_ROW - 1:]:
        line = list(line) + [""] * (len(PEER_COLUMNS) - len(line))
        key, name, rank = str(line[at["kpi"]] or "").strip(), str(line[at["name"]] or "").strip(), \
            num(line[at["rank"]])
        if not (key or name) or np.isnan(rank):
            continue
        rows.append({"kpi": key or OVERALL, "rank": rank, "n": num(line[at["n"]]),
                     "rank_ly": num(line[at["rank_ly"]]), "rank_change": num(line[at["rank_change"]])})
    if not rows:
        return None
    return pd.DataFrame(rows).drop_duplicates("kpi")


def _kpi_formats(review: model.Review) -> dict[str, str]:
    k = review.kpis
    if "number_format" not in k.columns:
        return {}
    return {str(a).strip(): str(b).strip() for a, b in zip(k["key"], k["number_format"])
            if isinstance(b, str) and b.strip()}


def split_workbook(master: str | os.PathLike, out_dir: str | os.PathLike, *, by: str = "unit",
                   overwrite: bool = False) -> SplitReport:
    """Write one workbook per unit of ``master`` into ``out_dir``; see the module docstring.

    The master is opened once, checked (``safety.check``) and read strictly: a master with input
    errors raises ``ValidationError`` listing them and nothing is written. Existing files are
    refused up front (all or nothing) unless ``overwrite``.
    """
    from .ooxml import WorkbookEditor
    from .ooxml.package import Package
    from .reading import read_review
    from .templates import _refresh_button_hook, workbook_bytes

    master = Path(master)
    opened = Package.open(master)
    check(opened)
    review = read_review(opened)
    parts = split_review(review, by=by)
    col = resolve_by(review, by)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReviewkitError("the output folder is a file", file=out_dir, expected="a folder")
    macro = master.suffix.lower() == ".xlsm"
    names = unique_filenames(parts, suffix=".xlsm" if macro else ".xlsx")
    targets = {unit: output_path(out_dir, names[unit]) for unit in parts}
    if not overwrite:
        existing = [p.name for p in targets.values() if p.exists()]
        if existing:
            raise ReviewkitError("departmental workbooks already exist in the output folder", file=out_dir,
                                 value=existing[:5], expected="an empty folder, or --force to overwrite")
    peers = peer_benchmarks(review)
    formats = _kpi_formats(review)
    report = SplitReport(master=master, by=col, lang=review.lang)
    sheet = PEER_SHEET[0] if review.lang == "zh" else PEER_SHEET[1]
    add_button = _refresh_button_hook() if macro else None
    made_dir = make_dir(out_dir)
    for path in targets.values():  # a locked or read-only workbook stops the split before any is written
        check_target(path, replace=overwrite)
    created: list[Path] = []
    try:
        for unit, part in parts.items():
            path = targets[unit]
            editor = WorkbookEditor.open_bytes(path, workbook_bytes(part, review.lang, add_button))
            try:
                if not peers.empty and (peers["unit"] == unit).any():
                    editor.replace_sheet(sheet, peer_sheet_spec(peers, unit, review.lang, formats))
                editor.set_custom_property(UNIT_PROPERTY, unit)
                editor.set_custom_property(SOURCE_PROPERTY, master.name)
                editor.set_custom_property(BY_PROPERTY, col)
                data = editor.to_bytes()
            finally:
                editor.close()
            existed = os.path.lexists(path)
            write_file(path, data, replace=overwrite)
            if not existed:
                created.append(path)
            rows = {name: len(df) for name, df in part.tables.items() if len(df)}
            report.files.append(SplitFile(unit, path, rows))
            if not rows.get("Scorecard"):
                report.no_scorecard.append(unit)
    except BaseException:  # all or nothing: remove what this split created
        for path in created:
            path.unlink(missing_ok=True)
        if made_dir:
            try:
                out_dir.rmdir()
            except OSError:
                pass
        raise
    return report
