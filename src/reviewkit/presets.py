"""KPI definition sets for the common review cases, in Chinese and English.

A preset is a KPIs table (``model.KPIS`` canonical columns, one row per KPI) ready to drop
into a new workbook. KPI keys are ASCII and the same in both languages; names, units and
the fact columns a KPI reads (``measure`` / ``numerator`` / ``denominator``) are localized,
because the Facts table of a Chinese workbook has Chinese headers (``销售额``, ``续约数``).

The fact columns named here are the measures of the sample data (``reviewkit.sample``),
so every preset's ratio KPIs can be computed from the demo facts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from . import model
from .errors import InputError
from .messages import pairs, pick

#: measure and dimension columns of the detail facts: canonical key -> (zh header, en header)
#: (no dimension collides with a synonym of the ``unit`` column)
FACT_MEASURES = pairs("presets", "measures")
FACT_DIMENSIONS = pairs("presets", "dimensions")


def fact_column(key: str, lang: str = "zh") -> str:
    """Localized header of a fact measure or dimension (``fact_column("renewed", "zh") == "续约数"``)."""
    _check_lang(lang)
    pair = FACT_MEASURES.get(key) or FACT_DIMENSIONS.get(key)
    if pair is None:
        raise InputError("unknown fact column", value=key,
                         expected="one of " + ", ".join([*FACT_MEASURES, *FACT_DIMENSIONS]))
    return pick(lang, *pair)


@dataclass(frozen=True)
class KpiDef:
    """One preset KPI; fact columns are canonical keys of ``FACT_MEASURES``."""

    key: str
    zh: str
    en: str
    unit_zh: str
    unit_en: str
    direction: str = "higher"
    aggregation: str = "sum"
    measure: str = ""
    numerator: str = ""
    denominator: str = ""
    number_format: str = "#,##0"
    weight: float = 1.0
    green: float = 1.0
    amber: float = 0.9

    def row(self, lang: str) -> dict[str, object]:
        col = (lambda k: fact_column(k, lang) if k else "")
        return {
            "key": self.key, "name": pick(lang, self.zh, self.en),
            "unit": pick(lang, self.unit_zh, self.unit_en),
            "direction": self.direction, "aggregation": self.aggregation,
            "measure": col(self.measure), "numerator": col(self.numerator),
            "denominator": col(self.denominator), "green": self.green, "amber": self.amber,
            "neutral_band": math.nan, "range_low": math.nan, "range_high": math.nan,
            "number_format": self.number_format, "weight": self.weight,
        }


def _ratio(key, zh, en, num, den, *, unit=("%", "%"), fmt="0.0%", direction="higher", weight=1.0):
    return KpiDef(key, zh, en, unit[0], unit[1], direction, "ratio", numerator=num, denominator=den,
                  number_format=fmt, weight=weight)


def _sum(key, zh, en, measure, *, unit, fmt="#,##0", direction="higher", weight=1.0, agg="sum"):
    return KpiDef(key, zh, en, unit[0], unit[1], direction, agg, measure=measure, number_format=fmt,
                  weight=weight)


REVENUE = _sum("revenue", "销售额", "Revenue", "sales", unit=("万元", "CNY 10k"), weight=3)
NEW_CUSTOMERS = _sum("new_customers", "新客户数", "New customers", "new_customers",
                     unit=("家", "accounts"), weight=2)
REPURCHASE = _ratio("repurchase_rate", "复购率", "Repurchase rate", "repurchased", "customers",
                    weight=1.5)
CHURN = _ratio("churn_rate", "流失率", "Churn rate", "churned", "customers", direction="lower")
SALES_CYCLE = _ratio("sales_cycle", "销售周期", "Sales cycle", "cycle_days", "orders",
                     unit=("天", "days"), fmt="0.0", direction="lower", weight=0.5)
DELIVERY = _ratio("delivery_days", "交付周期", "Delivery time", "delivery_days", "orders",
                  unit=("天", "days"), fmt="0.0", direction="lower", weight=0.5)
RENEWAL = _ratio("renewal_rate", "续约率", "Renewal rate", "renewed", "due", weight=2)

_PRESETS: dict[str, tuple[KpiDef, ...]] = {
    "sales": (REVENUE, NEW_CUSTOMERS, REPURCHASE, CHURN, SALES_CYCLE, DELIVERY),
    "membership": (
        _sum("repeat_sales", "老客销售额", "Repeat-customer sales", "repeat_sales",
             unit=("万元", "CNY 10k"), weight=2),
        _ratio("retention", "留存率", "Retention rate", "retained", "customers", weight=2),
        _ratio("aov", "客单价", "Average order value", "sales", "orders",
               unit=("万元", "CNY 10k"), fmt="#,##0.00"),
        _ratio("second_purchase_rate", "二次购买率", "Second-purchase rate", "second_buyers",
               "new_customers"),
    ),
    "saas": (
        RENEWAL,
        _sum("arr", "ARR（年度经常性收入）", "ARR", "sales", unit=("万元", "CNY 10k"), weight=2),
        _ratio("nrr", "净收入留存率（NRR）", "Net revenue retention", "renewed_amount", "due_amount",
               weight=1.5),
        CHURN,
    ),
    "product": (
        _sum("registered_users", "注册用户数", "Registered users", "registrations",
             unit=("人", "users"), weight=2),
        _sum("mau", "月活跃用户", "Monthly active users", "active_users", unit=("人", "users"),
             weight=2, agg="average"),
        _sum("major_releases", "重大版本数", "Major releases", "releases", unit=("个", "releases"),
             fmt="0"),
    ),
    "blank": (),
}

#: preset names, in the order ``reviewkit new --preset`` documents them
PRESETS: tuple[str, ...] = tuple(_PRESETS)

#: the KPIs of the sample company: the sales preset plus the SaaS renewal rate
SAMPLE_KPIS: tuple[KpiDef, ...] = (*_PRESETS["sales"], RENEWAL)


def _check_lang(lang: str) -> None:
    if lang not in model.LANGS:
        raise InputError("unknown language", value=lang, expected=" or ".join(model.LANGS))


def kpi_frame(defs: tuple[KpiDef, ...], lang: str = "zh") -> pd.DataFrame:
    """A KPIs table (all ``model.KPIS`` columns, in order) for the given definitions."""
    _check_lang(lang)
    columns = [c.key for c in model.KPIS.columns]
    return pd.DataFrame([d.row(lang) for d in defs], columns=columns)


def get_preset(name: str, lang: str = "zh") -> pd.DataFrame:
    """The KPIs table of preset ``name`` (``sales``, ``membership``, ``saas``, ``product``, ``blank``)."""
    key = str(name).strip().lower()
    if key not in _PRESETS:
        raise InputError("unknown KPI preset", value=name, expected=" | ".join(PRESETS))
    return kpi_frame(_PRESETS[key], lang)


def preset_fact_columns(name: str, lang: str = "zh") -> list[str]:
    """The fact columns a preset's KPIs read, in first-use order (the template's Facts measures)."""
    kpis = get_preset(name, lang)
    out: list[str] = []
    for _, row in kpis.iterrows():
        for col in ("measure", "numerator", "denominator"):
            v = row[col]
            if v and v not in out:
                out.append(v)
    return out
