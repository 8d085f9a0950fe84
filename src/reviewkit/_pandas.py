"""The pandas internals reviewkit uses for speed, in one place, each beside its public equivalent.

Review tables have a few rows and dozens of columns, so pandas' generic constructor checks and
per-column Series cost more than the data. Four internals avoid that:
``DataFrame._from_arrays`` (build a frame from arrays already in their final dtypes),
``DataFrame._iter_column_arrays`` and the block manager (read a frame's columns as arrays),
and ``pandas._libs.lib.maybe_convert_objects`` (the dtype pandas settles an object column into).

``FAST`` is false on a pandas without them, or when the environment variable
``REVIEWKIT_PANDAS_PUBLIC=1`` asks for the public API only. Both paths give the same frames,
dtypes included: the tests run the golden corpus (tests/test_golden.py) and the builders
(tests/test_fast_frames.py) both ways.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray, ExtensionDtype

try:
    from pandas._libs.lib import maybe_convert_objects as _maybe_convert_objects
except ImportError:  # pragma: no cover - pandas moved it
    _maybe_convert_objects = None

#: use the internals (module attribute: tests switch it)
FAST = (_maybe_convert_objects is not None and hasattr(pd.DataFrame, "_from_arrays")
        and hasattr(pd.DataFrame, "_iter_column_arrays")
        and os.environ.get("REVIEWKIT_PANDAS_PUBLIC", "") in ("", "0"))


def frame_from_arrays(arrays: list, columns, index: pd.Index) -> pd.DataFrame:
    """A DataFrame of ``arrays`` kept in their own dtypes (no inference: an object array stays
    object). Each is a 1-d numpy array (copied into the frame) or an ExtensionArray no one else
    holds, as long as ``index``."""
    if FAST:
        return pd.DataFrame._from_arrays(list(arrays), columns=columns, index=index, verify_integrity=False)
    names = list(columns)
    data = {name: pd.Series(a, index=index, dtype=a.dtype, copy=isinstance(a, np.ndarray))
            for name, a in zip(names, arrays)}
    df = pd.DataFrame(data, index=index, columns=names)
    if isinstance(columns, pd.Index):
        df.columns = columns
    return df


def settled(values: np.ndarray):
    """The array ``pd.DataFrame`` stores for one 1-d ndarray given without a dtype (object
    columns of text become the ``str`` dtype, all-None stays object); others as they are."""
    if values.dtype != object:
        return values
    if FAST:
        return _maybe_convert_objects(values, convert_numeric=False, convert_non_numeric=True,
                                      convert_to_nullable_dtype=False, dtype_if_all_nat=np.dtype("M8[s]"))
    return array_of(pd.DataFrame({0: values})[0])


def array_of(s: pd.Series):
    """The array a Series holds (``Series._values``): its ExtensionArray, a DatetimeArray or
    TimedeltaArray for datetime64 / timedelta64, else its numpy array (not a copy)."""
    if isinstance(s.dtype, ExtensionDtype) or s.dtype.kind in "mM":
        return s.array
    return s.to_numpy(copy=False)


def inferred(values) -> np.ndarray | ExtensionArray:
    """The array ``pd.Series(values)`` holds, a copy owned by the caller."""
    return array_of(pd.Series(values, copy=True))


def column_arrays(df: pd.DataFrame) -> list:
    """The array of each column of ``df``, in order (as ``array_of(df.iloc[:, i])``)."""
    if FAST:
        return list(df._iter_column_arrays())
    return [array_of(df.iloc[:, i]) for i in range(df.shape[1])]


def block_arrays(df: pd.DataFrame) -> dict:
    """{name: the array ``df[name]`` holds} for the columns stored as 2-d numpy blocks or 1-d
    extension arrays, read straight from the frame's blocks; other columns and frames with
    repeated names are left out (callers read them through ``df[name]``). Empty without FAST."""
    out: dict = {}
    if not FAST:
        return out
    try:
        if not df.columns.is_unique:
            return out
        names = df.columns.tolist()
        for block in df._mgr.blocks:
            values, locs = block.values, block.mgr_locs.as_array.tolist()
            if isinstance(values, np.ndarray) and values.ndim == 2:  # one row per column
                for row, loc in enumerate(locs):
                    out[names[loc]] = values[row]
            elif isinstance(values, ExtensionArray) and values.ndim == 1 and len(locs) == 1:
                out[names[locs[0]]] = values
    except AttributeError:  # another pandas: every column through df[name]
        return {}
    return out


def box_native(value):
    """A numpy scalar as the Python value ``DataFrame.to_dict`` gives (float, int, bool,
    Timestamp, Timedelta), ``pd.NA`` as None, anything else unchanged."""
    if pd.api.types.is_float(value):
        return float(value)
    if pd.api.types.is_integer(value):
        return int(value)
    if pd.api.types.is_bool(value):
        return bool(value)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    if value is pd.NA:
        return None
    return value
