"""Deterministic row-wise derivations: safe before the split because nothing is learned."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from steps import datetimes
from steps.columns import DataValidationError
from steps.config_types import DatetimeParts, Derivation, StullWetBulb

log = logging.getLogger(__name__)


def stull_wet_bulb(temperature_c, humidity_pct):
    """Wet-bulb temperature (degC) from air temperature (degC) and relative humidity (%).

    Stull, R. (2011) "Wet-Bulb Temperature from Relative Humidity and Air Temperature",
    J. Appl. Meteor. Climatol. 50, 2267-2269. Valid for RH 5-99 % and T -20..50 degC at
    sea-level pressure, within about 0.3 degC. Missing inputs give missing outputs.
    """
    t = np.asarray(temperature_c, dtype=float)
    rh = np.asarray(humidity_pct, dtype=float)
    return (t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
            + np.arctan(t + rh) - np.arctan(rh - 1.676331)
            + 0.00391838 * rh ** 1.5 * np.arctan(0.023101 * rh)
            - 4.686035)


KINDS = {"stull_wet_bulb": stull_wet_bulb}


def outputs(d: Derivation) -> list[str]:
    """The columns a derivation writes."""
    return datetimes.output_names(d) if isinstance(d, DatetimeParts) else [d.name]


def inputs(d: Derivation) -> list[str]:
    return [d.column] if isinstance(d, DatetimeParts) else [d.temperature, d.humidity]


def needed(frame: pd.DataFrame, d: Derivation) -> bool:
    """False when a fill-only derivation has nothing to fill (its inputs may then be absent)."""
    complete = isinstance(d, StullWetBulb) and d.name in frame.columns and frame[d.name].notna().all()
    return not (complete and d.only_missing)


def check_derivation(frame: pd.DataFrame, d: Derivation) -> None:
    """Inputs must exist (and be numeric for formulas); the message names derivation and column."""
    if isinstance(d, DatetimeParts):
        return datetimes.check(frame, d)
    for role, col in (("temperature", d.temperature), ("humidity", d.humidity)):
        if col not in frame.columns:
            raise DataValidationError(
                f"derivation {d.name!r} ({d.kind}): {role} column {col!r} not found; "
                f"columns: {', '.join(map(str, frame.columns))}")
        if not pd.api.types.is_numeric_dtype(frame[col].dtype) or pd.api.types.is_bool_dtype(frame[col].dtype):
            raise DataValidationError(
                f"derivation {d.name!r} ({d.kind}): {role} column {col!r} has dtype "
                f"{frame[col].dtype}, expected numbers ({'degC' if role == 'temperature' else '%'})")


def apply_derivation(frame: pd.DataFrame, d: Derivation) -> pd.DataFrame:
    """Add (or fill) the derivation's columns; returns a new frame, the input is not modified."""
    if isinstance(d, DatetimeParts):
        return datetimes.apply(frame, d)
    check_derivation(frame, d)
    t, rh = frame[d.temperature], frame[d.humidity]
    outside = ((t < -20) | (t > 50) | (rh < 5) | (rh > 99)).sum()
    if outside:
        log.warning("%s: %d rows lie outside the Stull formula's validity range "
                    "(T -20..50 degC, RH 5..99 %%); values there are less accurate", d.name, outside)
    values = pd.Series(KINDS[d.kind](t, rh), index=frame.index, dtype=float)
    out = frame.copy()
    if d.name in out.columns and d.only_missing:
        existing = pd.to_numeric(out[d.name], errors="coerce")
        filled = int((existing.isna() & values.notna()).sum())
        out[d.name] = existing.fillna(values)
        log.info("%s: filled %d missing values from %s and %s", d.name, filled, d.temperature, d.humidity)
    else:
        out[d.name] = values
        log.info("%s: derived from %s and %s for all %d rows", d.name, d.temperature, d.humidity, len(out))
    return out
