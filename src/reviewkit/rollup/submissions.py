"""Collecting the departments' files for ``rollup``: one :class:`Submission` per file, never raising.

A file's own unit is the custom property ``reviewkit.unit`` written by ``split``; without it,
the most frequent unit of its Scorecard (or Facts) rows. A file split ``--by`` a Facts column
(``reviewkit.split_by``) keeps the Facts rows whose value in that column is its unit.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import model
from ..analysis._common import text as _text
from ..errors import ReviewkitError
from ..ooxml._xml import excel_unescape
from ..safety import check

ROLLUP_PROPERTY = "reviewkit.rollup_of"
#: tables whose headers are compared between files
CHECKED_TABLES = ("KPIs", "Scorecard", "Facts", "Causes", "Actions", "NextYear")


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


def custom_properties(source) -> dict[str, str]:
    """Custom document properties as text (``source``: a path or an opened ``Package``); the
    part is parsed without DTDs, entities or network. {} when there are none or it is unreadable."""
    from ..ooxml.package import Package

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


def read_submission(path: str | os.PathLike) -> Submission:
    """Read one departmental workbook; never raises for a bad file (status ``refused``)."""
    from ..fill import FINGERPRINT_PROPERTY, fingerprint
    from ..ooxml.package import Package
    from ..reading import read_with_problems
    from ..reading.package import find_tables

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
        sub.reason_zh = "无法读取：" + exc.render("zh").splitlines()[0]
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
        sub.reason_zh = f"有 {len(errors)} 个输入问题，例如：{errors[0].render('zh')}"
    return sub
