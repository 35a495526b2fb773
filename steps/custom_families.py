"""Your own classifiers as model families (``train.custom_families``).

A ``CustomFamily`` names an estimator class by import path, its fixed parameters and its
search space; ``family_spec`` turns it into the same ``FamilySpec`` the built-in families
are, so it is tuned, row-capped, resampled, blended, validated and published like them.
The class is imported where the family is trained, so the package must be installed there
(``tabpipe run`` checks this machine before any task exists).
"""
from __future__ import annotations

import importlib
import inspect
import math
from typing import Mapping

from steps.models import FAMILIES, FamilySpec
from steps.search_config import CustomFamily


def import_estimator(path: str, where: str):
    """The class at ``package.module.ClassName`` (or ``package.module:ClassName``)."""
    module, _, name = path.replace(":", ".").rpartition(".")
    if not module:
        raise ValueError(f"{where}: {path!r} is not an import path such as "
                         "'lightgbm.LGBMClassifier'")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"{where}: cannot import {path!r} ({err}); install its package where "
                         "the training steps run") from None
    if not (inspect.isclass(cls) and hasattr(cls, "fit") and hasattr(cls, "predict_proba")):
        raise ValueError(f"{where}: {path} is not a classifier with fit and predict_proba")
    return cls


def _midpoint(spec) -> object:
    """A search dimension's centre: the first trial starts there, not at a random corner."""
    if isinstance(spec, list):
        return spec[0]
    mid = math.sqrt(spec.low * spec.high) if spec.log else (spec.low + spec.high) / 2
    return int(round(mid)) if spec.integer else mid


def family_spec(name: str, custom: CustomFamily) -> FamilySpec:
    cls = import_estimator(custom.estimator, f"train.custom_families.{name}.estimator")
    takes = set(inspect.signature(cls).parameters)
    bad = sorted((set(custom.params) | set(custom.search)) - takes)
    if bad and not any(p.kind == p.VAR_KEYWORD for p in inspect.signature(cls).parameters.values()):
        raise ValueError(f"train.custom_families.{name}: {custom.estimator} takes no {bad}; "
                         f"it takes {sorted(takes)}")

    def make(params: dict, seed: int, class_weight):
        kwargs = {**custom.params, **params}
        if "random_state" in takes:
            kwargs.setdefault("random_state", seed)
        if class_weight is not None and "class_weight" in takes:
            kwargs["class_weight"] = class_weight
        return cls(**kwargs)

    def suggest(trial) -> dict:
        out = {}
        for param, spec in custom.search.items():
            if isinstance(spec, list):
                out[param] = trial.suggest_categorical(param, spec)
            elif spec.integer:
                out[param] = trial.suggest_int(param, int(spec.low), int(spec.high), log=spec.log)
            else:
                out[param] = trial.suggest_float(param, spec.low, spec.high, log=spec.log)
        return out

    return FamilySpec(name, make, suggest,
                      defaults={p: _midpoint(s) for p, s in custom.search.items()},
                      scale=custom.scale, class_weight="class_weight" in takes,
                      row_cap=custom.row_cap)


def register(custom: Mapping[str, CustomFamily]) -> None:
    """Make the custom families known to the tuner (``steps.models.FAMILIES``)."""
    for name, spec in custom.items():
        FAMILIES[name] = family_spec(name, spec)
