"""A family's Optuna search space as the researcher wants it (``train.search``).

Per family and parameter, an override is one of

* a value: the parameter is fixed (``hist_gb: {learning_rate: 0.05}``);
* a list: the choices searched (``knn: {weights: [distance]}``);
* ``{low, high, log}``: the range searched (``svm: {C: {low: 0.1, high: 100, log: true}}``).

Parameters left out keep the family's own space (``steps.models``). The starting trials
(quick starts, defaults) are moved into the overridden space, so a fixed value holds from
the first trial on. Names are checked against what the family really searches: a typo
fails before any fit instead of being silently ignored.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from steps.models import FAMILIES
from steps.ordinal import SHARED
from steps.selection import PARAM as SELECT_K

if TYPE_CHECKING:
    from steps.config import TrainConfig

ORDINAL = "ordinal"  # the decomposition choice (steps.tuning), overridable too
# one shared model, separate cumulative fits, none (steps.ordinal). The starts stay with the
# separate fits: first on hpc_data the shared one gained 0.002 out of fold, lost 0.003 on test.
ORDINAL_CHOICES = (SHARED, True, False)


class _Recorder:
    """Stands in for an Optuna trial to list a family's parameters and their kinds."""

    def __init__(self) -> None:
        self.kinds: dict[str, tuple[str, tuple]] = {}

    def suggest_float(self, name, low, high, **_):
        self.kinds[name] = ("float", (low, high))
        return low

    def suggest_int(self, name, low, high, **_):
        self.kinds[name] = ("int", (low, high))
        return low

    def suggest_categorical(self, name, choices):
        self.kinds[name] = ("categorical", tuple(choices))
        return choices[0]


def searched_params(family: str) -> dict[str, tuple[str, tuple]]:
    """Parameter -> (kind, default range or choices) of ``family``'s search space."""
    recorder = _Recorder()
    FAMILIES[family].suggest(recorder)
    if FAMILIES[family].ordinal:
        recorder.kinds[ORDINAL] = ("categorical", ORDINAL_CHOICES)
    return recorder.kinds


def _range(spec) -> tuple[float, float, bool] | None:
    """(low, high, log) of a range override (a ``SearchRange`` or its dict), else None."""
    if isinstance(spec, Mapping):
        return (spec["low"], spec["high"], bool(spec.get("log", False))) \
            if {"low", "high"} <= set(spec) else None
    if hasattr(spec, "low") and hasattr(spec, "high"):
        return spec.low, spec.high, bool(getattr(spec, "log", False))
    return None


def _is_range(spec) -> bool:
    return _range(spec) is not None


def check_search(search: Mapping[str, Mapping[str, Any]], families, custom=()) -> None:
    """Every overridden family is trained and every parameter is one it searches; ranges
    only for numeric parameters. Errors name the key's path and what would be valid."""
    for family, overrides in search.items():
        if family not in families:
            raise ValueError(f"train.search.{family}: {family} is not in train.families "
                             f"{list(families)}")
        if family in custom:
            raise ValueError(f"train.search.{family}: {family} is a custom family; its space is "
                             f"train.custom_families.{family}.search")
        known = searched_params(family)
        for name, spec in overrides.items():
            path = f"train.search.{family}.{name}"
            if name not in known:
                raise ValueError(f"{path}: {family} has no searched parameter {name!r}; "
                                 f"it searches {sorted(known)}")
            if _is_range(spec) and known[name][0] == "categorical":
                raise ValueError(f"{path}: {name} is a choice among {list(known[name][1])}; "
                                 "give a value or a list, not a range")
            if isinstance(spec, list) and not spec:
                raise ValueError(f"{path}: an empty list leaves nothing to choose")
            values = spec if isinstance(spec, list) else [spec]
            if known[name][0] == "categorical":
                _check_choices(path, known[name][1], values)
            elif not _is_range(spec):
                _check_numbers(path, known[name][0], values)


def _check_choices(path: str, choices: tuple, values: list) -> None:
    """Named options (weights: uniform | distance) must be one of them; numeric choices
    (max_depth: None, 8, 16, 32) may take any other number too."""
    numeric = any(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices)
    for v in values:
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if v not in choices and not (numeric and number):
            raise ValueError(f"{path}: {v!r} is not one of {list(choices)}")


def _check_numbers(path: str, kind: str, values: list) -> None:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{path}: {v!r} is not a number")
        if kind == "int" and float(v) != int(v):
            raise ValueError(f"{path}: {v!r} is not a whole number")


class ConstrainedTrial:
    """An Optuna trial whose ``suggest_*`` calls follow the overrides; the rest passes through."""

    def __init__(self, trial, overrides: Mapping[str, Any]) -> None:
        self._trial, self._overrides = trial, overrides

    def __getattr__(self, name):  # set_user_attr, number, study, ...
        return getattr(self._trial, name)

    def _override(self, name, kind: str, default):
        spec = self._overrides.get(name)
        if spec is None and name not in self._overrides:
            return default()
        if _is_range(spec):
            low, high, log = _range(spec)
            if kind == "int":
                return self._trial.suggest_int(name, int(low), int(high), log=log)
            return self._trial.suggest_float(name, float(low), float(high), log=log)
        choices = list(spec) if isinstance(spec, list) else [spec]
        return self._trial.suggest_categorical(name, choices)

    def suggest_float(self, name, low, high, **kw):
        return self._override(name, "float",
                              lambda: self._trial.suggest_float(name, low, high, **kw))

    def suggest_int(self, name, low, high, **kw):
        return self._override(name, "int", lambda: self._trial.suggest_int(name, low, high, **kw))

    def suggest_categorical(self, name, choices):
        return self._override(name, "categorical",
                              lambda: self._trial.suggest_categorical(name, choices))


def constrain(params: dict, overrides: Mapping[str, Any]) -> dict:
    """A starting trial moved into the overridden space: fixed values replace it, a value
    outside the choices becomes the first choice, one outside a range is clipped."""
    out = dict(params)
    for name, spec in overrides.items():
        if name not in out:  # left to the trial, which draws it from the override
            continue
        if _is_range(spec):
            low, high, _ = _range(spec)
            value = min(max(out[name], low), high)
            out[name] = int(round(value)) if isinstance(out[name], int) else float(value)
        elif isinstance(spec, list):
            out[name] = out[name] if out[name] in spec else spec[0]
        else:
            out[name] = spec
    return out


def nothing_to_search(family: str, overrides: Mapping[str, Any], ordinal: bool,
                      imbalance_search: bool, select_choices=None) -> bool:
    """Whether every searched parameter is fixed: one trial then says all there is to say."""
    fixed = {n for n, s in overrides.items() if not _is_range(s)
             and not (isinstance(s, list) and len(s) > 1)}
    names = set(searched_params(family)) - (set() if ordinal else {ORDINAL})
    return names <= fixed and not imbalance_search and len(select_choices or ()) < 2


def starting_trials(family: str, prep_cfg, ordinal: bool = False,
                    overrides: dict | None = None, select_k: int | None = None) -> list[dict]:
    """The family's quick starts, then its strong defaults, as the first trials. With an
    ordered target they start as the ordinal decomposition (on hpc_data +0.015 out-of-fold
    macro-F1 for the defaults), then the first again plainly, so TPE sees both. Moved into
    ``train.search``'s space; starts that become the same trial are enqueued once."""
    from steps.cost import starting_imbalance
    spec = FAMILIES[family]
    trials = [dict(p) for p in (*spec.quick_starts, spec.defaults)]
    if ordinal:
        trials = [*({**p, "ordinal": True} for p in trials), {**trials[0], "ordinal": False}]
    if prep_cfg.imbalance.search:
        for params in trials:
            params["imbalance"] = starting_imbalance(prep_cfg)
    if select_k is not None:  # a wide table (steps.selection)
        for params in trials:
            params[SELECT_K] = select_k
    unique = []
    for params in (constrain(p, overrides or {}) for p in trials):
        if params not in unique:
            unique.append(params)
    return unique


def searches_ordinal(family: str, train_cfg: TrainConfig, class_order) -> bool:
    """Whether ``family``'s study includes the ordinal decomposition as a choice."""
    return bool(class_order) and len(class_order) > 2 and train_cfg.ordinal \
        and FAMILIES[family].ordinal
