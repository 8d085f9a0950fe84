"""The fast DataFrame builders give exactly what pandas' public constructors give.

Small tables are built through pandas internals (``DataFrame._from_arrays``) because the public
constructor's checks cost more than the data; these tests pin that the result, dtypes and all,
is the public one, so a pandas upgrade that changes either shows here first.
"""
import numpy as np
import pandas as pd
import pytest

from reviewkit import _pandas
from reviewkit.reading.values import build_frame
from reviewkit.analysis._common import SCORE_NUMBERS, frame_of, kpi_table, score_columns, text_array
from reviewkit.errors import InputError
from reviewkit.sample import make_sample_review

from oracles import kpi_table_frame, scorecard_frame


def _columns(n: int) -> dict:
    rng = np.random.default_rng(n)
    return {
        "unit": ["华东", "华北", None, "西南", "华南"][:n] if n <= 5 else [f"u{i}" for i in range(n)],
        "value": rng.normal(size=n),
        "count": rng.integers(0, 9, size=n),
        "flag": rng.integers(0, 2, size=n).astype(bool),
        "when": pd.date_range("2025-01-01", periods=n, freq="D").to_numpy(),
        "mixed": [1, "a", None, 2.5, "b"][:n] if n <= 5 else list(range(n)),
    }


@pytest.mark.parametrize("n", [1, 3, 5, 40])
def test_reader_frame_equals_the_constructor(n, monkeypatch):
    cols = _columns(n)
    data = {k: np.array(v, dtype=object) if isinstance(v, list) else np.asarray(v) for k, v in cols.items()}
    want = pd.DataFrame({k: v.copy() for k, v in data.items()}, index=pd.RangeIndex(n))
    got = build_frame({k: v.copy() for k, v in data.items()}, n)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)
    monkeypatch.setattr(_pandas, "FAST", False)  # the public-API path (another pandas)
    got = build_frame({k: v.copy() for k, v in data.items()}, n)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)


@pytest.fixture(params=[True, False], ids=["internals", "public"])
def pandas_path(request, monkeypatch):
    """Run a test on pandas' internals and on the public-API fallback (``reviewkit._pandas``)."""
    if request.param and not _pandas.FAST:
        pytest.skip("this pandas lacks the internals")
    monkeypatch.setattr(_pandas, "FAST", request.param)
    return request.param


@pytest.mark.parametrize("n", [1, 4, 40])
def test_frame_of_equals_the_constructor(n, pandas_path):
    cols = _columns(n)
    texts = [f"t{i}" for i in range(n)]
    fast = {"text": text_array(texts), "value": np.asarray(cols["value"]), "flag": np.asarray(cols["flag"]),
            "when": np.asarray(cols["when"])}
    want = pd.DataFrame({"text": texts, "value": cols["value"], "flag": cols["flag"], "when": cols["when"]})
    got = frame_of(fast, n)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kpi_table_fast_path_equals_the_pandas_path(lang, pandas_path):
    kpis = make_sample_review(lang).kpis
    pd.testing.assert_frame_equal(kpi_table(kpis), kpi_table_frame(kpis), check_exact=True)
    # and with the columns in another order and a blank threshold
    k = kpis[list(reversed(kpis.columns))].copy()
    k.loc[k.index[0], "green"] = None
    pd.testing.assert_frame_equal(kpi_table(k), kpi_table_frame(k), check_exact=True)
    # a column that is not the KPI table's, of every kind the reader gives
    k = kpis.assign(note=(["x", None, 2, 1.5, "y"] * len(kpis))[:len(kpis)], rank=range(len(kpis)))
    pd.testing.assert_frame_equal(kpi_table(k), kpi_table_frame(k), check_exact=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_score_columns_equal_the_pandas_path(lang):
    review = make_sample_review(lang)
    k = kpi_table(review.kpis)
    sc = review.scorecard.copy()
    # numbers as typed text and blanks, a KPI named by its name, a column that is not read
    sc["target"] = [f"{v:,.2f}" if i % 2 else v for i, v in enumerate(sc["target"])]
    sc.loc[sc.index[0], "last_year"] = None
    sc.loc[sc.index[1], "kpi"] = k.loc[sc["kpi"].iloc[1], "name"]
    sc["note"] = "x"
    for scorecard in (review.scorecard, sc, sc.iloc[:0]):
        got = score_columns(scorecard, k)
        want = scorecard_frame(scorecard, k)
        assert list(got) == ["unit", "kpi", *SCORE_NUMBERS]
        for col, values in got.items():
            assert values.dtype == want[col].to_numpy().dtype, col
            np.testing.assert_array_equal(values, want[col].to_numpy(), err_msg=col)


def test_score_columns_refuse_a_read_column_named_twice():
    review = make_sample_review("en")
    sc = pd.concat([review.scorecard, review.scorecard[["actual"]]], axis=1)
    with pytest.raises(InputError, match="same column twice") as e:
        score_columns(sc, kpi_table(review.kpis))
    assert "actual" in str(e.value)


def test_kpi_table_without_rows_has_the_dtypes_of_one_with_rows(pandas_path):
    kpis = make_sample_review("zh").kpis
    full, empty = kpi_table(kpis), kpi_table(kpis.iloc[:0])
    assert len(empty) == 0 and list(empty.columns) == list(full.columns)
    assert dict(empty.dtypes) == dict(full.dtypes) and empty.index.dtype == full.index.dtype


def test_kpi_table_refuses_a_column_named_twice():
    kpis = make_sample_review("en").kpis
    twice = pd.concat([kpis, kpis[["green"]]], axis=1)
    with pytest.raises(InputError, match="same column twice") as e:
        kpi_table(twice)
    assert "green" in str(e.value)


@pytest.mark.parametrize("value", [np.float32(1.5), np.int64(-3), np.bool_(True), np.datetime64("2025-03-01"),
                                   np.timedelta64(3, "D"), pd.NA, None, "x", 2, 2.5, pd.Timestamp("2025-01-01"),
                                   np.datetime64("NaT")], ids=repr)
def test_box_native_is_what_to_dict_gives(value):
    got = _pandas.box_native(value)
    want = pd.DataFrame({"c": pd.Series([value], dtype=object)}).to_dict("records")[0]["c"]
    assert type(got) is type(want) and (got == want or (pd.isna(got) and pd.isna(want)))


@pytest.mark.parametrize("df", [
    pd.DataFrame({"a": [1, 2], "b": ["x", None], "c": [1.5, np.nan], "d": pd.to_datetime(["2025-01-01", None])}),
    pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [True, False]}),
], ids=["plain", "nullable"])
def test_column_arrays_both_ways(df, monkeypatch):
    fast = _pandas.column_arrays(df)
    monkeypatch.setattr(_pandas, "FAST", False)
    public = _pandas.column_arrays(df)
    assert [type(a) for a in fast] == [type(a) for a in public]
    for a, b in zip(fast, public):
        assert a.dtype == b.dtype and pd.Series(a).equals(pd.Series(b))
