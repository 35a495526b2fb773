"""Config validation errors as one line per key, with its dotted path, and for a misspelt
key the nearest valid one."""
from __future__ import annotations

import difflib
import typing

from pydantic import ValidationError


def _section(annotation):
    """The model a field holds, also when it may be null (``Section | None``)."""
    if hasattr(annotation, "model_fields"):
        return annotation
    return next((a for a in typing.get_args(annotation) if hasattr(a, "model_fields")), None)


def _nearest_key(root, loc: tuple) -> str | None:
    """The valid key closest to ``loc``'s last part in the section ``loc`` points into."""
    model = root
    for key in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(key)
        if field is None:
            return None
        model = _section(field.annotation)
    names = list(getattr(model, "model_fields", {}))
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    return close[0] if close else None


def _nearest_choice(given: str, expected: str) -> str | None:
    """The allowed literal closest to ``given`` (case-insensitive), from pydantic's
    ``'a', 'b' or 'c'`` list of them."""
    choices = [c.strip(" '") for c in expected.replace(" or ", ", ").split(",") if c.strip(" '")]
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(given.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def format_errors(err: ValidationError, root) -> str:
    """``root``: the pydantic model validated (its fields name the valid keys)."""
    lines = []
    for e in err.errors():
        path = ".".join(str(p) for p in e["loc"]) or "<root>"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            near = _nearest_key(root, tuple(e["loc"]))
            msg = "unknown key" + (f" (did you mean {near}?)" if near else "")
        elif e["type"] == "list_type" and isinstance(e.get("input"), (str, int, float)):
            msg += f" (write it as a YAML list: [{e['input']}])"  # a one-family list, say
        elif e["type"] == "literal_error" and isinstance(e.get("input"), str):
            near = _nearest_choice(e["input"], e.get("ctx", {}).get("expected", ""))
            msg += f" (did you mean {near}?)" if near else ""
        msg = msg.removeprefix("Value error, ")
        # a cross-field check names the exact key itself (train.search.hist_gb.x: ...)
        lines.append(f"  {msg}" if msg.startswith(path + ".") else f"  {path}: {msg}")
    return "invalid configuration:\n" + "\n".join(lines)
