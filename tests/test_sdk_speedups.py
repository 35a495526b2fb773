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
