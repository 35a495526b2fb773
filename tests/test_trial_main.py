"""How a trial process ends when its work fails: a trial the search stopped exits with the
code clearml-agent reads as "interrupted" (the task stays stopped), any other failure with
its reason recorded on the task."""
from __future__ import annotations

import clearml
import pytest

from pipelines import trial_main


class FakeTask:
    name = "trial 3"

    def __init__(self, status: str):
        self.status, self.properties, self.texts = status, {}, []

    def get_status(self) -> str:
        return self.status

    def set_user_properties(self, **props) -> None:
        self.properties.update(props)

    def get_logger(self):
        return self

    def report_text(self, text, print_console=True) -> None:
        self.texts.append(text)


def _run_failing(monkeypatch, task: FakeTask) -> SystemExit:
    def refused(_task):
        raise RuntimeError("artifact upload refused: task is stopped")
    monkeypatch.setattr(clearml.Task, "init", staticmethod(lambda **_: task))
    monkeypatch.setattr(trial_main, "run_trial", refused)
    with pytest.raises(SystemExit) as ended:
        trial_main.main()
    return ended.value


def test_a_trial_stopped_by_the_search_exits_as_interrupted(monkeypatch):
    task = FakeTask("stopped")
    ended = _run_failing(monkeypatch, task)
    assert ended.code == trial_main.STOPPED_EXIT
    assert task.properties == {} and task.texts == []  # no failure is recorded


def test_a_running_trial_that_fails_says_why(monkeypatch):
    task = FakeTask("in_progress")
    ended = _run_failing(monkeypatch, task)
    assert ended.code == "trial 3 failed: RuntimeError: artifact upload refused: task is stopped"
    assert task.properties[trial_main.ERROR_PROPERTY].startswith("RuntimeError: artifact upload")
    assert "Traceback" in task.texts[0]


def test_an_unreachable_server_counts_as_a_failure(monkeypatch):
    task = FakeTask("in_progress")
    task.get_status = lambda: (_ for _ in ()).throw(ConnectionError("server gone"))
    assert _run_failing(monkeypatch, task).code != trial_main.STOPPED_EXIT
