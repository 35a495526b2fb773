"""The `tabpipe` command line: `show` reads the same data dir that `tabpipe run` writes;
`predict` checks its input and output before touching a server; every command has a --help."""
import os

import pytest

from pipelines.cli import main


def test_show_looks_in_the_run_data_dir_and_says_so_when_empty(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()
                                        if k != "LOCALSERVER_DATA_DIR"})
    assert main(["show", "models"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / ".tabpipe") in err  # not ~/.localserver
    assert "tabpipe run" in err


def test_predict_fails_before_any_server_when_nothing_was_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new.csv").write_text("a,b\n1,2\n")
    assert main(["predict", "new.csv"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / ".tabpipe") in err and "tabpipe run" in err
    assert not (tmp_path / ".tabpipe").exists()  # no empty server was started


def test_predict_refuses_to_replace_an_output_and_unknown_formats(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new.csv").write_text("a,b\n1,2\n")
    (tmp_path / "new-predictions.csv").write_text("earlier results\n")
    assert main(["predict", "new.csv"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "new-predictions.csv").read_text() == "earlier results\n"
    assert main(["predict", "new.csv", "--out", "scored.xlsx"]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err
    assert main(["predict", "missing.csv"]) == 2
    assert "not found" in capsys.readouterr().err
    # the default output goes beside the table, not into the working directory
    elsewhere = tmp_path / "batch"
    elsewhere.mkdir()
    (elsewhere / "new.csv").write_text("a,b\n1,2\n")
    (elsewhere / "new-predictions.csv").write_text("earlier results\n")
    assert main(["predict", str(elsewhere / "new.csv")]) == 2
    assert str(elsewhere / "new-predictions.csv") in capsys.readouterr().err


def test_server_commands_answer_their_own_help(capsys):
    for argv, usage in ((["show", "--help"], "usage: tabpipe show"),
                        (["server", "--help"], "usage: tabpipe server"),
                        (["agents", "--help"], "usage: tabpipe agents")):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(usage)
        # the examples teach this command line, not the server's own module
        if argv[0] == "server":
            assert "tabpipe server start" in out and "python -m localserver" not in out


def test_ctrl_c_ends_a_run_with_a_sentence_and_the_shell_code_130(monkeypatch, capsys):
    import pipelines.runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(pipelines.runner, "run_pipeline", interrupted)
    monkeypatch.setattr("pipelines.preflight.preflight", lambda cfg: None)
    assert main(["run", "--set", "train.families=[logreg]"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "the same command continues from them" in err
    assert "Traceback" not in err


def test_runs_limit_must_be_positive(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["runs", "--limit", "0"])
    assert stop.value.code == 2 and "must be 1 or more" in capsys.readouterr().err


def test_server_commands_take_the_data_dir_from_the_config(tmp_path, monkeypatch, capsys):
    from pipelines.cli_server import split_config_args
    assert split_config_args(["tasks", "-c", "my.yaml", "--set=a.b=1", "--set", "c=2", "--json"]) \
        == ("my.yaml", ["a.b=1", "c=2"], ["tasks", "--json"])
    monkeypatch.setenv("LOCALSERVER_DATA_DIR", str(tmp_path / "from-env"))
    # --set wins over the environment; show then looks in the config's data dir
    assert main(["show", "tasks", "--set", f"execution.data_dir={tmp_path / 'mine'}"]) == 2
    assert f"no database in {tmp_path / 'mine'}" in capsys.readouterr().err
    assert main(["show", "--set", "execution.dat_dir=x"]) == 2
    assert "did you mean data_dir?" in capsys.readouterr().err


def test_every_set_in_the_help_examples_is_a_valid_config():
    """The examples teach the config keys: each one's --set values must load."""
    import re
    import shlex

    from pipelines.cli_help import EPILOG
    from steps.config import load_config
    commands = re.split(r"\n  (?=tabpipe )", EPILOG)
    checked = 0
    for command in commands:
        code = " ".join(line.split("#")[0] for line in command.splitlines())
        words = shlex.split(code)
        sets = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
        if sets:
            load_config(None, sets)  # raises ConfigError naming the key on a bad example
            checked += 1
    assert checked >= 8
