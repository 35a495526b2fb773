"""Fixtures for the local server tests (importable by other test packages the same way)."""
from localserver.testing import localserver_handle, run_sdk  # noqa: F401
