"""``tabpipe server|show|agents``: the embedded server's own command line, pointed at the data
directory the pipeline's config names, so `tabpipe show` sees what `tabpipe run` made."""
from __future__ import annotations

import os
from pathlib import Path

SERVER_COMMANDS = ("server", "show", "agents")


def split_config_args(rest: list[str]) -> tuple[str | None, list[str], list[str]]:
    """Take ``-c/--config PATH`` and ``--set KEY=VALUE`` (either spelling, ``=`` or a space)
    out of ``rest``: (config path or None, overrides, the arguments left for the server)."""
    config, overrides, left = None, [], []
    args = iter(rest)
    for arg in args:
        name, eq, value = arg.partition("=")
        if name in ("-c", "--config", "--set"):
            if not eq:
                value = next(args, None)
                if value is None:
                    raise SystemExit(f"tabpipe: {name} needs a value")
            if name == "--set":
                overrides.append(value)
            else:
                config = value
        else:
            left.append(arg)
    return config, overrides, left


def server_command(command: str, rest: list[str], default_config: Path) -> int:
    from localserver.cli import main as server_main
    from steps.config import load_config
    config, overrides, rest = split_config_args(rest)
    data_dir = str(Path(load_config(config or default_config, overrides).execution.data_dir).resolve())
    if config or overrides:  # named on this command line: wins over the environment
        os.environ["LOCALSERVER_DATA_DIR"] = data_dir
    else:
        os.environ.setdefault("LOCALSERVER_DATA_DIR", data_dir)
    if command == "server":
        return server_main(rest, prog="tabpipe server")
    return server_main([command, *rest], prog="tabpipe")
