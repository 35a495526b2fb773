"""`tabpipe run --split-seeds`: one config per seed, one server, the study's group summary."""
import json

import pytest

from pipelines.runner import RunResult
from pipelines.split_study import run_study, study_configs, study_lines
from steps.config import ConfigError


def test_one_config_per_distinct_seed_under_the_study_model_name():
    cfgs = study_configs(None, ["train.n_trials=3"], [2, 0, 2, 1])
    assert [c.preprocess.split_seed for c in cfgs] == [2, 0, 1]
    assert {c.publish.model_name for c in cfgs} == {"hpc_data-split-study"}
    assert all(c.train.n_trials == 3 for c in cfgs)
    # only the seed differs between the runs: they form one group in `runs --splits`
    dumps = [c.model_dump() for c in cfgs]
    for d in dumps:
        d["preprocess"].pop("split_seed")
    assert dumps[0] == dumps[1] == dumps[2]


def test_a_named_model_and_a_file_source_keep_their_names(tmp_path):
    named = study_configs(None, ["publish.model_name=mine"], [0])
    assert named[0].publish.model_name == "mine"
    table = str(tmp_path / "visits.csv")
    from_file = study_configs(None, [f"data.source={table}", "data.target=y"], [0])
    assert from_file[0].publish.model_name == "visits-split-study"


@pytest.mark.parametrize("overrides, seeds, message", [
    (["preprocess.split_seed=3"], [0, 1], "drop --set preprocess.split_seed"),
    ([], [0, -1], "non-negative"),
    (["execution.mode=remote"], [0, 1], "remote mode"),
])
def test_contradictions_fail_before_anything_runs(overrides, seeds, message):
    with pytest.raises(ConfigError, match=message):
        study_configs(None, overrides, seeds)


def test_with_a_time_column_the_seeds_are_backtest_origins():
    cfgs = study_configs(None, ["data.time_column=signup"], [0, 1, 2])
    assert [c.preprocess.split_seed for c in cfgs] == [0, 1, 2]
    assert all(c.data.time_column == "signup" for c in cfgs)


def _result(seed: int, score: float | None, publish: bool = True) -> RunResult:
    steps = {"validate": {"status": "completed", "returns": {"report": json.dumps(
        {"winner": "hist_gb", "metric": "macro_f1", "score": score})}}} if score is not None \
        else {"validate": {"status": "failed", "returns": {}}}
    decision = {"name": "hpc_data-split-study", "publish": publish, "reasons": []}
    return RunResult("local", f"run-{seed}", steps, decision if score is not None else None)


def test_runs_every_seed_in_order_then_summarises_the_newest_runs(capsys):
    cfgs = study_configs(None, ["execution.mode=local"], [0, 1, 2])  # no embedded server
    ran, seen, limits = [], [], []

    def run(cfg):
        ran.append(cfg.preprocess.split_seed)
        return _result(cfg.preprocess.split_seed, 0.8 + cfg.preprocess.split_seed / 100)

    mine = {"group": 1, "dataset": "hpc_data", "runs": ["run-0", "run-1", "run-2"]}
    earlier = {"group": 3, "dataset": "hpc_data", "runs": ["old-0"]}

    def summarise(limit):
        limits.append(limit)
        return [mine, {"group": 2, "dataset": "mlc_churn", "runs": ["m-0"]}, earlier]

    study = run_study(cfgs, run, on_run=lambda seed, r: seen.append((seed, r.pipeline_task_id)),
                      summarise=summarise)
    assert ran == [0, 1, 2]
    assert seen == [(0, "run-0"), (1, "run-1"), (2, "run-2")]
    assert limits == [30]
    assert study.groups == [mine, earlier]  # another table's groups measure other data
    assert "run 2 of 3, preprocess.split_seed=1" in capsys.readouterr().out
    lines = study_lines(study)
    assert lines[0] == "  seed 0: run run-0  hist_gb  test macro_f1 0.8000  hpc_data-split-study published"
    assert lines[2].endswith("test macro_f1 0.8200  hpc_data-split-study published")


def test_a_failed_seed_is_named_and_the_study_goes_on():
    from pipelines.split_study import failed_steps
    cfgs = study_configs(None, ["execution.mode=local"], [0, 1])
    study = run_study(cfgs, lambda cfg: _result(cfg.preprocess.split_seed,
                                                None if cfg.preprocess.split_seed == 0 else 0.8),
                      summarise=lambda limit: [])
    assert len(study.runs) == 2
    assert failed_steps(study) == ["seed 0: validate"]
    assert "no test score" in study_lines(study)[0] and "no decision" in study_lines(study)[0]


@pytest.mark.slow
def test_cli_study_runs_each_split_and_prints_their_spread(tmp_path, capsys):
    from localserver.cli import main as server_main
    from pipelines.cli import main
    tiny = ["train.families=[logreg]", "train.n_trials=2", "train.timeout_s=10",
            "train.cv_folds=3", "evaluate.bootstrap=50", "evaluate.permutation_repeats=1",
            "evaluate.learning_curve_s=0", "evaluate.dependence_features=0",
            "project.name=study", f"execution.data_dir={tmp_path}"]
    args = ["run", "--split-seeds", "0", "1"]
    for item in tiny:
        args += ["--set", item]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "split study over seeds 0, 1:" in out
    seed_lines = [line for line in out.splitlines() if line.startswith("  seed ")]
    assert [line.split(":")[0] for line in seed_lines] == ["  seed 0", "  seed 1"]
    # seed 1's test split differs from the champion's (seed 0): no comparison, so it stays
    assert "hpc_data-split-study published" in seed_lines[0]
    assert "hpc_data-split-study kept unpublished" in seed_lines[1]
    table = out[out.index("group  dataset"):].splitlines()
    assert table[1].split()[:4] == ["1", "hpc_data", "2", "0,1"]  # one group, both splits
    # the study's page: the figure, and each run linked to its own report page
    page = out.split("split study page: file://", 1)[1].split()[0]
    html = open(page, encoding="utf-8").read()
    assert "<img src='splits.png'" in html and html.count("/index.html'><code>") == 2
    # each split's winner is registered under the study's name, the working name untouched
    assert server_main(["show", "models", "--data-dir", str(tmp_path), "--json"]) == 0
    names = [m["name"] for m in json.loads(capsys.readouterr().out)]
    assert names.count("hpc_data-split-study") == 2 and "hpc_data-classifier" not in names


def test_a_server_gone_before_the_summary_ends_the_study_with_a_sentence(monkeypatch):
    """Its calls would otherwise retry for hours against a server that no longer exists."""
    import contextlib

    import pipelines.runner
    from pipelines.controller_process import ServerGone

    class Gone:
        auto_stop = False

        def is_running(self):
            return False

    monkeypatch.setattr(pipelines.runner, "embedded_server",
                        lambda ex: contextlib.nullcontext(Gone()))
    cfgs = study_configs(None, [], [0, 1])  # embedded mode
    summarised = []
    with pytest.raises(ServerGone, match="stopped before the split study's summary"):
        run_study(cfgs, lambda cfg: _result(cfg.preprocess.split_seed, 0.8),
                  summarise=summarised.append)
    assert summarised == []
