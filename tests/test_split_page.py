"""The split-study page: one line per setting by split seed, the group table, each setting
against group 1, and links to the runs' own report pages."""
from steps.split_page import MAX_LINES, render_split_page, split_figure
from steps.split_summary import split_groups


def _run(run_id, seed, test, strategy="class_weight", dataset_hash="h1"):
    row = {"run": run_id, "dataset": "hpc_data", "dataset_hash": dataset_hash, "split": f"s{seed}-{dataset_hash}",
           "metric": "macro_f1", "winner": "hist_gb", "cv": 0.8, "test": test}
    return row, {"preprocess": {"split_seed": seed, "imbalance": {"strategy": strategy}}}


GROUPS = split_groups([_run("a1", 1, 0.82), _run("a0", 0, 0.86),
                       _run("b1", 1, 0.80, "smote"), _run("b0", 0, 0.83, "smote"),
                       _run("c0", 0, 0.70, dataset_hash="h2")])


def test_each_setting_is_a_line_through_its_splits_labelled_by_what_it_changes():
    ax = split_figure(GROUPS).axes[0]
    lines = ax.get_lines()
    assert [list(line.get_ydata()) for line in lines] == [[0.86, 0.82], [0.83, 0.80], [0.70]]
    assert [list(line.get_xdata()) for line in lines] == [[0, 1], [0, 1], [0]]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "group 1: 0.840 ± 0.028 over 2 split(s)"
    assert labels[1].startswith("group 2 (strategy=smote): 0.815")
    assert labels[2].startswith("group 3 (other data): 0.700")
    assert ax.get_ylabel() == "test macro_f1"


def test_only_the_newest_settings_are_drawn_and_the_rest_are_counted():
    many = split_groups([_run(f"r{k}", 0, 0.8, strategy=f"s{k}") for k in range(MAX_LINES + 2)])
    ax = split_figure(many).axes[0]
    assert len(ax.get_lines()) == MAX_LINES
    assert any("2 older setting(s)" in t.get_text() for t in ax.texts)


def test_page_holds_the_table_the_contrasts_and_links_to_existing_reports():
    page = render_split_page(GROUPS, {"a0": "../a0/index.html"}, "Settings over test splits")
    assert "<h1>Settings over test splits</h1>" in page and "<img src='splits.png'" in page
    assert "group 2 against group 1: preprocess.imbalance.strategy: &quot;class_weight&quot; -&gt; " \
           "&quot;smote&quot;; paired over 2 shared split(s): mean difference -0.0250" in page
    assert "group 3 against group 1: the dataset version; no test split in common" in page
    assert "<a href='../a0/index.html'><code>a0</code></a> test 0.8600" in page
    assert "seed 1: <code>a1</code> test 0.8200" in page  # no report page: no link
    assert "<td>0.8400</td>" in page  # group 1's mean in the table
    assert "No finished pipeline runs" in render_split_page([], {}, "t")


def test_written_page_links_only_the_reports_on_disk(tmp_path):
    from pipelines.split_study import write_split_page
    reports = tmp_path / "reports"
    (reports / "a0").mkdir(parents=True)
    (reports / "a0" / "index.html").write_text("run a0")
    page = write_split_page(GROUPS, reports / "splits-x", reports)
    text = page.read_text()
    assert "href='../a0/index.html'" in text and "href='../a1/" not in text
    assert (reports / "splits-x" / "splits.png").stat().st_size > 1000
