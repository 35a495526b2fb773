"""Checks on values that arrive from JSON, task parameters or metric dicts."""
from __future__ import annotations

import math
from typing import Any


def is_finite_number(value: Any) -> bool:
    """A real int or float that is not NaN or infinite (booleans are not scores)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
