"""The DAG is data: names, parents, references, queues and caching, without a server."""
import json
import re

from pipelines.dag import STEP_SECTIONS, build_dag
from steps.config import parse_config

REF = re.compile(r"^\$\{([A-Za-z0-9_]+)\.(?:parameters\.return/)?([A-Za-z0-9_]+)\}$")


def _cfg(**over):
    return parse_config({"train": {"families": ["logreg", "hist_gb", "svm"]}} | over)


def test_step_names_and_parents():
    spec = build_dag(_cfg())
    names = [s.name for s in spec.steps]
    assert names == ["dataset", "preprocess", "train_logreg", "train_hist_gb", "train_svm",
                     "validate", "publish"]
    assert spec.step("preprocess").parents == ("dataset",)
    assert all(spec.step(f"train_{f}").parents == ("preprocess",) for f in ("logreg", "hist_gb"))
    assert spec.step("validate").parents == ("preprocess", "train_logreg", "train_hist_gb",
                                             "train_svm")
    assert spec.step("publish").parents == ("validate",)


def test_every_reference_points_to_a_parent_output_or_a_parameter():
    spec = build_dag(_cfg())
    returns = {s.name: set(s.returns) for s in spec.steps}
    parents = {s.name: set(s.parents) for s in spec.steps}

    def ancestors(name):
        seen = set(parents[name])
        for p in parents[name]:
            seen |= ancestors(p)
        return seen

    for step in spec.steps:
        for value in step.kwargs.values():
            m = REF.match(str(value))
            if not m:
                continue
            source, output = m.groups()
            if source == "pipeline":
                assert output in spec.parameters, (step.name, output)
            else:
                assert source in ancestors(step.name), (step.name, source)
                # by value, so cache keys hold IDs, not the producer's per-run task ID
                assert ".parameters.return/" in value, value
                assert output in returns[source], (step.name, source, output)


def test_each_step_sees_only_its_own_section():
    spec = build_dag(_cfg())
    owners = {"dataset": {"data"}, "preprocess": {"preprocess"}, "validate": {"evaluate"},
              "publish": {"publish"}}
    for step in spec.steps:
        sections = {REF.match(v).group(2) for v in step.kwargs.values()
                    if isinstance(v, str) and REF.match(v) and v.startswith("${pipeline.")}
        sections &= set(STEP_SECTIONS)
        expected = owners.get(step.name, {"train", "preprocess"})  # training fits the recipe
        assert sections == expected, step.name


def test_parameters_round_trip_to_the_typed_sections():
    cfg = _cfg()
    params = build_dag(cfg).parameters
    assert json.loads(params["train"])["families"] == ["logreg", "hist_gb", "svm"]
    assert params["project"] == cfg.project.name
    assert json.loads(params["run_info"])["config_sha256"] == cfg.digest()


def test_caching_and_force_rerun():
    spec = build_dag(_cfg())
    assert not spec.step("dataset").cache and not spec.step("publish").cache
    assert spec.step("train_logreg").cache and spec.step("validate").cache
    forced = build_dag(_cfg(execution={"force_rerun": True}))
    assert not any(s.cache for s in forced.steps)


def test_per_step_queues():
    spec = build_dag(_cfg(execution={"queue": "cpu", "step_queues": {"train_svm": "big"}}))
    assert spec.step("train_svm").queue == "big"
    assert spec.step("train_logreg").queue == "cpu" and spec.step("dataset").queue == "cpu"


def test_wrapper_functions_exist_and_accept_the_kwargs():
    import inspect

    from pipelines.controller import resolve
    for step in build_dag(_cfg()).steps:
        sig = inspect.signature(resolve(step.function))
        sig.bind(**step.kwargs)  # raises TypeError if a kwarg has no parameter


def test_budget_replaces_the_fan_out_with_one_halving_step():
    spec = build_dag(_cfg(train={"families": ["logreg", "hist_gb"], "budget_s": 60}))
    names = [s.name for s in spec.steps]
    assert names == ["dataset", "preprocess", "train", "validate", "publish"]
    assert spec.step("train").function == "pipelines.nodes:train_budgeted"
    assert spec.step("validate").parents == ("preprocess", "train")
    assert spec.step("validate").kwargs["models"] == "${train.parameters.return/model_ids}"


def test_trial_task_families_keep_their_step_and_say_how_they_search(capsys):
    from pipelines.cli import main
    spec = build_dag(_cfg(train={"families": ["logreg", "svm"],
                                 "trial_tasks": {"families": ["svm"]}}))
    assert [s.name for s in spec.steps if s.name.startswith("train_")] == ["train_logreg",
                                                                           "train_svm"]
    assert spec.step("train_svm").description.endswith("a ClearML task per trial")
    assert "task per trial" not in spec.step("train_logreg").description
    assert main(["dag", "--set", "train.families=[logreg,svm]",
                 "--set", "train.trial_tasks.families=[svm]"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["train_svm"].endswith("Optuna search for svm under stratified CV, a ClearML "
                                       "task per trial")
    assert lines["validate"].split("<-")[1].split()[:3] == ["preprocess,", "train_logreg,",
                                                             "train_svm"]
