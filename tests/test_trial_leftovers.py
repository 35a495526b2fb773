"""Trial tasks cloned just as a search ends are stopped, not left as drafts; queued and
finished ones are not touched."""
import pytest

from localserver.testing import localserver_handle, run_sdk  # noqa: F401

pytestmark = pytest.mark.slow

SNIPPET = """
from clearml import Task
from pipelines.trial_tasks import _stop_leftovers

step = Task.create(project_name="leftovers", task_name="train_svm")
draft = Task.create(project_name="leftovers/trials", task_name="svm trial")
draft.set_parent(step.id)
queued = Task.clone(draft, name="svm trial", parent=step.id)
from clearml.backend_api.session.client import APIClient
APIClient().queues.create(name="leftover-trials")
Task.enqueue(queued, queue_name="leftover-trials")
done = Task.clone(draft, name="svm trial", parent=step.id)
done.mark_stopped(force=True)
done.mark_completed(force=True)
before = {t.id: str(t.status) for t in (draft, queued, done)}
_stop_leftovers(step.id)
after = {t.id: str(Task.get_task(task_id=t.id).status) for t in (draft, queued, done)}
result(before=list(before.values()), after=list(after.values()))
"""


def test_drafts_are_stopped_and_queued_and_finished_trials_kept(run_sdk):
    out = run_sdk(SNIPPET, timeout=180)
    assert out["before"] == ["created", "queued", "completed"]
    assert out["after"] == ["stopped", "queued", "completed"]
