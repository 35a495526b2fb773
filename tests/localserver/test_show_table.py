"""`show`'s text table: long cells are visibly cut, the last column (a model's URI) never."""
from localserver.show import render


def test_long_cells_end_in_an_ellipsis_and_the_last_column_is_whole():
    uri = "http://127.0.0.1:8081/tabpipe/train_hist_gb.abc/models/hist_gb-pipeline.pkl"
    rows = [{"id": "a" * 32, "name": "n" * 50, "uri": uri}, {"id": "b", "name": "short", "uri": "x"}]
    lines = render(rows, as_json=False).splitlines()
    assert lines[0].split() == ["id", "name", "uri"]
    assert "a" * 32 in lines[1]  # fits: not cut
    assert "n" * 39 + "…" in lines[1] and "n" * 40 not in lines[1]
    assert lines[1].endswith(uri) and lines[2].endswith("x")
    assert render([], as_json=False) == "(none)"
    assert render(rows, as_json=True).startswith("[")
