"""The custom document properties a fill stamps, and :func:`fingerprint`, the hash of every input
that tells whether a workbook's results are stale."""
from __future__ import annotations

import hashlib

import pandas as pd

from .. import model
from ..analysis._common import column_names
from .records import _object_rows


FINGERPRINT_PROPERTY = "reviewkit.fingerprint"
FILLED_AT_PROPERTY = "reviewkit.filled_at"
#: names of the sheets fill built (a user's own sheet of the same name is never replaced)
OWNED_PROPERTY = "reviewkit.owned_sheets"
#: bump when the fill writes something different for the same inputs (forces "stale")
FILL_FORMAT = "fill-1"


# --- fingerprint --------------------------------------------------------------------------
def _canonical(df: pd.DataFrame, columns: list[str]) -> str:
    """``repr(cols) + repr(df[cols].to_numpy(dtype=object).tolist())``; the text is hashed into the
    fingerprint stored in users' workbooks, so it must never change."""
    present = set(column_names(df))
    cols = [c for c in columns if c in present]
    return repr(cols) + repr(_object_rows(df, cols))


def fingerprint(review: model.Review) -> str:
    """SHA-256 of every input of the review (input columns of every table, settings, language).

    Computed columns are left out, so writing results never changes the fingerprint.
    """
    h = hashlib.sha256()
    h.update(FILL_FORMAT.encode())
    h.update(review.lang.encode())
    for key in sorted(review.settings, key=str):
        h.update(f"\x00{key}={review.settings[key]!r}".encode())
    for spec in model.TABLES:
        df = review.tables.get(spec.name)
        if df is None:
            continue
        cols = [c.key for c in spec.input_columns]
        if spec.open_columns:
            cols += sorted(str(c) for c in df.columns if c not in cols and c not in
                           {x.key for x in spec.computed_columns})
        h.update(f"\x01{spec.name}\x02".encode())
        h.update(_canonical(df, cols).encode("utf-8"))
    return h.hexdigest()
