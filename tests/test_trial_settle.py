"""Once a search ends, its trial tasks end too: drafts, queued and running trials are
stopped, a queued one leaves its queue, and one an agent starts just then (an agent forces
the start of a task it has taken from the queue) is stopped again; finished trials are
not touched."""
import pytest

from localserver.testing import localserver_handle, run_sdk  # noqa: F401

pytestmark = pytest.mark.slow

SNIPPET = """
import threading, time
from clearml import Task
from clearml.backend_api.session.client import APIClient
from pipelines.trial_optimizer import settle_trials

step = Task.create(project_name="settle", task_name="train_svm")
draft = Task.create(project_name="settle/trials", task_name="svm trial")
draft.set_parent(step.id)
queue = APIClient().queues.create(name="settle-trials").id
queued = Task.clone(draft, name="svm trial", parent=step.id)
Task.enqueue(queued, queue_name="settle-trials")
taken = Task.clone(draft, name="svm trial", parent=step.id)
Task.enqueue(taken, queue_name="settle-trials")
running = Task.clone(draft, name="svm trial", parent=step.id)
running.mark_started(force=True)
done = Task.clone(draft, name="svm trial", parent=step.id)
done.mark_stopped(force=True)
done.mark_completed(force=True)
trials = (draft, queued, taken, running, done)
before = [str(t.status) for t in trials]
restarted = []

def agent():  # took `taken` from the queue as the search ended: starts it once stopped
    while str(Task.get_task(task_id=taken.id).status) in ("queued", "created"):
        time.sleep(0.05)
    taken.mark_started(force=True)
    restarted.append(str(Task.get_task(task_id=taken.id).status))

thread = threading.Thread(target=agent)
thread.start()
left = settle_trials(step.id, limit_s=60, calm_s=1.5, poll_s=0.2)
thread.join()
after = [str(Task.get_task(task_id=t.id).status) for t in trials]
entries = APIClient().queues.get_by_id(queue=queue).entries
result(before=before, after=after, left=left, restarted=restarted, entries=len(entries),
       settled_again=settle_trials(step.id))
"""


def test_open_trials_are_stopped_until_none_restarts(run_sdk):
    out = run_sdk(SNIPPET, timeout=240)
    assert out["before"] == ["created", "queued", "queued", "in_progress", "completed"]
    assert out["restarted"] == ["in_progress"]  # the agent did start it again
    assert out["after"] == ["stopped", "stopped", "stopped", "stopped", "completed"]
    assert out["left"] == [] and out["entries"] == 0  # no agent can take one up later
    assert out["settled_again"] == []
