"""Config validation: unknown keys and bad values fail with the key's dotted path."""
import pytest

from steps.config import ConfigError, PipelineConfig, load_config, parse_config

DEFAULT = "configs/default.yaml"


def test_default_yaml_equals_builtin_defaults():
    # The YAML is the config reference; it must not drift from the typed defaults.
    assert load_config(DEFAULT) == PipelineConfig()


def test_unknown_key_reports_its_path():
    with pytest.raises(ConfigError, match=r"preprocess\.imbalance\.strategyy: unknown key"):
        parse_config({"preprocess": {"imbalance": {"strategyy": "smote"}}})


def test_bad_value_reports_its_path():
    with pytest.raises(ConfigError, match=r"train\.n_trials"):
        parse_config({"train": {"n_trials": 0}})
    with pytest.raises(ConfigError, match=r"train\.families\.1"):
        parse_config({"train": {"families": ["hist_gb", "xgboost"]}})


def test_overrides_are_parsed_as_yaml(tmp_path):
    cfg = load_config(DEFAULT, ["train.families=[hist_gb, logreg]", "train.timeout_s=12.5",
                                "execution.force_rerun=true"])
    assert cfg.train.families == ["hist_gb", "logreg"]
    assert cfg.train.timeout_s == 12.5 and cfg.execution.force_rerun is True
    assert load_config(DEFAULT, ["train.timeout_s=null"]).train.timeout_s is None  # untimed


def test_override_without_equals_is_rejected():
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(DEFAULT, ["train.n_trials"])


def test_metrics_of_train_and_evaluate_must_agree():
    with pytest.raises(ConfigError, match="must be the same primary metric"):
        parse_config({"train": {"metric": "roc_auc"}})


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_digest_changes_with_any_value():
    a, b = PipelineConfig(), parse_config({"train": {"n_trials": 41}})
    assert a.digest() == PipelineConfig().digest() != b.digest()


def test_yes_and_no_stay_class_labels_while_booleans_still_parse():
    # YAML 1.1 would read yes/no as True/False and lose churn's class labels
    cfg = load_config(None, ["evaluate.costs={yes: {no: 5}}", "execution.cache=no",
                             "data.class_order=[no, yes]"])
    assert cfg.evaluate.costs == {"yes": {"no": 5.0}}
    assert cfg.execution.cache is False and cfg.data.class_order == ["no", "yes"]
    assert load_config(None, ["execution.cache=true"]).execution.cache is True


def test_malformed_yaml_names_the_override_or_file_and_where(tmp_path):
    with pytest.raises(ConfigError, match=r"--set train.families: '\[logreg' is not valid YAML"):
        load_config(None, ["train.families=[logreg"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  families: [logreg\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML: .* at line 3, column 1"):
        load_config(bad)


def test_a_misspelt_key_gets_the_nearest_valid_one():
    with pytest.raises(ConfigError, match=r"train\.n_trial: unknown key \(did you mean n_trials\?\)"):
        load_config(None, ["train.n_trial=5"])
    with pytest.raises(ConfigError, match=r"imbalance\.stratgy: unknown key \(did you mean strategy\?\)"):
        load_config(None, ["preprocess.imbalance.stratgy=smote"])
    with pytest.raises(ConfigError, match=r"prediction_sets\.alfa: unknown key \(did you mean alpha\?\)"):
        load_config(None, ["evaluate.prediction_sets.alfa=0.05"])  # a section that may be null
    with pytest.raises(ConfigError) as nothing_near:
        load_config(None, ["train.zzz=1"])
    assert "train.zzz: unknown key" in str(nothing_near.value)
    assert "did you mean" not in str(nothing_near.value)


def test_a_misspelt_choice_and_a_scalar_for_a_list_say_what_to_write():
    with pytest.raises(ConfigError, match=r"imbalance\.strategy: .*'smoteenn' \(did you mean smote\?\)"):
        load_config(None, ["preprocess.imbalance.strategy=SMOTE"])
    with pytest.raises(ConfigError, match=r"train\.metric: .* \(did you mean macro_f1\?\)"):
        load_config(None, ["train.metric=macro-f1"])
    with pytest.raises(ConfigError, match=r"train\.families: .*\(write it as a YAML list: \[hist_gb\]\)"):
        load_config(None, ["train.families=hist_gb"])
    with pytest.raises(ConfigError) as nothing_near:
        load_config(None, ["preprocess.scaling=xyz"])
    assert "did you mean" not in str(nothing_near.value)


def test_a_key_given_twice_is_an_error_not_a_silent_override(tmp_path):
    twice = tmp_path / "twice.yaml"
    twice.write_text("train:\n  n_trials: 5\nevaluate:\n  bootstrap: 10\ntrain:\n  cv_folds: 3\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'train'.* at line 5, column 1"):
        load_config(twice)


def test_an_empty_override_is_refused_not_read_as_null():
    with pytest.raises(ConfigError, match=r"train.timeout_s= has no value; write train.timeout_s=null"):
        load_config(None, ["train.timeout_s="])
    assert load_config(None, ["train.timeout_s=null"]).train.timeout_s is None
