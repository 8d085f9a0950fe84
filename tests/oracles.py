"""Reference versions of computations production does another way, for the tests to compare.

Each is written the plain pandas way, slower, and used only by tests: production keeps one path.
"""
import numpy as np
import pandas as pd

from reviewkit.analysis._common import (_KPI_DEFAULTS, _KPI_FLOATS, _KPI_TEXTS, AGGREGATIONS, DIRECTIONS,
                                        SCORE_NUMBERS, _truthy, api_frame, choice, is_blank, kpi_keys,
                                        require_frame, text, to_float)
from reviewkit.analysis._facts import value_spec
from reviewkit.analysis.analyse import _default_dims
from reviewkit.analysis.breakdown import drilldown
from reviewkit.errors import InputError


def kpi_table_frame(kpis: pd.DataFrame) -> pd.DataFrame:
    """``kpi_table`` written with pandas operations, column by column (the reference)."""
    k = kpis.copy()
    keys = k["key"].map(text)
    if (keys == "").any():
        raise InputError("table 'kpis' has a row without a key",
                         expected="a unique KPI key per row")
    dup = keys[keys.duplicated()]
    if len(dup):
        raise InputError("table 'kpis' has a duplicate key", value=dup.iloc[0],
                         expected="each KPI key once")
    k["key"] = keys
    for col, default in _KPI_DEFAULTS.items():
        if col not in k.columns:
            k[col] = default
    for col in _KPI_TEXTS:
        k[col] = k[col].map(text).astype(object)
    k["name"] = [n if n else key for n, key in zip(k["name"], k["key"])]
    for col in ("direction", "aggregation"):
        k[col] = k[col].map(lambda v, col=col: choice(col, v)).astype(object)
    k["direction"] = k["direction"].str.lower().replace("", "higher")
    k["aggregation"] = k["aggregation"].str.lower().replace("", "sum")
    for col, allowed in (("direction", DIRECTIONS), ("aggregation", AGGREGATIONS)):
        bad = k[~k[col].isin(allowed)]
        if len(bad):
            raise InputError(f"KPI '{bad['key'].iloc[0]}' has an unknown {col}",
                             value=bad[col].iloc[0], expected=" | ".join(allowed))
    for col in _KPI_FLOATS:
        k[col] = to_float(k[col], "kpis", col)
    k["green"] = k["green"].fillna(1.0)
    k["amber"] = k["amber"].fillna(0.9)
    k["weight"] = k["weight"].fillna(1.0)
    if (k["weight"] < 0).any():
        bad = k[k["weight"] < 0]
        raise InputError(f"KPI '{bad['key'].iloc[0]}' has a negative weight",
                         value=float(bad["weight"].iloc[0]), expected="a weight >= 0")
    bad = k[k["amber"] > k["green"]]
    if len(bad):
        raise InputError(f"KPI '{bad['key'].iloc[0]}' has an amber threshold above green",
                         value=float(bad["amber"].iloc[0]), expected=f"amber <= green "
                         f"({float(bad['green'].iloc[0])})")
    pct = [(_truthy(p) if not is_blank(p) else u == "%")
           for p, u in zip(k["is_percent"], k["unit"])]
    k["is_percent"] = pd.Series(pct, index=k.index, dtype=bool)
    rng = k[(k["direction"] == "range") & k["range_low"].isna() & k["range_high"].isna()]
    if len(rng):
        raise InputError(f"KPI '{rng['key'].iloc[0]}' has direction 'range' but no range_low "
                         "or range_high", expected="at least one bound of the target band")
    return k.set_index("key", drop=False)


def scorecard_frame(scorecard: pd.DataFrame, kpis: pd.DataFrame) -> pd.DataFrame:
    """``score_columns`` written with pandas operations (the reference): the validated scorecard
    as a DataFrame, its numbers float64."""
    scorecard = api_frame(scorecard, "scorecard")
    require_frame(scorecard, "scorecard", ["unit", "kpi", "target", "actual"])
    s = scorecard.copy()
    keys, row_units = kpi_keys(s["kpi"].tolist(), kpis)
    for col in SCORE_NUMBERS:
        s[col] = to_float(s[col], "scorecard", col, row_units) if col in s.columns else np.nan
    s["unit"] = s["unit"].map(text).astype(object)
    s["kpi"] = pd.Series(keys, index=s.index, dtype=object)
    if (s["unit"] == "").any():
        raise InputError("table 'scorecard' has a row without a unit",
                         expected="a department, region or person in column 'unit'")
    unknown = s.loc[~s["kpi"].isin(kpis.index), "kpi"]
    if len(unknown):
        raise InputError("table 'scorecard' names a KPI that is not in table 'kpis'",
                         value=unknown.iloc[0], expected="one of " + ", ".join(kpis.index[:20]))
    dup = s[s.duplicated(["unit", "kpi"])]
    if len(dup):
        raise InputError("table 'scorecard' has the same unit and KPI twice",
                         value=f"{dup['unit'].iloc[0]} / {dup['kpi'].iloc[0]}",
                         expected="one row per unit and KPI")
    return s.reset_index(drop=True)


def drill_all_frames(facts, dims, k, compared, depth, min_share):
    """``analyse``'s drill-downs of every KPI and unit x KPI with ``drilldown`` on DataFrames
    (the reference of ``analysis.analyse._drill_all``): (trees, drivers, skipped)."""
    trees, drivers, skipped = [], [], []
    if facts is not None and not facts.empty:
        use = dims if dims is not None else _default_dims(facts, k)
        # hash each dimension once; every drill-down below then reuses the category codes
        facts = facts.astype({d: "category" for d in use if d in facts.columns})
        units = facts["unit"] if "unit" in facts.columns else None
        unit_facts: dict = {}
        unit_of_kpi: dict[str, list] = {}
        for u, kk in zip(compared["unit"].tolist(), compared["kpi"].tolist()):
            unit_of_kpi.setdefault(kk, []).append(u)
        for key in k.index:
            try:
                spec = value_spec(k.loc[key])
                if not set(spec.columns) <= set(facts.columns):
                    raise InputError("measure columns not in facts", value=spec.columns)
                tree = drilldown(facts, key, k, dims=use, depth=depth, min_share=min_share)
                trees.append(tree.assign(kpi=key))
                for unit in (unit_of_kpi.get(key, ()) if units is not None else []):
                    sub = unit_facts.get(unit)
                    if sub is None:  # the same rows for every KPI: filter once per unit
                        sub = unit_facts[unit] = facts[units == unit]
                    if sub.empty:
                        continue
                    try:
                        t = drilldown(sub, key, k, dims=[d for d in use if d != "unit"], depth=1,
                                      min_share=min_share)
                    except InputError:
                        continue
                    drivers.append(t[t["level"] == 1].assign(kpi=key, unit=unit))
            except InputError as e:
                skipped.append({"kpi": key, "reason": str(e)})
    return (pd.concat(trees, ignore_index=True) if trees else pd.DataFrame(),
            pd.concat(drivers, ignore_index=True) if drivers else pd.DataFrame(),
            pd.DataFrame(skipped, columns=["kpi", "reason"]))


def conditional_formatting_elements(rules, styles, first_priority: int):
    """The ``<conditionalFormatting>`` elements ``ooxml.rules.conditional_formatting_text`` writes as
    text, built with lxml (the reference for the text writer's escaping and attribute order)."""
    from lxml import etree

    from reviewkit.ooxml._xml import q
    from reviewkit.ooxml.rules import CellIsRule, ColorScaleRule, DataBarRule, ExpressionRule, _formula
    from reviewkit.ooxml.styles import argb

    def cfvo(t):
        el = etree.Element(q("cfvo"), type=t.type)
        if t.value is not None:
            el.set("val", _formula(t.value))
        return el

    out = {}
    for i, rule in enumerate(rules):
        cf = out.get(rule.sqref)
        if cf is None:
            cf = out[rule.sqref] = etree.Element(q("conditionalFormatting"), sqref=rule.sqref)
        kind = type(rule)
        el = etree.SubElement(cf, q("cfRule"), type=rule._TYPE)
        if kind in (CellIsRule, ExpressionRule):
            el.set("dxfId", str(styles.dxf_index(rule.dxf)))
        el.set("priority", str(first_priority + i))
        if kind in (CellIsRule, ExpressionRule):
            if rule.stop_if_true:
                el.set("stopIfTrue", "1")
            if kind is CellIsRule:
                el.set("operator", rule.operator)
            for f in rule.formulas if kind is CellIsRule else (_formula(rule.formula),):
                etree.SubElement(el, q("formula")).text = f
        elif kind is ColorScaleRule:
            cs = etree.SubElement(el, q("colorScale"))
            cs.extend(cfvo(t) for t in rule.thresholds)
            for c in rule.colors:
                etree.SubElement(cs, q("color"), rgb=argb(c))
        elif kind is DataBarRule:
            bar = etree.SubElement(el, q("dataBar"))
            if not rule.show_value:
                bar.set("showValue", "0")
            bar.extend((cfvo(rule.low), cfvo(rule.high)))
            etree.SubElement(bar, q("color"), rgb=argb(rule.color))
        else:
            icons = etree.SubElement(el, q("iconSet"), iconSet=rule.icon_set)
            if not rule.show_value:
                icons.set("showValue", "0")
            if rule.reverse:
                icons.set("reverse", "1")
            icons.extend(cfvo(t) for t in rule.thresholds)
    return list(out.values())
