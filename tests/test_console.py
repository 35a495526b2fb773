"""The run's terminal output: ClearML's chatter filtered, the pipeline's progress kept."""
import io

from pipelines.console import filtered, pump

CONTROLLER_OUTPUT = """\
20:06:24 INFO steps start from a warm forkserver (set TABPIPE_WARM_STEPS=0 to disable)
2026-12-02 20:06:25,231 - clearml.Repository Detection - WARNING - Can't get url information for git repo in /v/lib/python3.11/site-packages/clearml/automation
20:06:25 INFO No repository found, storing script code instead
Launching the next 1 steps
Launching step [dataset]
Launching step: dataset
Parameters:
{'kwargs/data_cfg': '${pipeline.data}', 'kwargs/project': '${pipeline.project}'}
Configurations:
{}
Overrides:
{}
20:06:27 INFO [   1.6s] dataset                running (task 56b3)
2026-12-02 20:06:27,378 - clearml.resource_monitor - WARNING - Could not fetch GPU stats: NVML Shared Library Not Found
2026-12-02 20:06:27,693 - clearml - WARNING - No projects were found with name(s): tabpipe/.datasets/hpc_data
2026-12-02 20:06:29,345 - clearml - INFO - Dataset.get() did not specify alias. Dataset information will not be automatically logged in ClearML Server.
Generating SHA2 hash for 2 files
  0%|          | 0/2 [00:00<?, ?it/s]\r100%|##########| 2/2 [00:00<00:00, 19463.13it/s]
Hash generation completed
ClearML Monitor: GPU monitoring failed getting GPU reading, switching off GPU monitoring
2026-12-03 10:48:12,748 - clearml.storage - INFO - Downloading: 13.17MB from http://127.0.0.1:44219/t/models/extra_trees.joblib
2026-12-02 20:06:34,025 pipelines.train_task INFO knn trial 0: new best macro_f1 0.6698  n_neighbors=15
2026-12-02 20:06:35,000 pipelines.train_task WARNING logreg trial 3 failed: ValueError: boom
Traceback (most recent call last):
20:08:09 INFO [ 103.7s] publish                completed (task cde5)
"""


def test_clearml_chatter_is_dropped_and_progress_errors_and_tracebacks_kept():
    kept = filtered(line + "\n" for line in CONTROLLER_OUTPUT.split("\n")[:-1])
    assert kept == [
        "20:06:24 INFO steps start from a warm forkserver (set TABPIPE_WARM_STEPS=0 to disable)",
        "20:06:27 INFO [   1.6s] dataset                running (task 56b3)",
        "2026-12-02 20:06:34,025 pipelines.train_task INFO knn trial 0: new best macro_f1 0.6698"
        "  n_neighbors=15",
        "2026-12-02 20:06:35,000 pipelines.train_task WARNING logreg trial 3 failed: "
        "ValueError: boom",
        "Traceback (most recent call last):",
        "20:08:09 INFO [ 103.7s] publish                completed (task cde5)",
    ]


def test_a_repository_warning_about_the_users_own_code_is_kept():
    line = "WARNING - Can't get url information for git repo in /home/me/project"
    assert filtered([line]) == [line]


def test_a_transfer_bar_shows_its_last_state_only():
    bar = "  0% | 0.00/51.62 MB [00:00<?, ?MB/s]\r 100% | 51.62/51.62 MB [00:00<00:00]\n"
    assert filtered([bar]) == [" 100% | 51.62/51.62 MB [00:00<00:00]"]


def test_pump_copies_lines_as_they_come_and_survives_undecodable_bytes():
    source = io.BytesIO(b"Launching step [x]\nkept \xff line\n")
    sink = io.StringIO()
    pump(source, sink)
    assert sink.getvalue() == "kept \ufffd line\n"


def test_after_ctrl_c_the_rest_is_drained_but_not_shown():
    import io
    import threading
    mute = threading.Event()

    class Source(io.BytesIO):  # Ctrl-C arrives after the first line
        def readline(self, *args):
            line = super().readline(*args)
            if line.startswith(b"Traceback"):
                mute.set()
            return line
    source = Source(b"step 1 running\nTraceback (most recent call last):\nKeyboardInterrupt\n")
    sink = io.StringIO()
    pump(source, sink, mute)
    assert sink.getvalue() == "step 1 running\n"
    assert source.read() == b""  # drained: the processes writing to the pipe never block


def test_a_keyboard_interrupt_traceback_is_dropped_whole_and_others_are_kept():
    interrupted = ["Traceback (most recent call last):", '  File "/x/train.py", line 3, in fit',
                   "    model.fit(X)", "    ^^^^^^^^^^^^", "KeyboardInterrupt"]
    failure = ["Traceback (most recent call last):", '  File "/x/data.py", line 9, in load',
               "", "During handling of the above exception, another exception occurred:", "",
               "Traceback (most recent call last):", '  File "/x/data.py", line 12, in load',
               "ValueError: target column 'class' not found"]
    lines = ["step 1 running", *interrupted, "step 2 running", *failure, "step 3 running"]
    assert filtered(lines) == ["step 1 running", "step 2 running", *failure, "step 3 running"]
    # a traceback cut short by the end of the stream is still shown
    assert filtered(interrupted[:3]) == interrupted[:3]
    sink = io.StringIO()
    pump(io.BytesIO("\n".join(["a", *interrupted, "b", *failure[:2]]).encode()), sink)
    assert sink.getvalue().splitlines() == ["a", "b", *failure[:2]]
