"""Date/time columns as numeric parts (year, month, day of week, hour, days since 1970).

Row-wise and deterministic, so it runs before the split like every derivation. Detection is
deliberately narrow: a text column counts as dates only when every sampled value is ISO 8601
(``2024-03-01``, ``2024-03-01 12:30``, ``2024-03-01T12:30:00Z``), which has one reading.
``03/04/2024`` does not (March or April?); declare such columns with a ``format``.
"""
from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from steps.columns import DataValidationError
from steps.config_types import DatetimeParts

log = logging.getLogger(__name__)

ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
DETECT_SAMPLE = 500  # values checked per text column
MAX_UNPARSED_SHARE = 0.5  # above this the format is wrong, not a few values
_EPOCH = pd.Timestamp("1970-01-01")
_ACCESSOR = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}  # config name -> pandas


def output_names(d: DatetimeParts) -> list[str]:
    return [f"{d.column}_{part}" for part in d.parts]


def _sample(series: pd.Series) -> pd.Series:
    values = series.dropna()
    return values.sample(min(len(values), DETECT_SAMPLE), random_state=0)


def is_datetime_column(series: pd.Series) -> bool:
    """A datetime dtype, or text whose sampled non-missing values are all ISO 8601."""
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return True
    if not (ptypes.is_string_dtype(series.dtype) or ptypes.is_object_dtype(series.dtype)):
        return False
    sample = _sample(series)
    return len(sample) > 0 and all(isinstance(v, str) and ISO_8601.match(v.strip()) for v in sample)


def _has_clock(series: pd.Series) -> bool:
    """Some value has a time of day other than midnight (judged on the detection sample:
    the whole column is parsed once, when the derivation is applied)."""
    stamps = parse(_sample(series)).dropna()
    return bool((stamps != stamps.dt.normalize()).any())


def parse(series: pd.Series, fmt: str | None = None) -> pd.Series:
    """Naive timestamps (wall-clock time kept for offsets that agree; mixed offsets are
    converted to UTC); unparseable values become NaT."""
    if ptypes.is_datetime64_any_dtype(series.dtype):
        stamps = series
    else:
        text = series.map(lambda v: v if pd.isna(v) else str(v).strip())
        try:
            stamps = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
        except ValueError:  # offsets that differ between rows
            stamps = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=True)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return stamps


def detect(frame: pd.DataFrame, skip: set) -> list[DatetimeParts]:
    """One derivation per date/time column not in ``skip``; clock parts only when values
    have a time of day."""
    found = []
    for col in frame.columns:
        if col in skip or not is_datetime_column(frame[col]):
            continue
        parts = ["year", "month", "dayofweek", *(["hour"] if _has_clock(frame[col]) else []), "days"]
        found.append(DatetimeParts(kind="datetime_parts", column=str(col), parts=parts))
    return found


def check(frame: pd.DataFrame, d: DatetimeParts) -> None:
    if d.column not in frame.columns:
        raise DataValidationError(
            f"derivation datetime_parts: column {d.column!r} not found; "
            f"columns: {', '.join(map(str, frame.columns))}")


def _part(stamps: pd.Series, part: str) -> pd.Series:
    if part == "days":
        return (stamps - _EPOCH) / pd.Timedelta(days=1)
    return getattr(stamps.dt, _ACCESSOR.get(part, part)).astype(float)


def apply(frame: pd.DataFrame, d: DatetimeParts) -> pd.DataFrame:
    """Add ``<column>_<part>`` columns (floats, missing where the value did not parse)."""
    check(frame, d)
    raw = frame[d.column]
    stamps = parse(raw, d.format)
    unparsed = raw[stamps.isna() & raw.notna()]
    present = int(raw.notna().sum())
    if len(unparsed) and len(unparsed) > MAX_UNPARSED_SHARE * present:
        raise DataValidationError(
            f"column {d.column!r}: {len(unparsed)} of {present} values are not dates in "
            f"{'format ' + repr(d.format) if d.format else 'ISO 8601 (YYYY-MM-DD[ hh:mm[:ss]])'}, "
            f"e.g. {', '.join(map(repr, unparsed.astype(str).unique()[:3]))}; declare the "
            "format: {kind: datetime_parts, column: ..., format: '%d/%m/%Y'}")
    if len(unparsed):
        log.warning("%s: %d value(s) are not dates, e.g. %r; their parts are left missing",
                    d.column, len(unparsed), str(unparsed.iloc[0]))
    out = frame.copy()
    for part, name in zip(d.parts, output_names(d)):
        out[name] = np.asarray(_part(stamps, part), dtype=float)
    if not d.keep_source:
        out = out.drop(columns=[d.column])
    log.info("%s: derived %s", d.column, ", ".join(output_names(d)))
    return out
