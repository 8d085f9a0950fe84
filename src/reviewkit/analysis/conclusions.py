"""One deterministic sentence per unit and KPI: met or not, by how much, rank, what drove it.

e.g. 「销售额 1,080万，目标 1,200万，达成率 90.0%（未达标），同比 +12.5%，部门排名第 3（较去年↑2）；
主要拖累：华东区域 −150万（占变化 −60%）。」
"""
from __future__ import annotations

import collections
import itertools
import math

import pandas as pd

from reviewkit import caching
from reviewkit._pandas import column_arrays
from reviewkit.errors import InputError
from reviewkit.formulas import STATUS_LABELS

from ..numbers import excel_fixed  # percentages shown as the cell beside them shows them
from ._common import arrays_of, frame_of, is_blank, require_frame, text, text_array
from ._facts import ALL_LABEL, OTHER_LABEL

MINUS = "\u2212"  # typographic minus, as in published reports
LANGS = ("zh", "en")
#: the status words of a sentence are the status column's (one vocabulary for chip and text)
STATUS_WORDS = STATUS_LABELS
_MONEY_YUAN = {"元": 1.0, "万元": 1e4, "亿元": 1e8}
#: the English workbooks' money units (presets write "CNY 10k" for 万元)
_MONEY_EN = {"CNY": 1.0, "CNY 10k": 1e4, "CNY 100M": 1e8}
_COUNT_SCALE = {"万": 1e4, "亿": 1e8}
_EN_UNITS = {"个": "", "家": "", "人": " people", "天": " days", "次": " times", "单": " orders",
             "件": " items", "小时": " hours", "h": " h"}


def _num(x: float, digits: int | None = None) -> str:
    """Thousands separators; no decimals for whole numbers, else up to 1-2 significant ones.

    ``digits`` fixes the number of decimals (trailing zeros kept), to tell apart two values
    that the short form would show alike.
    """
    ax = abs(x)
    if digits is not None:
        return f"{ax:,.{digits}f}"
    if abs(x - round(x)) < 1e-9 * max(1.0, ax):
        s = f"{ax:,.0f}"
    else:
        s = f"{ax:,.1f}" if ax >= 10 else f"{ax:,.2f}"
        s = s.rstrip("0").rstrip(".")
    return s


def _sign(x: float, signed: bool) -> str:
    if x < 0 and round(x, 12) != 0:
        return MINUS
    return "+" if signed and x > 0 else ""


def format_value(value: float, unit: str = "", *, lang: str = "zh", is_percent: bool | None = None,
                 signed: bool = False, digits: int | None = None) -> str:
    """Format a KPI value in its unit: 1080 万元 -> "1,080万", 0.18 % -> "18.0%", 1.2e8 元 -> "1.2亿".

    English uses CNY with K/M/bn for money and M for 万 counts. ``signed`` adds "+" (a minus is
    always shown, as the typographic "−"). ``digits`` sets the decimals of the number shown
    (default: 1 for percentages, else the short form).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    v = float(value)
    unit = text(unit)
    pct = is_percent if is_percent is not None else unit == "%"
    sg = _sign(v, signed)
    if pct:
        return f"{sg}{excel_fixed(abs(v) * 100, 1 if digits is None else digits)}%"
    money = _MONEY_YUAN.get(unit) or _MONEY_EN.get(unit)
    if money or unit in _COUNT_SCALE:
        base = abs(v) * (money or _COUNT_SCALE[unit])

        def scaled(limit, places):
            return _num(base / limit if digits is not None else round(base / limit, places), digits)
        if lang == "zh":
            if base >= 1e8:
                return f"{sg}{scaled(1e8, 2)}亿"
            if base >= 1e4:
                return f"{sg}{scaled(1e4, 1)}万"
            return f"{sg}{_num(base, digits)}{'元' if money else ''}"
        for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "K")):
            if base >= limit:
                amount = f"{scaled(limit, 2)}{suffix}"
                break
        else:
            amount = _num(base, digits)
        return f"{sg}{'CNY ' if money else ''}{amount}"
    if lang == "en":
        return f"{sg}{_num(abs(v), digits)}{_EN_UNITS.get(unit, (' ' + unit) if unit else '')}"
    return f"{sg}{_num(abs(v), digits)}{unit}"


def segment_label(segment, lang: str = "zh") -> str:
    """A segment as a sheet shows it: the engine's bilingual labels ("其他/Other" for the grouped
    small segments, "全部/All") in the workbook's language, any other segment unchanged."""
    seg = str(segment)
    if seg in (OTHER_LABEL, ALL_LABEL):
        zh, en = seg.split("/", 1)
        return zh if lang == "zh" else en
    return seg


def _pp(value: float, lang: str) -> str:
    s = _sign(value, True)
    return f"{s}{excel_fixed(abs(value), 1)}" + ("个百分点" if lang == "zh" else " pp")


#: a driver's share of the change is shown only between these bounds (same sign as the change,
#: at most all of it); outside them the share says nothing and the amount is shown alone
SHARE_BOUNDS = (0.0, 1.0)
#: a segment is named as the driver only when it moved at least this share of the change
MIN_DRIVER_SHARE = 0.1
#: below this ``dim_score`` (the largest deviation of a segment from an even spread, as a share
#: of the change) no segment stands out: the change is said to be spread evenly
EVEN_SCORE = 0.2


def _share(value: float) -> str:
    return f"{_sign(value, False)}{abs(value) * 100:.0f}%"


class _Driver(collections.namedtuple("_Driver", "unit contribution segment share dimension "
                                                  "is_other dim_score")):
    """One driver row: a segment of a unit's (or the KPI's) level-1 breakdown."""


def _driver_lists(drivers) -> dict:
    """Driver rows per KPI as ``_Driver`` tuples (rows without a contribution are left out).

    ``drivers``: one DataFrame, a list of them or {kpi: frame}; needs kpi, segment and
    contribution, and reads unit, share_of_change, dimension, is_other and dim_score when
    present. A row with a unit applies to that unit only.
    """
    d = _drivers_table(drivers)
    if d is None or d.empty:
        return {}
    n = len(d)
    arrays = arrays_of(d)

    def col(name, default, conv=None):
        if name not in arrays:
            return [default] * n
        values = arrays[name].tolist()
        return [conv(v) for v in values] if conv else values
    out: dict = {}
    for key, u, c, seg, sh, dim, oth, score in zip(
            col("kpi", None), col("unit", None, text), col("contribution", float("nan")),
            col("segment", ""), col("share_of_change", float("nan")), col("dimension", "", text),
            col("is_other", False), col("dim_score", float("nan"))):
        if (is_blank(key) and not isinstance(key, str)) or is_blank(c):
            continue  # no KPI, or nothing to say
        seg = text(seg)
        out.setdefault(key, []).append(_Driver(u, float(c), seg, sh, dim,
                                               bool(oth is True or oth == 1) or seg == OTHER_LABEL,
                                               score))
    return out


def _dim_words(dim: str, lang: str) -> str:
    """The dimension inside an English sentence ("Signing cohort" -> "signing cohort")."""
    if lang == "en" and dim[:1].isupper() and not dim[:2].isupper():
        return dim[0].lower() + dim[1:]
    return dim


def _segment_name(d: _Driver, lang: str) -> str:
    """The segment with its dimension, as a person says it: "2024Q3（签约批次）", "Internet (industry)"."""
    if not d.dimension:
        return d.segment
    dim = _dim_words(d.dimension, lang)
    return f"{d.segment}（{dim}）" if lang == "zh" else f"{d.segment} ({dim})"


def _driver_text(rows, r, fmt, lang, pct) -> str:
    """What drove the change of ``r`` (a missed KPI: its main drag; a met one: its main driver).

    ``rows``: the ``_Driver`` rows of ``r.kpi`` (or None). "其他/Other" is never named: when the
    small segments grouped there moved most, the sentence says the change is spread over many
    of them. A segment is named only when it moved at least ``MIN_DRIVER_SHARE`` of the change,
    its share is shown only within ``SHARE_BOUNDS``; when no segment stands out (``EVEN_SCORE``)
    or none is big enough, the sentence says the change is spread evenly.
    """
    if not rows:
        return ""
    rows = [t for t in rows if not t.unit or t.unit == r.unit]
    if not rows:
        return ""
    lower = getattr(r, "direction", "higher") == "lower"
    sign = -1.0 if lower else 1.0
    missed = r.status in ("red", "amber")
    want = -1.0 if missed else 1.0  # the direction (in "good" terms) the sentence explains
    total = sum(t.contribution for t in rows)

    def share(t):
        if not is_blank(t.share):
            return float(t.share)
        return t.contribution / total if total else float("nan")

    def amount(v):
        return _pp(v * 100, lang) if pct else fmt(v, True)
    zh = lang == "zh"
    label = ("主要拖累：" if missed else "主要贡献：") if zh else \
        ("main drag: " if missed else "main driver: ")
    dims = [t.dimension for t in rows if t.dimension]
    dim = _dim_words(dims[0], lang) if dims else ""
    story = want * sign * total > 0  # the change went the way the sentence explains
    scores = [float(t.dim_score) for t in rows if not is_blank(t.dim_score)]
    if story and scores and min(scores) < EVEN_SCORE:
        return _evenly(dim, lang)
    real = [t for t in rows if not t.is_other]
    pick = None
    if real:
        pick = min(real, key=lambda t: -want * sign * t.contribution)  # the first of equals
        if want * sign * pick.contribution <= 0:
            pick = None
    other = next((t for t in rows if t.is_other and want * sign * t.contribution > 0), None)
    many = other is not None and (pick is None or abs(other.contribution) > abs(pick.contribution))
    if pick is not None and not (abs(share(pick)) < MIN_DRIVER_SHARE):
        name = _segment_name(pick, lang)
        gap = "" if name.endswith("）") else " "  # "2024Q3（签约批次）−120万"
        s = f"{label}{name}{gap}{amount(pick.contribution)}"
        sh = share(pick)
        if not is_blank(sh) and SHARE_BOUNDS[0] < sh <= SHARE_BOUNDS[1] + 1e-9:
            s += f"（占变化 {_share(sh)}）" if zh else f" ({_share(sh)} of the change)"
        if many:
            where = f"众多较小的{dim}" if dim else "众多较小的部分"
            s += f"，其余分散在{where}（合计 {amount(other.contribution)}）" if zh else \
                f", the rest spread over {_many(dim)} (together {amount(other.contribution)})"
        return s
    if many:
        if zh:
            where = f"众多较小的{dim}" if dim else "众多较小的部分"
            return f"变化主要来自{where}（合计 {amount(other.contribution)}），没有单一部分能解释"
        return f"the change comes from {_many(dim)} (together {amount(other.contribution)}); " \
               "no single one explains it"
    return _evenly(dim, lang) if story else ""


def _many(dim: str) -> str:
    return f"many small {dim} segments" if dim else "many small segments"


def _evenly(dim: str, lang: str) -> str:
    if lang == "zh":
        return f"变化在各{dim}间分布较均匀，没有单一{dim or '部分'}能解释"
    where = f"{dim} segments" if dim else "segments"
    return f"the change is spread evenly across {where}; no single one explains it"


def _achievement(ach: float, status: str) -> str:
    """An achievement in percent with one decimal, or more when one would show a missed target
    as 100.0% (99.96% is "99.96", not "100.0", next to 预警)."""
    digits = 1
    while status in ("amber", "red") and ach < 1 and digits < 4 and float(excel_fixed(ach * 100, digits)) >= 100:
        digits += 1
    return excel_fixed(ach * 100, digits)  # rounded as the cell beside it shows it


def _telling_digits(r, unit, lang, pct) -> int | None:
    """Decimals that show a missed target as a miss.

    The verdict is the engine's (the status column's); when actual and target differ but the
    short form shows them alike ("20天，目标 20天" for 20.04 against 20), both are shown with
    the fewest decimals that tell them apart (up to 4 more). None: the short form is enough.
    """
    a, t = r.actual, r.target
    if is_blank(t) or float(a) == float(t):
        return None
    def show(v, d=None):
        return format_value(v, unit, lang=lang, is_percent=pct, digits=d)
    if show(a) != show(t):
        return None
    first = 2 if pct else 1
    for d in range(first, first + 5):
        if show(a, d) != show(t, d):
            return d
    return None


def _yoy_words(r, fmt, lang) -> str:
    """The change vs last year where a percentage means nothing (last year 0 or below, or a
    positive year turned negative): 扭亏为盈 / 由盈转亏 / 减亏 / 亏损扩大 for a higher-is-better
    KPI (a profit), else "n.m." with last year's value."""
    ly, a = getattr(r, "last_year", float("nan")), r.actual
    zh = lang == "zh"
    if is_blank(ly) or is_blank(a) or getattr(r, "direction", "higher") != "higher":
        if zh:
            return "同比 n.m.（去年基数≤0）"
        return "YoY n.m. (last year <= 0)"
    ly, a = float(ly), float(a)
    if ly == 0:
        return "去年为 0，无同比" if zh else "YoY n.m. (last year 0)"
    was = fmt(ly, True)
    if ly < 0 < a:
        word = ("扭亏为盈", "turned profitable")
    elif a < 0 < ly:
        word = ("由盈转亏", "turned to a loss")
    elif a > ly:
        word = ("减亏", "loss narrowed")
    elif a < ly:
        word = ("亏损扩大", "loss widened")
    else:
        word = ("亏损与去年持平", "loss unchanged")
    return f"同比{word[0]}（去年 {was}）" if zh else f"{word[1]} (last year {was})"


#: the columns of ``compared`` a sentence reads (the others are not converted)
_ROW_FIELDS = ("unit", "kpi", "name", "kpi_unit", "is_percent", "actual", "target", "achievement",
               "status", "change_ly_pct", "change_ly_nm", "change_ly_pp", "direction",
               "last_year")


def _rows(df: pd.DataFrame, fields=None):
    """``df.itertuples(index=False)`` built from column lists (the same values, faster).

    With ``fields`` (valid names) only those columns that are present are taken, when the
    column names are unique (the fields then have the same names and values).
    """
    if fields is not None and df.columns.is_unique:
        arrays = arrays_of(df)
        cols = [c for c in fields if c in arrays]
        values = [arrays[c] for c in cols]
    else:
        cols, values = list(df.columns), column_arrays(df)
    row = _row_type(tuple(map(str, cols)))
    return itertools.starmap(row, zip(*(v.tolist() for v in values)))


@caching.memo("analysis.row_type", 64)
def _row_type(names: tuple[str, ...]):
    """The namedtuple class of ``_rows`` for these column names (creating one is slow)."""
    return collections.namedtuple("Row", names, rename=True)


def _drivers_table(drivers) -> pd.DataFrame | None:
    if drivers is None:
        return None
    if isinstance(drivers, pd.DataFrame) and "kpi" in drivers.columns:
        require_frame(drivers, "drivers", ["kpi", "segment", "contribution"])
        return drivers  # one frame: read as it is (no copy)
    if isinstance(drivers, dict):
        frames = [d.assign(kpi=d["kpi"] if "kpi" in d.columns else k) for k, d in drivers.items()]
    elif isinstance(drivers, pd.DataFrame):
        frames = [drivers]
    else:
        frames = list(drivers)
    if not frames:
        return None
    d = pd.concat(frames, ignore_index=True)
    require_frame(d, "drivers", ["kpi", "segment", "contribution"])
    return d


def conclusions(compared: pd.DataFrame, ranked: pd.DataFrame | None = None, drivers=None,
                lang: str = "zh", *, peer_word: str = "") -> pd.DataFrame:
    """DataFrame[unit, kpi, text]: one sentence per row of ``compare()``.

    ``ranked`` is ``rank()``'s output (adds rank and its change); ``drivers`` a ``breakdown()``
    output, a list of them or {kpi: frame} (needs kpi, segment, contribution; share_of_change and
    unit are used when present — rows with a unit apply to that unit only). A KPI that missed
    its target names its main drag, a met KPI its main contributor. ``peer_word`` goes before
    "排名" (e.g. "部门").
    """
    if lang not in LANGS:
        raise InputError("unknown language", value=lang, expected="'zh' or 'en'")
    require_frame(compared, "compared", ["unit", "kpi", "name", "kpi_unit", "is_percent",
                                         "actual", "target", "achievement", "status",
                                         "change_ly_pct", "change_ly_nm"])
    ranks = {}
    if ranked is not None:
        require_frame(ranked, "ranked", ["unit", "kpi", "rank", "rank_change"])
        rc = arrays_of(ranked)
        ranks = {(u, k): (rk, ch) for u, k, rk, ch in zip(
            *(rc[c].tolist() for c in ("unit", "kpi", "rank", "rank_change")))}
    drv_by_kpi = _driver_lists(drivers)
    words = STATUS_WORDS[lang]
    texts = []
    for r in _rows(compared, _ROW_FIELDS):
        unit_s, pct = r.kpi_unit, bool(r.is_percent)
        has_actual = not is_blank(r.actual)
        digits = _telling_digits(r, unit_s, lang, pct) if has_actual else None
        fmt = lambda v, signed=False, d=None: format_value(  # noqa: E731
            v, unit_s, lang=lang, is_percent=pct, signed=signed, digits=d)
        parts = []
        if lang == "zh":
            parts.append(f"{r.name} {fmt(r.actual, d=digits)}" if has_actual else f"{r.name} 无实际值")
        else:
            parts.append(f"{r.name} {fmt(r.actual, d=digits)}" if has_actual else f"{r.name}: no actual")
        if not is_blank(r.target):
            parts.append(("目标 " if lang == "zh" else "target ") + fmt(r.target, d=digits))
        if not is_blank(r.achievement):
            label = "达成率" if lang == "zh" else "achievement"
            paren = ("（{}）" if lang == "zh" else " ({})").format(words[r.status])
            parts.append(f"{label} {_achievement(r.achievement, r.status)}%{paren}")
        elif r.status in words and has_actual:
            parts[-1] += ("（{}）" if lang == "zh" else " ({})").format(words[r.status])
        yoy = "同比 " if lang == "zh" else "YoY "
        pp = getattr(r, "change_ly_pp", float("nan"))
        ly = getattr(r, "last_year", float("nan"))
        if has_actual and not pct and (bool(r.change_ly_nm) or (
                not is_blank(ly) and ly > 0 > r.actual)):
            parts.append(_yoy_words(r, fmt, lang))
        elif has_actual and not is_blank(pp):
            parts.append(yoy + _pp(pp, lang))
        elif not is_blank(r.change_ly_pct):
            parts.append(yoy + f"{_sign(r.change_ly_pct, True)}{excel_fixed(abs(r.change_ly_pct) * 100, 1)}%")
        rk = ranks.get((r.unit, r.kpi))
        if rk is not None and not is_blank(rk[0]):
            rank_no, change = int(rk[0]), rk[1]
            if lang == "zh":
                s = f"{peer_word}排名第 {rank_no}"
                if not is_blank(change):
                    c = int(change)
                    s += f"（较去年{'↑' if c > 0 else '↓'}{abs(c)}）" if c else "（与去年持平）"
            else:
                s = f"rank {rank_no}" + (f" among {peer_word}" if peer_word else "")
                if not is_blank(change):
                    c = int(change)
                    s += (f" ({'up' if c > 0 else 'down'} {abs(c)} vs last year)" if c
                          else " (same as last year)")
            parts.append(s)
        sentence = ("，" if lang == "zh" else ", ").join(parts)
        d = _driver_text(drv_by_kpi.get(r.kpi), r, fmt, lang, pct)
        if d:
            sentence += ("；" if lang == "zh" else "; ") + d
        texts.append(sentence + ("。" if lang == "zh" else "."))
    cc = arrays_of(compared)
    units, keys = cc["unit"].tolist(), cc["kpi"].tolist()
    if texts and all(isinstance(v, str) for v in units + keys):
        # all text: the str columns pandas would infer, built directly
        return frame_of({"unit": text_array(units), "kpi": text_array(keys),
                         "text": text_array(texts)}, len(texts))
    return pd.DataFrame({"unit": compared["unit"].to_numpy(), "kpi": compared["kpi"].to_numpy(),
                         "text": texts})


