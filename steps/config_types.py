"""Config value types shared by the sections: the section base, row-wise derivations and
the time gap. Kept apart from ``steps.config`` so each module stays small; import them from
``steps.config_types``."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, TypeAdapter


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StullWetBulb(Section):
    """Wet-bulb temperature from air temperature and relative humidity (row-wise, no learning)."""
    kind: Literal["stull_wet_bulb"]
    name: str
    temperature: str  # air temperature column, degrees Celsius
    humidity: str  # relative humidity column, percent
    only_missing: bool = True  # fill only rows where ``name`` is missing (if present)


DatetimePart = Literal["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "days"]


class DatetimeParts(Section):
    """Numeric parts of a date/time column, ``<column>_<part>``; ``days`` counts days since
    1970-01-01 (a trend). Values that do not parse become missing (then imputed)."""
    kind: Literal["datetime_parts"]
    column: str
    parts: list[DatetimePart] = Field(
        default_factory=lambda: ["year", "month", "dayofweek", "hour", "days"], min_length=1)
    format: str | None = None  # strftime format, e.g. "%d/%m/%Y"; default: ISO 8601
    keep_source: bool = False  # keep the raw column too (as text it is rarely a useful feature)


Derivation = Annotated[Union[StullWetBulb, DatetimeParts], Field(discriminator="kind")]
parse_derivation = TypeAdapter(Derivation).validate_python  # a recorded dict back to its model


def _time_gap(value):
    """A number (the time column's own units) or a duration ("30D", "12h", "2 days"), >= 0."""
    import math

    import pandas as pd
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r}: give a duration such as '30D' or a number")
    if not isinstance(value, str):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{value!r}: a time gap is a finite number >= 0")
        return float(value)
    try:
        gap = pd.Timedelta(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a duration; write e.g. '30D', '12h' or '90 days' for "
                         "a date column, or a number in the time column's own units") from None
    if pd.isna(gap) or gap < pd.Timedelta(0):
        raise ValueError(f"{value!r}: a time gap cannot be negative")
    return value


# How long after its time a row's label is known (a churn label over the next 90 days: "90D").
# A duration for a date column, a number for a numeric one (steps.splits.gap_in_units).
TimeGap = Annotated[Union[float, str],
                    PlainValidator(_time_gap, json_schema_input_type=Union[float, str])]


class FeatureSelectionConfig(Section):
    """Univariate selection for wide tables, fitted inside the model pipeline (so on the
    training folds only: selecting on every row first is the classic optimistic bias)."""
    # tables with more feature columns than this get the selection; fewer: none
    above: int = Field(300, ge=1)
    # columns kept, searched by every family's study; the middle one starts
    search: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [16, 64, 256], min_length=1)
    score: Literal["f_classif", "mutual_info"] = "f_classif"


class GateConfig(Section):
    min_primary: float = Field(0.0, ge=0, le=1)
    min_margin_over_baseline: float = Field(0.05, ge=0, le=1)
    # a column the leakage check suspects (preprocess.leakage_auc): warn (flagged in the log,
    # summary and run page) or block (the gates fail, so nothing is published)
    suspected_leakage: Literal["warn", "block"] = "warn"


class PredictionSetsConfig(Section):
    alpha: float = Field(0.1, gt=0, lt=1)  # 0.1: sets hold the true class 90% of the time
    by_class: bool = True
    # split: thresholds from out-of-fold predictions, applied to the refit model (cheap; rare
    # classes can end short of 1 - alpha); cv_plus: every fold model scores each new row
    # (steps.cv_plus): the winner is refit once per CV fold in validation and its fold models
    # are stored with it, unless they pass max_fold_models_mb (then the split rule serves)
    method: Literal["split", "cv_plus"] = "split"
    max_fold_models_mb: float = Field(500.0, gt=0)
