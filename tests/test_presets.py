"""KPI presets: valid against the model, in both languages, and computable from the sample facts."""
import pandas as pd
import pytest

from reviewkit import model
from reviewkit.errors import InputError
from reviewkit.presets import PRESETS, get_preset
from reviewkit.sample import make_sample_review

KNOWN_FORMATS = {"#,##0", "#,##0.00", "0.0%", "0.0", "0"}


@pytest.fixture(scope="module")
def sample_facts():
    return {lang: make_sample_review(lang).facts for lang in model.LANGS}


def test_preset_names():
    assert set(PRESETS) == {"sales", "membership", "saas", "product", "blank"}


@pytest.mark.parametrize("lang", model.LANGS)
@pytest.mark.parametrize("name", PRESETS)
def test_preset_is_a_valid_kpis_table(name, lang):
    kpis = get_preset(name, lang)
    assert list(kpis.columns) == [c.key for c in model.KPIS.columns]
    assert kpis["key"].is_unique
    assert kpis["key"].str.fullmatch(r"[a-z_]+").all()
    directions = {c.key for c in model.DIRECTIONS}
    aggregations = {c.key for c in model.AGGREGATIONS}
    for _, k in kpis.iterrows():
        assert k["direction"] in directions
        assert k["aggregation"] in aggregations
        assert k["number_format"] in KNOWN_FORMATS
        assert (k["green"], k["amber"]) == (1.0, 0.9)
        assert k["weight"] > 0
        if k["aggregation"] == "ratio":
            assert k["numerator"] and k["denominator"] and not k["measure"]
        else:
            assert k["measure"] and not k["numerator"] and not k["denominator"]
        # percent KPIs are flagged by their unit, which the analysis uses to format them
        assert (k["unit"] == "%") == (k["number_format"] == "0.0%")


def test_blank_has_no_kpis():
    assert get_preset("blank").empty


def test_names_are_localized_keys_are_not():
    zh, en = get_preset("sales", "zh"), get_preset("sales", "en")
    assert list(zh["key"]) == list(en["key"])
    assert dict(zip(zh["key"], zh["name"]))["revenue"] == "销售额"
    assert dict(zip(en["key"], en["name"]))["churn_rate"] == "Churn rate"
    assert dict(zip(zh["key"], zh["direction"])) == {
        "revenue": "higher", "new_customers": "higher", "repurchase_rate": "higher", "churn_rate": "lower",
        "sales_cycle": "lower", "delivery_days": "lower"}
    saas = get_preset("saas", "zh").set_index("key")
    assert (saas.loc["renewal_rate", "numerator"], saas.loc["renewal_rate", "denominator"]) == ("续约数", "到期数")
    assert get_preset("product", "zh")["name"].tolist() == ["注册用户数", "月活跃用户", "重大版本数"]


@pytest.mark.parametrize("lang", model.LANGS)
@pytest.mark.parametrize("name", [p for p in PRESETS if p != "product"])
def test_fact_columns_exist_in_the_sample_facts(name, lang, sample_facts):
    facts = sample_facts[lang]
    for _, k in get_preset(name, lang).iterrows():
        for col in ("measure", "numerator", "denominator"):
            if k[col]:
                assert k[col] in facts.columns, (name, k["key"], k[col])
                assert pd.api.types.is_numeric_dtype(facts[k[col]])


@pytest.mark.parametrize("lang", model.LANGS)
def test_the_analysis_engine_accepts_every_preset(lang):
    from reviewkit.analysis._common import kpi_table

    for name in PRESETS:
        table = kpi_table(get_preset(name, lang))
        assert len(table) == len(get_preset(name, lang))


def test_unknown_preset_and_language_are_clear_errors():
    with pytest.raises(InputError, match="unknown KPI preset.*'retail'.*sales \\| membership"):
        get_preset("retail")
    with pytest.raises(InputError, match="unknown language"):
        get_preset("sales", "fr")
