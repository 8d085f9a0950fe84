"""Reference versions of computations production does another way, for the tests to compare.

Each is written the plain pandas way, slower, and used only by tests: production keeps one path.
"""
import numpy as np
import pandas as pd

from reviewkit.analysis._common import (_KPI_DEFAULTS, _KPI_FLOATS, _KPI_TEXTS, AGGREGATIONS, DIRECTIONS,
                                        SCORE_NUMBERS, _truthy, api_frame, choice, is_blank, kpi_keys,
                                        require_frame, text, to_float)
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
