"""Column-level facts shared by loading, preparation and profiling.

Kept separate (and dependency-free inside ``steps``) so that ``data``, ``prepare`` and
``profile`` can all classify columns the same way without importing each other.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from pandas.api import types as ptypes

#: Columns with at least this many rows are candidates for id-like detection; in tiny
#: frames every column is "unique per row" by chance.
ID_LIKE_MIN_ROWS = 20


class DataValidationError(ValueError):
    """The data cannot be used as configured; the message names the column and the fix."""


def one_way_to_split(group_column: str, time_column: str) -> str:
    """Why a group column and a time column do not go together, and which to keep."""
    return (f"data.group_column ({group_column!r}) and data.time_column ({time_column!r}) are "
            "both set: choose one way to split. Keep time_column to score on a later period "
            "(a group seen in training and again later is how the model will be used); keep "
            "group_column to score on groups the model never saw")


def is_categorical(series: pd.Series) -> bool:
    """Strings, pandas categoricals and booleans are encoded as categories.

    Booleans are categorical on purpose: scaling a 0/1 flag is meaningless and one-hot
    keeps "missing" distinguishable from False.
    """
    dtype = series.dtype
    return (ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)
            or ptypes.is_string_dtype(dtype) or ptypes.is_object_dtype(dtype))


def is_numeric(series: pd.Series) -> bool:
    """Real-valued or integer columns (integers stay numeric even with few levels)."""
    dtype = series.dtype
    return (ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype)
            and not ptypes.is_complex_dtype(dtype))


def unusable_reason(series: pd.Series) -> str | None:
    """Why a feature column cannot be fed to the model pipeline, or None if it can."""
    dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return (f"has dtype {dtype} (dates/times): turn on preprocess.datetime_features, "
                "declare a datetime_parts derivation, or drop it with preprocess.drop_columns")
    if ptypes.is_timedelta64_dtype(dtype):
        return (f"has dtype {dtype} (durations): convert it to seconds before loading "
                "or drop it with preprocess.drop_columns")
    if ptypes.is_complex_dtype(dtype) or isinstance(dtype, pd.IntervalDtype):
        return f"has dtype {dtype}, which no encoder handles: drop it with preprocess.drop_columns"
    if ptypes.is_object_dtype(dtype):
        kinds = {type(v).__name__ for v in series.dropna().head(10_000)}
        if kinds and not (kinds <= {"str"} or kinds <= {"bool"}):
            return (f"holds mixed Python objects ({', '.join(sorted(kinds))}): cast it to "
                    "text or numbers before loading, or drop it with preprocess.drop_columns")
    return None


def as_text(series: pd.Series) -> pd.Series:
    """Values as pandas' ``str`` dtype, missing values kept missing (so 7 and "7" agree)."""
    return series.map(lambda v: v if pd.isna(v) else str(v)).astype("str")


def n_unique(series: pd.Series) -> int:
    """Distinct non-missing values; unhashable objects (dicts, lists) compared as text."""
    try:
        return int(series.nunique(dropna=True))
    except TypeError:
        return int(series.dropna().astype(str).nunique())


def is_constant(series: pd.Series) -> bool:
    """At most one distinct non-missing value (all-missing columns count as constant)."""
    return n_unique(series) <= 1


def is_id_like(series: pd.Series) -> bool:
    """Integer or text column with a distinct value in every row: a row key, not a feature."""
    n = len(series)
    if n < ID_LIKE_MIN_ROWS or series.isna().any():
        return False
    integer = ptypes.is_integer_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype)
    text = ptypes.is_string_dtype(series.dtype) or ptypes.is_object_dtype(series.dtype)
    return (integer or text) and n_unique(series) == n


def column_roles(frame: pd.DataFrame, target: str) -> dict[str, list[str]]:
    """Split feature columns into numeric and categorical, in frame order.

    Raises DataValidationError for columns no encoder can handle, naming the column.
    """
    roles: dict[str, list[str]] = {"numeric": [], "categorical": []}
    for col in frame.columns:
        if col == target:
            continue
        series = frame[col]
        reason = unusable_reason(series)
        if reason:
            raise DataValidationError(f"column {col!r} {reason}")
        roles["numeric" if is_numeric(series) else "categorical"].append(col)
    return roles


def role_of(series: pd.Series, column: str, target: str, id_columns: Iterable[str]) -> str:
    """Descriptive role: target, id, datetime, constant, numeric, categorical or unsupported."""
    if column == target:
        return "target"
    if column in set(id_columns):
        return "id"
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return "datetime"  # preparation derives numeric parts from it
    if unusable_reason(series):  # before the checks below, which need hashable values
        return "unsupported"
    if is_id_like(series):
        return "id"
    if is_constant(series):
        return "constant"
    return "numeric" if is_numeric(series) else "categorical"


def schema_of(frame: pd.DataFrame, target: str, id_columns: Iterable[str] = (),
              declared: dict[str, str] | None = None) -> list[dict]:
    """One ``{"column", "dtype", "role"}`` record per column, in frame order; ``declared``
    roles (a ``group`` or ``time`` column that decides splits) take precedence."""
    ids, declared = list(id_columns), declared or {}
    return [{"column": str(col), "dtype": str(frame[col].dtype),
             "role": declared.get(col) or role_of(frame[col], col, target, ids)}
            for col in frame.columns]


def class_counts(series: pd.Series) -> dict[str, int]:
    """Rows per class label (as text), most frequent first, ties by label; missing not counted."""
    counts = series.dropna().astype(str).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    return {str(k): int(v) for k, v in ordered}
