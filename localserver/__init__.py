"""A small ClearML-compatible server (API + file server) for local runs and CI.

Public API::

    from localserver import start_server, start_agents
    with start_server(data_dir) as handle:          # ServerHandle
        env = handle.client_env()                    # env for SDK / agent processes
        pool = start_agents(handle, queues=["default"], count=1)
        ...
        pool.stop()

See ``python -m localserver --help`` for the command line.
"""
from .agents import AgentPool, start_agents
from .launch import ServerHandle, running_server, start_server, stop_server

__all__ = ["AgentPool", "ServerHandle", "running_server", "start_agents", "start_server", "stop_server"]
