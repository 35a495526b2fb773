"""Config types for search spaces and custom model families (``train.search``,
``train.custom_families``). Pure data: checked against the real estimators elsewhere
(``steps.search_space``, ``steps.custom_families``)."""
from __future__ import annotations

import re
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

BUILTIN_FAMILIES = ("logreg", "random_forest", "extra_trees", "hist_gb", "svm", "knn")
FAMILY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # becomes a step name: train_<family>


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SearchRange(_Strict):
    """A numeric parameter's searched range."""
    low: float
    high: float
    log: bool = False  # sample on a log scale (needs low > 0)
    integer: bool = False  # whole numbers (custom families; built-in ones know their kinds)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


SearchValue = Union[bool, int, float, str, None]


def _search_kind(spec: Any) -> str:
    if isinstance(spec, (dict, SearchRange)):
        return "range"
    return "choices" if isinstance(spec, list) else "value"


# One error per bad override, for the form given (not one per form it could have taken).
SearchOverride = Annotated[Union[Annotated[SearchRange, Tag("range")],
                                 Annotated[list[SearchValue], Tag("choices")],
                                 Annotated[SearchValue, Tag("value")]],
                           Discriminator(_search_kind)]


class CustomFamily(_Strict):
    """Any scikit-learn-compatible classifier with ``predict_proba``, e.g.
    ``{estimator: lightgbm.LGBMClassifier, params: {verbose: -1},
    search: {learning_rate: {low: 0.01, high: 0.3, log: true}, num_leaves: [15, 31, 63]},
    scale: false}``. ``random_state`` (the seed) and ``class_weight`` (the imbalance
    strategy) are passed when the estimator takes them; without ``class_weight`` the
    class_weight strategy oversamples instead, as for k-NN."""
    estimator: str  # "package.module.ClassName" or "package.module:ClassName"
    params: dict[str, Any] = Field(default_factory=dict)  # fixed keyword arguments
    search: dict[str, Union[SearchRange, list[SearchValue]]] = Field(default_factory=dict)
    scale: bool = True  # standardise numeric columns first (not needed by trees)
    row_cap: int | None = Field(None, ge=100)  # tune and fit on a stratified subsample above

    @model_validator(mode="after")
    def _disjoint(self):
        both = sorted(set(self.params) & set(self.search))
        if both:
            raise ValueError(f"{both} both fixed in params and searched: keep one")
        empty = sorted(k for k, v in self.search.items() if isinstance(v, list) and not v)
        if empty:
            raise ValueError(f"search {empty}: an empty list leaves nothing to choose")
        return self


def check_family_names(families: list[str], custom: dict[str, CustomFamily]) -> None:
    """Every listed family is built in or defined in ``custom_families``, once."""
    for name in custom:
        if name in BUILTIN_FAMILIES:
            raise ValueError(f"train.custom_families.{name}: {name} is a built-in family; "
                             "give yours another name")
        if not FAMILY_NAME.match(name):
            raise ValueError(f"train.custom_families.{name}: a family name is lower case letters, "
                             "digits and _ (it names the training step)")
    known = [*BUILTIN_FAMILIES, *custom]
    for i, name in enumerate(families):
        if name not in known:
            raise ValueError(f"train.families.{i}: unknown family {name!r}; built in: "
                             f"{list(BUILTIN_FAMILIES)}, or define it in train.custom_families")
    if len(set(families)) != len(families):
        raise ValueError(f"train.families: {families} lists a family twice")
    if not families:
        raise ValueError("train.families: list at least one family")


class TrialTasks(_Strict):
    """Families whose trials each run as their own ClearML task, driven by ClearML's
    HyperParameterOptimizer (``pipelines.trial_tasks``): for models whose fits take minutes,
    where a task per trial is worth its start-up cost and agents can spread the trials."""
    families: list[str] = Field(default_factory=list)
    queue: str | None = None  # agents' queue for the trials; None: subprocesses of the step
    concurrency: int = Field(1, ge=1, le=64)  # trials running at once
    time_limit_s: float | None = Field(None, gt=0)  # one trial's limit; it is stopped past it


def check_trial_tasks(trial_tasks: TrialTasks, families: list[str], budget_s) -> None:
    for i, name in enumerate(trial_tasks.families):
        if name not in families:
            raise ValueError(f"train.trial_tasks.families.{i}: {name} is not in train.families "
                             f"{families}")
    if trial_tasks.families and budget_s is not None:
        raise ValueError("train.trial_tasks: a task per trial needs a step per family; "
                         "train.budget_s trains every family in one step. Set one of them")
