"""Shared by every test module."""
import signal


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    # A run stopped by SIGTERM (a CI time limit, `timeout`) ends as Ctrl-C does: fixtures
    # tear down, so the servers and agents that tests started do not outlive the run.
    signal.signal(signal.SIGTERM, _interrupt)
