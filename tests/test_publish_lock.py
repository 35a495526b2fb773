"""Publish steps of the same model name on one machine take turns (read champion, decide,
move the tag), so two concurrent winners cannot both replace the same old champion."""
import threading

from pipelines.publish_task import one_publisher


def test_a_second_publisher_of_the_same_name_waits_for_the_first():
    entered = threading.Event()

    def second():
        with one_publisher("project-1", "hpc_data-classifier"):
            entered.set()
    with one_publisher("project-1", "hpc_data-classifier"):
        other = threading.Thread(target=second)
        other.start()
        assert not entered.wait(0.3)  # held by the first
        with one_publisher("project-1", "another-name"):  # other names do not wait
            pass
    assert entered.wait(10)
    other.join()
