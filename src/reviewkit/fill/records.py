"""Plain Python values for cells and rows: blanks, numpy scalars as Python ones, a frame's rows as
lists or dicts (pandas row access is slow in the loops that build a fill)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._pandas import column_arrays
from ..analysis._common import column_names


def _object_rows(df: pd.DataFrame, cols: list | None = None) -> list[list]:
    """``df[cols].to_numpy(dtype=object).tolist()`` (all columns when ``cols`` is None), faster.

    On the small tables of a review, selecting ``df[cols]`` or interleaving the frame's blocks
    into one object array costs more than the data: each column is converted on its own to the
    objects ``to_numpy(dtype=object)`` gives (Python scalars, Timestamps, NA as its dtype keeps
    it) and the rows are zipped from the columns. Duplicate column names take the exact route.
    """
    if not len(df.index):  # no rows: nothing to convert
        return []
    arrays = column_arrays(df)
    if cols is not None:
        if not df.columns.is_unique or len(set(cols)) != len(cols):
            return df[cols].to_numpy(dtype=object).tolist()
        by_name = dict(zip(column_names(df), arrays))
        arrays = [by_name[c] for c in cols]
    return [list(row) for row in zip(*(a.tolist() if isinstance(a, np.ndarray) else
                                         a.to_numpy(dtype=object).tolist() for a in arrays))]


def _blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    if isinstance(v, str):
        return v.strip() == ""
    if v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(np.isnan(v))
    except (TypeError, ValueError):
        return False


def _plain(v):
    """A cell value: numpy scalars as Python ones, blanks as None."""
    t = type(v)  # the common Python types first (the same answers as the general path below)
    if t is str:
        return None if v.strip() == "" else v
    if t is float:
        return None if v != v else v
    if t is int or t is bool:
        return v
    if _blank(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


def _cached(v):
    """A formula's cached result: blanks are the empty text the formula returns."""
    v = _plain(v)
    return "" if v is None else v


def _records(df: pd.DataFrame) -> list[dict]:
    """Each row as a dict of Python scalars, NA of extension columns as None (as ``Series.tolist``
    gives them); one object conversion of the whole frame instead of a Series per column."""
    if not df.columns.is_unique or not len(df.columns):
        return _records_by_column(df)
    names = column_names(df)
    rows = _object_rows(df)
    ext = [j for j, t in enumerate(df.dtypes.tolist()) if isinstance(t, pd.api.extensions.ExtensionDtype)]
    if ext:
        for row in rows:
            for j in ext:
                if row[j] is pd.NA:
                    row[j] = None
    return [dict(zip(names, row)) for row in rows]


def _index_dicts(df: pd.DataFrame) -> dict:
    """``df.to_dict("index")``, from one object conversion of the frame instead of ``itertuples``."""
    from .._pandas import box_native  # what to_dict applies to these columns

    if not df.index.is_unique or not df.columns.is_unique:
        return df.to_dict("index")
    names = column_names(df)
    rows = _object_rows(df)
    box = [j for j, t in enumerate(df.dtypes.tolist())
           if t == np.dtype(object) or isinstance(t, pd.api.extensions.ExtensionDtype)]
    if box:
        for row in rows:
            for j in box:
                row[j] = box_native(row[j])
    return {k: dict(zip(names, row)) for k, row in zip(df.index.tolist(), rows)}


def _records_by_column(df: pd.DataFrame) -> list[dict]:
    cols = []
    for c in df.columns:
        values = df[c].tolist()
        if isinstance(df[c].dtype, pd.api.extensions.ExtensionDtype):
            values = [None if v is pd.NA else v for v in values]
        cols.append(values)
    names = list(df.columns)
    return [dict(zip(names, row)) for row in zip(*cols)]
