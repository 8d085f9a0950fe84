"""One deterministic sentence per unit and KPI: met or not, by how much, rank, what drove it.

e.g. 「销售额 1,080万，目标 1,200万，达成率 90.0%（未达标），同比 +12.5%，部门排名第 3（较去年↑2）；
主要拖累：华东区域 −150万（占变化 −60%）。」
"""
from __future__ import annotations

import collections
import functools
import itertools
import math

import numpy as np
import pandas as pd

from reviewkit.errors import InputError

from ..numbers import excel_fixed  # percentages shown as the cell beside them shows them
from ._common import frame_of, is_blank, require_frame, text, text_array

MINUS = "\u2212"  # typographic minus, as in published reports
LANGS = ("zh", "en")
STATUS_WORDS = {
    "zh": {"green": "达标", "amber": "未达标", "red": "未达标，差距较大", "neutral": "基本持平",
           "grey": "无法评估"},
    "en": {"green": "met", "amber": "not met", "red": "well below target", "neutral": "on target",
           "grey": "not assessable"},
}
_MONEY_YUAN = {"元": 1.0, "万元": 1e4, "亿元": 1e8}
_COUNT_SCALE = {"万": 1e4, "亿": 1e8}
_EN_UNITS = {"个": "", "家": "", "人": " people", "天": " days", "次": " times", "单": " orders",
             "件": " items", "小时": " hours", "h": " h"}


def _num(x: float) -> str:
    """Thousands separators; no decimals for whole numbers, else up to 1-2 significant ones."""
    ax = abs(x)
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
                 signed: bool = False) -> str:
    """Format a KPI value in its unit: 1080 万元 -> "1,080万", 0.18 % -> "18.0%", 1.2e8 元 -> "1.2亿".

    English uses CNY with K/M/bn for money and M for 万 counts. ``signed`` adds "+" (a minus is
    always shown, as the typographic "−").
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    v = float(value)
    unit = text(unit)
    pct = is_percent if is_percent is not None else unit == "%"
    sg = _sign(v, signed)
    if pct:
        return f"{sg}{excel_fixed(abs(v) * 100, 1)}%"
    if unit in _MONEY_YUAN or unit in _COUNT_SCALE:
        base = abs(v) * (_MONEY_YUAN.get(unit) or _COUNT_SCALE[unit])
        if lang == "zh":
            if base >= 1e8:
                return f"{sg}{_num(round(base / 1e8, 2))}亿"
            if base >= 1e4:
                return f"{sg}{_num(round(base / 1e4, 1))}万"
            return f"{sg}{_num(base)}{'元' if unit in _MONEY_YUAN else ''}"
        for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "K")):
            if base >= limit:
                amount = f"{_num(round(base / limit, 2))}{suffix}"
                break
        else:
            amount = _num(base)
        return f"{sg}{'CNY ' if unit in _MONEY_YUAN else ''}{amount}"
    if lang == "en":
        return f"{sg}{_num(abs(v))}{_EN_UNITS.get(unit, (' ' + unit) if unit else '')}"
    return f"{sg}{_num(abs(v))}{unit}"


def _pp(value: float, lang: str) -> str:
    s = _sign(value, True)
    return f"{s}{excel_fixed(abs(value), 1)}" + ("个百分点" if lang == "zh" else " pp")


MAX_SHARE = 3.0  # beyond ±300% of the change, a driver's share is left out of the sentence


def _share(value: float) -> str:
    return f"{_sign(value, False)}{abs(value) * 100:.0f}%"


#: the columns of ``compared`` a sentence reads (the others are not converted)
_ROW_FIELDS = ("unit", "kpi", "name", "kpi_unit", "is_percent", "actual", "target", "achievement",
               "status", "change_ly_pct", "change_ly_nm", "change_ly_pp", "direction")


def _rows(df: pd.DataFrame, fields=None):
    """``df.itertuples(index=False)`` built from column lists (the same values, faster).

    With ``fields`` (valid names) only those columns that are present are taken, when the
    column names are unique (the fields then have the same names and values).
    """
    cols = list(df.columns)
    if fields is not None and df.columns.is_unique:
        cols = [c for c in fields if c in df.columns]
    row = _row_type(tuple(map(str, cols)))
    return itertools.starmap(row, zip(*(df[c].tolist() for c in cols)))


@functools.lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]):
    """The namedtuple class of ``_rows`` for these column names (creating one is slow)."""
    return collections.namedtuple("Row", names, rename=True)


def _driver_lists(drivers) -> dict | None:
    """Driver rows per KPI as plain tuples (unit text or None, contribution, segment, share).

    Only for a single DataFrame with unique columns and no NaN contribution (where the
    pandas path of ``_driver_text`` would behave differently); else None.
    """
    if not isinstance(drivers, pd.DataFrame) or not drivers.columns.is_unique:
        return None
    require_frame(drivers, "drivers", ["kpi", "segment", "contribution"])
    contrib = drivers["contribution"]
    has_nan = np.isnan(contrib.to_numpy()).any() if isinstance(contrib.dtype, np.dtype) and \
        contrib.dtype.kind == "f" else contrib.isna().any()
    if contrib.dtype.kind != "f" or has_nan:
        return None
    n = len(drivers)
    units = [text(u) for u in drivers["unit"].tolist()] if "unit" in drivers.columns else [None] * n
    shares = drivers["share_of_change"].tolist() if "share_of_change" in drivers.columns else \
        [float("nan")] * n
    out: dict = {}
    for key, u, c, seg, sh in zip(drivers["kpi"].tolist(), units, contrib.tolist(),
                                  drivers["segment"].tolist(), shares):
        if is_blank(key) and not isinstance(key, str):
            continue  # groupby(dropna=True) leaves NaN keys out
        out.setdefault(key, []).append((u, c, seg, sh))
    return out


def _driver_text_lists(rows, r, fmt, lang, pct) -> str:
    """``_driver_text`` on ``_driver_lists`` rows of ``r.kpi`` (or None)."""
    if rows is None:
        return ""
    rows = [t for t in rows if t[0] is None or t[0] == "" or t[0] == r.unit]
    if not rows:
        return ""
    lower = getattr(r, "direction", "higher") == "lower"
    good = [t[1] * (-1 if lower else 1) for t in rows]
    missed = r.status in ("red", "amber")
    best = min(good) if missed else max(good)
    pick = good.index(best)  # the first one, like idxmin / idxmax
    if (missed and good[pick] >= 0) or (not missed and good[pick] <= 0):
        return ""
    _, contribution, segment, share = rows[pick]
    label = ("主要拖累：" if missed else "主要贡献：") if lang == "zh" else \
        ("main drag: " if missed else "main driver: ")
    amount = _pp(contribution * 100, lang) if pct else fmt(contribution, True)
    s = f"{label}{segment} {amount}"
    # A share of several hundred percent only says the total barely moved: not meaningful.
    if not is_blank(share) and abs(share) <= MAX_SHARE:
        s += f"（占变化 {_share(share)}）" if lang == "zh" else f" ({_share(share)} of the change)"
    return s


def _drivers_table(drivers) -> pd.DataFrame | None:
    if drivers is None:
        return None
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
        ranks = {(u, k): (rk, ch) for u, k, rk, ch in zip(
            *(ranked[c].tolist() for c in ("unit", "kpi", "rank", "rank_change")))}
    drv_lists = _driver_lists(drivers)
    if drv_lists is None:
        drv = _drivers_table(drivers)
        # the driver rows of each KPI, split once (the original index is kept for idxmin/loc)
        drv_by_kpi = {} if drv is None else {k: g for k, g in drv.groupby(
            "kpi", sort=False, dropna=True, observed=True)}
        driver_text = _driver_text
    else:
        drv_by_kpi, driver_text = drv_lists, _driver_text_lists
    words = STATUS_WORDS[lang]
    texts = []
    for r in _rows(compared, _ROW_FIELDS):
        unit_s, pct = r.kpi_unit, bool(r.is_percent)
        fmt = lambda v, signed=False: format_value(v, unit_s, lang=lang, is_percent=pct,  # noqa
                                                   signed=signed)
        has_actual = not is_blank(r.actual)
        parts = []
        if lang == "zh":
            parts.append(f"{r.name} {fmt(r.actual)}" if has_actual else f"{r.name} 无实际值")
        else:
            parts.append(f"{r.name} {fmt(r.actual)}" if has_actual else f"{r.name}: no actual")
        if not is_blank(r.target):
            parts.append(("目标 " if lang == "zh" else "target ") + fmt(r.target))
        if not is_blank(r.achievement):
            label = "达成率" if lang == "zh" else "achievement"
            paren = ("（{}）" if lang == "zh" else " ({})").format(words[r.status])
            parts.append(f"{label} {excel_fixed(r.achievement * 100, 1)}%{paren}")
        elif r.status in words and has_actual:
            parts[-1] += ("（{}）" if lang == "zh" else " ({})").format(words[r.status])
        yoy = "同比 " if lang == "zh" else "YoY "
        pp = getattr(r, "change_ly_pp", float("nan"))
        if has_actual and bool(r.change_ly_nm) and not pct:
            parts.append(yoy + ("n.m.（去年基数≤0）" if lang == "zh" else "n.m. (last year <= 0)"))
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
        d = driver_text(drv_by_kpi.get(r.kpi), r, fmt, lang, pct)
        if d:
            sentence += ("；" if lang == "zh" else "; ") + d
        texts.append(sentence + ("。" if lang == "zh" else "."))
    units, keys = compared["unit"].tolist(), compared["kpi"].tolist()
    if texts and all(isinstance(v, str) for v in units + keys):
        # all text: the str columns pandas would infer, built directly
        return frame_of({"unit": text_array(units), "kpi": text_array(keys),
                         "text": text_array(texts)}, len(texts))
    return pd.DataFrame({"unit": compared["unit"].to_numpy(), "kpi": compared["kpi"].to_numpy(),
                         "text": texts})


def _driver_text(rows, r, fmt, lang, pct) -> str:
    """``rows``: the driver rows of ``r.kpi`` (or None)."""
    if rows is None:
        return ""
    if "unit" in rows.columns:
        mine = rows["unit"].map(text)
        rows = rows[(mine == "") | (mine == r.unit)]
    if rows.empty:
        return ""
    lower = getattr(r, "direction", "higher") == "lower"
    good = rows["contribution"] * (-1 if lower else 1)
    missed = r.status in ("red", "amber")
    pick = good.idxmin() if missed else good.idxmax()
    if (missed and good[pick] >= 0) or (not missed and good[pick] <= 0):
        return ""
    row = rows.loc[pick]
    label = ("主要拖累：" if missed else "主要贡献：") if lang == "zh" else \
        ("main drag: " if missed else "main driver: ")
    amount = _pp(row["contribution"] * 100, lang) if pct else fmt(row["contribution"], True)
    s = f"{label}{row['segment']} {amount}"
    share = row.get("share_of_change", float("nan"))
    # A share of several hundred percent only says the total barely moved: not meaningful.
    if not is_blank(share) and abs(share) <= MAX_SHARE:
        s += f"（占变化 {_share(share)}）" if lang == "zh" else f" ({_share(share)} of the change)"
    return s
