"""The `tabpipe` command line: `show` reads the same data dir that `tabpipe run` writes."""
import os

from pipelines.cli import main


def test_show_looks_in_the_run_data_dir_and_says_so_when_empty(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()
                                        if k != "LOCALSERVER_DATA_DIR"})
    assert main(["show", "models"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / ".tabpipe") in err  # not ~/.localserver
    assert "tabpipe run" in err
