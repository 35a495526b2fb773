"""SDK speed-ups keep ClearML's behaviour: every request is still validated, and a local
step job reports its task's new status as soon as the step process has exited."""
import jsonschema
import pytest
from clearml.backend_api.session import datamodel
from clearml.backend_api.services import tasks

from pipelines import sdk_speedups


def test_cached_validation_checks_each_schema_once_and_still_rejects_bad_requests(monkeypatch):
    checks = []
    original = datamodel._CustomValidator.check_schema
    monkeypatch.setattr(datamodel._CustomValidator, "check_schema",
                        classmethod(lambda cls, schema: checks.append(id(schema)) or original(schema)))
    validate = sdk_speedups._CachedValidate(jsonschema)
    monkeypatch.setattr(datamodel, "jsonschema", type("shim", (), {"validate": validate}))
    for _ in range(3):
        tasks.GetByIdRequest(task="abc").validate()
    assert len(checks) == 1
    request = tasks.GetByIdRequest(task="abc")
    request._property_task = 5  # bypass the setter's own type check: the schema must catch it
    with pytest.raises(jsonschema.ValidationError):
        request.validate()


def test_cache_request_validation_installs_once():
    sdk_speedups.cache_request_validation()
    assert isinstance(datamodel.jsonschema.validate, sdk_speedups._CachedValidate)
    assert sdk_speedups.cache_request_validation() is False
    assert datamodel.jsonschema.ValidationError is jsonschema.ValidationError


def test_local_job_rereads_status_once_its_process_is_reaped(monkeypatch):
    from clearml.automation.job import LocalClearmlJob
    monkeypatch.setattr(LocalClearmlJob, "wait_for_process", lambda self, timeout=None: self.code)
    sdk_speedups._installed.discard("local_exit")
    sdk_speedups.notice_local_step_exit()
    job = LocalClearmlJob.__new__(LocalClearmlJob)
    job._last_status_ts, job.code = 123.0, None
    job.wait_for_process(timeout=0)
    assert job._last_status_ts == 123.0  # still running: the status cache stands
    job.code = 0
    job.wait_for_process(timeout=0)
    assert job._last_status_ts == 0  # exited: the next status() asks the server


def _caller_of_stack(module_inspect):
    """What ClearML's get_logger reads: stack()[1] is its caller, [1] the caller's file."""
    def get_logger_like():
        return module_inspect.stack()[1]
    return get_logger_like()


def test_frame_only_stack_matches_inspect_for_what_get_logger_reads():
    import inspect
    fast = sdk_speedups._FrameOnlyInspect(inspect)
    assert fast.stack is not inspect.stack
    real_frame = _caller_of_stack(inspect)
    fast_frame = _caller_of_stack(fast)
    assert fast_frame[1] == real_frame[1] == __file__
    assert fast_frame[0].f_code is real_frame[0].f_code  # the same calling function
    assert fast.getmodule is inspect.getmodule  # everything else is the real module


def test_clearml_loggers_keep_their_names_with_the_fast_lookup():
    from clearml.debugging import log
    sdk_speedups.fast_caller_lookup()
    assert isinstance(log.inspect, sdk_speedups._FrameOnlyInspect)
    assert log.inspect.stack is sdk_speedups._frames_stack
    named = log.get_logger()  # named after the calling file, as with inspect.stack()
    assert named.name.endswith("test_sdk_speedups")
    assert sdk_speedups.fast_caller_lookup() is False
