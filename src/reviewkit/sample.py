"""A realistic sample company for the demo, the docs and the tests.

``make_sample_review`` builds a complete ``Review`` for a B2B software seller with six
regional sales units over three years (2023, 2024 and the review year 2025):

* **Facts**: ~24,000 customer-month rows (period ``YYYY-MM``, unit, city, industry, company
  size, signing cohort, product line, sales rep, customer type and the measures of
  ``presets.FACT_MEASURES``).
* **Scorecard**: unit x KPI of the sales preset plus the SaaS renewal rate. ``actual``,
  ``last_year`` and ``year_before`` are *computed from the facts* (sum of the measure, or
  sum(numerator) / sum(denominator) for ratio KPIs, per unit and calendar year), so every
  number can be traced back to detail rows. Targets are set from the actuals to plant the
  stories below; benchmarks (industry average, competitor, industry top) for the rate KPIs.

Planted stories (what the analysis should find):

1. The renewal rate fell in 2025 mainly among internet companies under 300 staff (budget
   cuts, price sensitivity) and in the 2024Q3 signing cohort (delivery overload quarter).
2. East China missed its revenue target (about 90%) because manufacturing sales dropped;
   the other industries in East China grew.
3. Causes carry evidence computed from the facts, except one cause that says "maybe" with
   no evidence, and one red KPI (Northwest new customers) that has no cause at all.
4. Progress holds the METHOD.md examples: planned 1st -> 15th, done the 18th (+20%), and the
   inconsistent published row (due the 31st, done the 28th, text says "2 days late, -6.5%").

Everything is deterministic for a given ``seed``; both languages hold the same numbers.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from . import model
from .errors import InputError
from .messages import pick
from .presets import FACT_DIMENSIONS, FACT_MEASURES, SAMPLE_KPIS, fact_column, kpi_frame

REVIEW_YEAR = 2025
YEARS = (REVIEW_YEAR - 2, REVIEW_YEAR - 1, REVIEW_YEAR)
ROWS_PER_UNIT_YEAR = 1300  # x 6 units x 3 years ≈ 23,000 fact rows (more units, more rows)

_UNITS = (("华东", "East China"), ("华南", "South China"), ("华北", "North China"),
          ("西南", "Southwest"), ("华中", "Central China"), ("西北", "Northwest"),
          ("东北", "Northeast"), ("海外", "Overseas"))
_UNIT_SIZE = (1.35, 1.15, 1.05, 0.85, 0.85, 0.75, 0.7, 0.6)
_CITIES = {"华东": ("上海", "杭州", "南京"), "华南": ("深圳", "广州"), "华北": ("北京", "天津"),
           "西南": ("成都", "重庆"), "华中": ("武汉", "长沙"), "西北": ("西安", "兰州"),
           "东北": ("沈阳", "大连"), "海外": ("新加坡", "吉隆坡")}
_REPS = {"华东": ("张伟", "王芳", "李强"), "华南": ("刘洋", "陈静"), "华北": ("赵磊", "孙丽"),
         "西南": ("周杰", "吴敏"), "华中": ("郑浩", "冯雪"), "西北": ("何涛", "马丽"),
         "东北": ("高峰", "林娜"), "海外": ("罗斌", "唐薇")}
_INDUSTRIES = ("互联网", "制造", "零售", "金融", "教育", "医疗")
_INDUSTRY_P = (0.26, 0.24, 0.18, 0.12, 0.1, 0.1)
_SIZES = ("<300人", "300-1000人", ">1000人")
_SIZE_P = (0.5, 0.32, 0.18)
_PRODUCTS = ("标准版", "专业版", "旗舰版")
_PRODUCT_P = (0.5, 0.35, 0.15)
_TYPES = ("新客", "老客", "召回")
_TYPE_P = (0.25, 0.67, 0.08)

_EN = {
    "上海": "Shanghai", "杭州": "Hangzhou", "南京": "Nanjing", "深圳": "Shenzhen", "广州": "Guangzhou",
    "北京": "Beijing", "天津": "Tianjin", "成都": "Chengdu", "重庆": "Chongqing", "武汉": "Wuhan",
    "长沙": "Changsha", "西安": "Xi'an", "兰州": "Lanzhou", "沈阳": "Shenyang", "大连": "Dalian",
    "新加坡": "Singapore", "吉隆坡": "Kuala Lumpur",
    "张伟": "Zhang Wei", "王芳": "Wang Fang", "李强": "Li Qiang", "刘洋": "Liu Yang", "陈静": "Chen Jing",
    "赵磊": "Zhao Lei", "孙丽": "Sun Li", "周杰": "Zhou Jie", "吴敏": "Wu Min", "郑浩": "Zheng Hao",
    "冯雪": "Feng Xue", "何涛": "He Tao", "马丽": "Ma Li", "高峰": "Gao Feng", "林娜": "Lin Na",
    "罗斌": "Luo Bin", "唐薇": "Tang Wei",
    "互联网": "Internet", "制造": "Manufacturing", "零售": "Retail", "金融": "Finance", "教育": "Education",
    "医疗": "Healthcare", "<300人": "<300 staff", "300-1000人": "300-1,000 staff", ">1000人": ">1,000 staff",
    "标准版": "Standard", "专业版": "Professional", "旗舰版": "Enterprise",
    "新客": "New", "老客": "Repeat", "召回": "Win-back",
    **{zh: en for zh, en in _UNITS},
}

#: the stories' segments, in Chinese (use ``label`` for the English value)
STORY = {"renewal_industry": "互联网", "renewal_size": "<300人", "renewal_cohort": f"{REVIEW_YEAR - 1}Q3",
         "miss_unit": "华东", "miss_industry": "制造", "no_cause_unit": "西北", "no_cause_kpi": "new_customers"}

#: the hand-written tables: plan, progress, results, actions, keep/stop/start, risks, budget
_TABLES = tomllib.loads((Path(__file__).parent / "data" / "sample.toml").read_text(encoding="utf-8"))
_DATE = re.compile(r"([YN])-(\d\d-\d\d)")

# desired achievement per KPI for units 0..7 (targets are derived from the actuals)
_ACHIEVEMENT = {
    "revenue": (0.90, 1.05, 0.98, 1.08, 0.96, 1.02, 0.94, 1.01),
    "new_customers": (0.95, 1.03, 1.00, 0.92, 1.06, 0.80, 0.97, 1.04),
    "repurchase_rate": (1.02, 1.20, 0.97, 1.01, 0.95, 1.03, 0.99, 1.00),
    "churn_rate": (0.96, 1.04, 0.86, 1.02, 0.98, 1.00, 0.97, 1.01),
    "sales_cycle": (1.01, 1.03, 0.97, 0.99, 1.05, 0.93, 1.00, 0.98),
    "delivery_days": (0.92, 0.95, 0.97, 1.02, 0.90, 0.99, 0.96, 1.00),
}
RENEWAL_TARGET = 0.88
_BENCHMARKS = {  # industry_avg, competitor, industry_top
    "repurchase_rate": (0.38, 0.42, 0.55), "churn_rate": (0.10, 0.09, 0.05),
    "sales_cycle": (52.0, 48.0, 35.0), "delivery_days": (24.0, 22.0, 15.0),
    "renewal_rate": (0.82, 0.85, 0.92),
}


def label(value: str, lang: str) -> str:
    """A sample label (unit, city, industry…) in ``lang``; Chinese is the canonical spelling."""
    return value if lang == "zh" else _EN.get(value, value)


def make_sample_review(lang: str = "zh", seed: int = 7, units: int = 6) -> model.Review:
    """The sample company's complete review in ``lang`` (same numbers in both languages)."""
    if lang not in model.LANGS:
        raise InputError("unknown language", value=lang, expected=" or ".join(model.LANGS))
    if not isinstance(units, int) or not 6 <= units <= len(_UNITS):
        raise InputError("the sample company has 6 to 8 units", value=units, expected=f"6..{len(_UNITS)}")
    facts_zh = _make_facts(seed, units)
    kpis = kpi_frame(SAMPLE_KPIS, lang)
    scorecard = _make_scorecard(facts_zh, units)
    unit_names = [u for u, _ in _UNITS[:units]]

    facts = _localize_facts(facts_zh, lang)
    scorecard["unit"] = scorecard["unit"].map(lambda v: label(v, lang))
    tables = {
        "KPIs": kpis,
        "Scorecard": scorecard,
        "Facts": facts,
        "Causes": _causes(facts_zh, lang),
        "Plan": _table("plan", lang),
        "Progress": _table("progress", lang),
        "Results": _table("results", lang),
        "Actions": _table("actions", lang),
        "NextYear": _next_year(scorecard, unit_names, lang),
        "KeepStopStart": _table("keep_stop_start", lang),
        "Risks": _table("risks", lang),
        "Budget": _table("budget", lang),
        "Campaigns": _campaigns(lang),
    }
    settings = {
        "company": "华信云科技有限公司" if lang == "zh" else "Huaxin Cloud Technology Co., Ltd.",
        "review_year": REVIEW_YEAR,
        "unit_label": "区域" if lang == "zh" else "Region",
        "as_of": pd.Timestamp(f"{REVIEW_YEAR}-12-31"),
        "deviation_threshold": 0.10,
        "max_parallel_tasks": 3,
        "plan_end": pd.Timestamp(f"{REVIEW_YEAR + 1}-12-31"),
        "currency_unit": "万元" if lang == "zh" else "CNY 10k",
    }
    dims = [fact_column(k, lang) for k in FACT_DIMENSIONS]
    measures = [c for c in facts.columns if c in {fact_column(k, lang) for k in FACT_MEASURES}]
    return model.Review(tables=tables, settings=settings, lang=lang, source=None, dimensions=dims,
                        measures=measures)


# --- facts --------------------------------------------------------------------------
def _make_facts(seed: int, units: int) -> pd.DataFrame:
    """Customer-month rows with canonical column keys and Chinese labels."""
    rng = np.random.default_rng(seed)
    unit_idx = np.repeat(np.arange(units), [int(ROWS_PER_UNIT_YEAR * 3 * s) for s in _UNIT_SIZE[:units]])
    n = len(unit_idx)
    year = rng.choice(np.array(YEARS), size=n, p=(0.3, 0.33, 0.37))
    month = rng.integers(1, 13, size=n)
    unit = np.array([_UNITS[i][0] for i in range(units)], dtype=object)[unit_idx]
    city = np.array([rng.choice(_CITIES[u]) for u in unit], dtype=object)
    rep = np.array([_REPS[u][k % len(_REPS[u])] for u, k in zip(unit, rng.integers(0, 6, size=n))], dtype=object)
    industry = rng.choice(np.array(_INDUSTRIES, dtype=object), size=n, p=_INDUSTRY_P)
    size = rng.choice(np.array(_SIZES, dtype=object), size=n, p=_SIZE_P)
    product = rng.choice(np.array(_PRODUCTS, dtype=object), size=n, p=_PRODUCT_P)
    ctype = rng.choice(np.array(_TYPES, dtype=object), size=n, p=_TYPE_P)
    quarter = (month - 1) // 3 + 1
    # signing cohort: new customers sign in the current quarter; others 1-20 quarters earlier
    q_index = year * 4 + quarter - 1
    back = np.where(ctype == "新客", 0, rng.integers(1, 21, size=n))
    # the 2024Q3 cohort is a big one (the overloaded quarter signed a lot)
    big = (ctype != "新客") & (q_index > (REVIEW_YEAR - 1) * 4 + 2) & (rng.random(n) < 0.08)
    c_index = np.where(big, (REVIEW_YEAR - 1) * 4 + 2, q_index - back)
    cohort = np.array([f"{c // 4}Q{c % 4 + 1}" for c in c_index], dtype=object)

    new = ctype == "新客"
    repeat = ctype == "老客"
    orders = rng.poisson(1.2, size=n) + 1
    size_factor = np.select([size == "<300人", size == "300-1000人"], [0.6, 1.3], 2.8)
    product_factor = np.select([product == "标准版", product == "专业版"], [0.8, 1.3], 2.4)
    growth = np.select([year == YEARS[0], year == YEARS[1]], [1.0, 1.12], 1.25)
    miss = (unit == STORY["miss_unit"]) & (industry == STORY["miss_industry"]) & (year == REVIEW_YEAR)
    growth = np.where(miss, 0.55, growth)
    sales = np.round(orders * size_factor * product_factor * growth * rng.lognormal(1.0, 0.45, size=n), 2)

    customers = np.ones(n, dtype=np.int64)
    repurchased = (repeat & (rng.random(n) < 0.45)).astype(np.int64)
    churned = (~new & (rng.random(n) < 0.085)).astype(np.int64)
    second = (new & (rng.random(n) < 0.30)).astype(np.int64)
    cycle = orders * np.clip(np.round(rng.normal(45, 12, size=n)), 10, 120).astype(np.int64)
    overload = (year == REVIEW_YEAR - 1) & (quarter == 3)
    delivery = orders * np.clip(np.round(rng.normal(np.where(overload, 31, 20), 5, size=n)), 5, 60).astype(np.int64)

    due = (~new & (rng.random(n) < 0.4)).astype(np.int64)
    p_renew = np.select([year == YEARS[0], year == YEARS[1]], [0.85, 0.87], 0.865)
    small_internet = (industry == STORY["renewal_industry"]) & (size == STORY["renewal_size"])
    p_renew = np.where((year == REVIEW_YEAR) & small_internet, 0.52, p_renew)
    p_renew = np.where((year == REVIEW_YEAR) & (cohort == STORY["renewal_cohort"]), 0.55, p_renew)
    renewed = (due.astype(bool) & (rng.random(n) < p_renew)).astype(np.int64)
    due_amount = np.round(due * sales * 0.9, 2)
    renewed_amount = np.round(renewed * due_amount * rng.uniform(0.95, 1.2, size=n), 2)

    df = pd.DataFrame({
        "period": [f"{y}-{m:02d}" for y, m in zip(year, month)], "unit": unit, "city": city,
        "industry": industry, "company_size": size, "cohort": cohort, "product_line": product,
        "sales_rep": rep, "customer_type": ctype,
        "sales": sales, "orders": orders.astype(np.int64), "new_customers": new.astype(np.int64),
        "customers": customers, "repurchased": repurchased, "churned": churned,
        "retained": customers - churned, "second_buyers": second,
        "repeat_sales": np.where(repeat, sales, 0.0), "cycle_days": cycle.astype(np.int64),
        "delivery_days": delivery.astype(np.int64), "due": due, "renewed": renewed,
        "due_amount": due_amount, "renewed_amount": renewed_amount,
    })
    order = np.lexsort((df["unit"].to_numpy(), df["period"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


def _localize_facts(facts: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = facts.copy()
    if lang == "en":
        for col in ("unit", "city", "industry", "company_size", "product_line", "sales_rep", "customer_type"):
            out[col] = out[col].map(lambda v: _EN.get(v, v))
    rename = {k: fact_column(k, lang) for k in (*FACT_DIMENSIONS, *FACT_MEASURES) if k in out.columns}
    return out.rename(columns=rename)


def fact_value(facts: pd.DataFrame, kpi_key: str) -> pd.Series:
    """Value of a sample KPI per (unit, year) from canonical-key facts (Chinese labels)."""
    kpi = next(k for k in SAMPLE_KPIS if k.key == kpi_key)
    year = facts["period"].str[:4].astype(int)
    grouped = facts.groupby([facts["unit"], year])
    if kpi.aggregation == "sum":
        return grouped[kpi.measure].sum()
    return grouped[kpi.numerator].sum() / grouped[kpi.denominator].sum()


# --- scorecard ----------------------------------------------------------------------
def _nice(value: float, kpi_key: str) -> float:
    if kpi_key == "revenue":  # rounded down, so a planned 90% stays at or above 90%
        return float(np.floor(value / 10) * 10)
    if kpi_key == "new_customers":
        return float(round(value / 5) * 5)
    if kpi_key in ("sales_cycle", "delivery_days"):
        return float(round(value * 2) / 2)
    return float(round(value * 200) / 200)  # rates to 0.5 percentage points


def _make_scorecard(facts: pd.DataFrame, units: int) -> pd.DataFrame:
    rows = []
    values = {k.key: fact_value(facts, k.key) for k in SAMPLE_KPIS}
    for i, (unit, _) in enumerate(_UNITS[:units]):
        for kpi in SAMPLE_KPIS:
            v = values[kpi.key]
            actual, ly, yb = (float(v.get((unit, y), np.nan)) for y in (REVIEW_YEAR, REVIEW_YEAR - 1, REVIEW_YEAR - 2))
            if kpi.aggregation == "sum":
                actual, ly, yb = (round(x, 2) for x in (actual, ly, yb))
            if kpi.key == "renewal_rate":
                target = RENEWAL_TARGET
            else:
                ach = _ACHIEVEMENT[kpi.key][i]
                # lower is better uses the linear rule: achievement = 2 - actual / target
                target = _nice(actual / ach if kpi.direction == "higher" else actual / (2 - ach), kpi.key)
            bench = _BENCHMARKS.get(kpi.key, (np.nan, np.nan, np.nan))
            rows.append({"unit": unit, "kpi": kpi.key, "target": target, "actual": actual, "last_year": ly,
                         "year_before": yb, "industry_avg": bench[0], "competitor": bench[1],
                         "industry_top": bench[2]})
    return pd.DataFrame(rows, columns=[c.key for c in model.SCORECARD.input_columns])


# --- the other tables ---------------------------------------------------------------
def _d(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def _rate(df: pd.DataFrame, mask) -> float:
    sub = df[mask]
    return float(sub["renewed"].sum() / sub["due"].sum())


def _causes(facts: pd.DataFrame, lang: str) -> pd.DataFrame:
    year = facts["period"].str[:4].astype(int)
    y, ly = year == REVIEW_YEAR, year == REVIEW_YEAR - 1
    east = facts["unit"] == STORY["miss_unit"]
    manu = facts["industry"] == STORY["miss_industry"]
    m_now, m_ly = facts.loc[east & manu & y, "sales"].sum(), facts.loc[east & manu & ly, "sales"].sum()
    o_now, o_ly = facts.loc[east & ~manu & y, "sales"].sum(), facts.loc[east & ~manu & ly, "sales"].sum()
    si = (facts["industry"] == STORY["renewal_industry"]) & (facts["company_size"] == STORY["renewal_size"])
    coh = facts["cohort"] == STORY["renewal_cohort"]
    south = facts["unit"] == "华南"
    r_si, r_si_ly, r_other = _rate(facts, si & y), _rate(facts, si & ly), _rate(facts, ~si & ~coh & y)
    r_coh, r_coh_ly = _rate(facts, coh & y), _rate(facts, ~coh & ly)
    rep_south = facts.loc[south & y, "repurchased"].sum() / facts.loc[south & y, "customers"].sum()
    rep_south_ly = facts.loc[south & ly, "repurchased"].sum() / facts.loc[south & ly, "customers"].sum()
    u = lambda v: label(v, lang)  # noqa: E731
    rows = [
        (u("华东"), "revenue", "problem",
         pick(lang, "华东制造业客户预算收缩，订单推迟", "East China manufacturing clients cut budgets and delayed orders"),
         pick(lang, f"华东制造业销售额 {m_now:,.0f} 万元，同比 {m_now / m_ly - 1:+.0%}；其他行业同比 {o_now / o_ly - 1:+.0%}",
               f"East China manufacturing sales {m_now:,.0f} (CNY 10k), {m_now / m_ly - 1:+.0%} vs LY; "
               f"other industries {o_now / o_ly - 1:+.0%}"),
         pick(lang, "制造业客户专项：分期付款方案", "Manufacturing programme: instalment plans"),
         pick(lang, "张伟", "Zhang Wei"), _d(f"{REVIEW_YEAR + 1}-03-31")),
        (u("华南"), "renewal_rate", "problem",
         pick(lang, "预算削减使 300 人以下互联网企业对价格敏感，流失客户中超过 40% 转向低价产品",
               "Budget cuts made internet firms under 300 staff price-sensitive; over 40% of those lost moved to a cheaper product"),
         pick(lang, f"互联网<300人续约率 {r_si:.0%}（去年 {r_si_ly:.0%}），其他客户 {r_other:.0%}",
               f"Renewal of internet firms <300 staff {r_si:.0%} (LY {r_si_ly:.0%}); other customers {r_other:.0%}"),
         pick(lang, "为小型互联网客户推出轻量版价格方案", "Launch a light price plan for small internet firms"),
         pick(lang, "刘洋", "Liu Yang"), _d(f"{REVIEW_YEAR + 1}-03-31")),
        (u("华东"), "renewal_rate", "problem",
         pick(lang, f"{STORY['renewal_cohort']} 签约批次交付超负荷，客户上线慢、活跃度低",
               f"The {STORY['renewal_cohort']} cohort was delivered during an overload; customers went live late and stayed inactive"),
         pick(lang, f"{STORY['renewal_cohort']} 批次续约率 {r_coh:.0%}，其他批次去年 {r_coh_ly:.0%}",
               f"{STORY['renewal_cohort']} cohort renewal {r_coh:.0%}; other cohorts LY {r_coh_ly:.0%}"),
         pick(lang, "交付排期设上限并对该批次做回访", "Cap the delivery schedule and revisit that cohort"),
         pick(lang, "王芳", "Wang Fang"), _d(f"{REVIEW_YEAR + 1}-02-28")),
        (u("华南"), "repurchase_rate", "success",
         pick(lang, "大客户经理制：A类客户复购 80%，B类仅 45%", "Key-account managers: A accounts repurchase 80%, B only 45%"),
         pick(lang, f"华南复购率 {rep_south:.1%}（去年 {rep_south_ly:.1%}）",
               f"South China repurchase rate {rep_south:.1%} (LY {rep_south_ly:.1%})"),
         pick(lang, "推广到华北、华中", "Roll out to North and Central China"),
         pick(lang, "陈静", "Chen Jing"), _d(f"{REVIEW_YEAR + 1}-06-30")),
        *_renewal_causes(facts, lang),
        (u("华北"), "churn_rate", "problem",
         pick(lang, "可能是市场不好", "Maybe the market was bad"), "", "", "", pd.NaT),
    ]
    return pd.DataFrame(rows, columns=["unit", "kpi", "kind", "cause", "evidence", "action", "owner", "due"])


def _renewal_causes(facts: pd.DataFrame, lang: str) -> list[tuple]:
    """One renewal cause per unit (South China has its own, with the lost customers' destination)."""
    y = facts["period"].str[:4].astype(int) == REVIEW_YEAR
    si = (facts["industry"] == STORY["renewal_industry"]) & (facts["company_size"] == STORY["renewal_size"])
    rows = []
    for unit in facts["unit"].unique():
        if unit == "华南":
            continue
        here = (facts["unit"] == unit) & y
        r_si, r_other = _rate(facts, here & si), _rate(facts, here & ~si)
        rows.append((label(unit, lang), "renewal_rate", "problem",
                     pick(lang, "小型互联网客户预算削减，转向低价产品", "Small internet firms cut budgets and moved to cheaper products"),
                     pick(lang, f"{unit}互联网<300人续约率 {r_si:.0%}，其他客户 {r_other:.0%}",
                           f"{label(unit, lang)}: internet <300 staff renewal {r_si:.0%}, others {r_other:.0%}"),
                     pick(lang, "轻量版价格方案", "Light price plan"), pick(lang, "刘洋", "Liu Yang"),
                     _d(f"{REVIEW_YEAR + 1}-03-31")))
    return rows


def _next_year(scorecard: pd.DataFrame, unit_names: list[str], lang: str) -> pd.DataFrame:
    rows = []
    rev = scorecard[scorecard["kpi"] == "revenue"].set_index("unit")["actual"]
    for unit in unit_names:
        u = label(unit, lang)
        rows.append((u, "revenue", float(round(rev[u] * 1.25 / 10) * 10),
                     pick(lang, "新产品占30%，Q1占全年22%", "New product 30% of revenue; Q1 = 22% of the year")))
        rows.append((u, "renewal_rate", 0.88, pick(lang, "轻量版价格方案 + 交付排期上限",
                                                     "Light price plan + delivery cap")))
    return pd.DataFrame(rows, columns=["unit", "kpi", "annual_target", "strategy"])


def _table(name: str, lang: str) -> pd.DataFrame:
    """One hand-written table of ``data/sample.toml`` in ``lang``."""
    t = _TABLES[name]
    return pd.DataFrame([[_value(v, lang) for v in row] for row in t["rows"]], columns=t["columns"])


def _value(v, lang: str):
    """A cell of ``data/sample.toml``: ``[zh, en]`` in ``lang``, ``"Y-07-01"`` / ``"N-03-31"`` a date of the
    review year / the next year, anything else as it is."""
    if isinstance(v, list):
        return v[0] if lang == "zh" else v[1]
    m = _DATE.fullmatch(v) if isinstance(v, str) else None
    return _d(f"{REVIEW_YEAR + (m[1] == 'N')}-{m[2]}") if m else v


def _campaigns(lang: str) -> pd.DataFrame:
    p = lambda zh, en: pick(lang, zh, en)  # noqa: E731
    c, h = p("大促", "campaign"), p("假期", "holiday")
    rows = []
    for y in (REVIEW_YEAR, REVIEW_YEAR + 1):
        rows += [("618", _d(f"{y}-06-01"), _d(f"{y}-06-18"), c),
                 (p("双11", "Double 11"), _d(f"{y}-10-20"), _d(f"{y}-11-11"), c),
                 (p("年终大促", "Year-end festival"), _d(f"{y}-12-15"), _d(f"{y}-12-31"), c),
                 (p("国庆", "National Day"), _d(f"{y}-10-01"), _d(f"{y}-10-07"), h)]
    rows.append((p("春节", "Spring Festival"), _d(f"{REVIEW_YEAR + 1}-02-15"), _d(f"{REVIEW_YEAR + 1}-02-23"), h))
    return pd.DataFrame(rows, columns=["name", "start", "end", "kind"])


__all__ = ["make_sample_review", "fact_value", "label", "STORY", "REVIEW_YEAR", "YEARS"]

