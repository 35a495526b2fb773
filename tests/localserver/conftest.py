"""Fixtures for the local server tests (importable by other test packages the same way)."""
import pytest

from localserver.launch import start_server
from localserver.testing import localserver_handle, run_sdk  # noqa: F401


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """An in-process server of the test module's own, in a fresh data directory."""
    handle = start_server(tmp_path_factory.mktemp("server"), background=False)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def api(server):
    """A small API client of that server (no SDK)."""
    return server.api()
