"""Command line: ``python -m localserver {serve,start,stop,status,show,agents}``."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

FALLBACK_DATA_DIR = os.path.expanduser("~/.localserver")


def default_data_dir() -> str:
    """$LOCALSERVER_DATA_DIR when set (read when the parser is built, so a wrapper such as
    ``tabpipe show`` can point it at its own data dir), else ~/.localserver."""
    return os.environ.get("LOCALSERVER_DATA_DIR", FALLBACK_DATA_DIR)

DESCRIPTION = """\
A small ClearML-compatible server (API + file server) for local runs and CI.

The real clearml SDK and clearml-agent talk to it unchanged. Everything lives in one data
directory (SQLite database, uploaded files, credentials, a ready-to-use clearml.conf):

{examples}

Ports are picked once and kept: stored artifact/model URLs embed them.
"""


def _description(prog: str) -> str:
    """The examples in the spelling the user called: ``python -m localserver`` or ``tabpipe``."""
    if prog.startswith("tabpipe"):  # tabpipe server / tabpipe show / tabpipe agents
        server, top = "tabpipe server", "tabpipe"
        conf = os.path.join(default_data_dir(), "clearml.conf")
    else:
        server = top = "python -m localserver"
        conf = "~/.localserver/clearml.conf"
    rows = [(f"{server} start", "background server, prints URLs + config path"),
            (f"export CLEARML_CONFIG_FILE={conf}", ""),
            ("python train.py", "any script using clearml.Task.init(...)"),
            (f"{top} agents --count 2", 'real clearml-agent workers on queue "default"'),
            (f"{top} show tasks", "what is stored (read-only)"), (f"{server} stop", "")]
    examples = "\n".join(f"  {cmd:<42}  # {note}" if note else f"  {cmd}" for cmd, note in rows)
    return DESCRIPTION.format(examples=examples)


def _add_dir(p):
    p.add_argument("--data-dir", default=default_data_dir(),
                   help=f"server data directory (default: $LOCALSERVER_DATA_DIR or {FALLBACK_DATA_DIR}; "
                        f"now {default_data_dir()})")


def _add_net(p):
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1; persisted)")
    p.add_argument("--api-port", type=int, default=None, help="API port (default: free port chosen once, persisted)")
    p.add_argument("--files-port", type=int, default=None, help="file server port (default: chosen once, persisted)")
    p.add_argument("--log-requests", action="store_true", help="append every call to <data-dir>/logs/requests.log")


def build_parser(prog: str = "python -m localserver") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=_description(prog),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("serve", help="run the server in the foreground (Ctrl-C stops it)")
    _add_dir(p)
    _add_net(p)
    p = sub.add_parser("start", help="start the server in the background (reuses a running one)")
    _add_dir(p)
    _add_net(p)
    p.add_argument("--json", action="store_true", help="print connection details as JSON")
    p = sub.add_parser("stop", help="stop the background server of a data dir")
    _add_dir(p)
    p.add_argument("--force", action="store_true", help="stop it even while commands use it")
    p = sub.add_parser("status", help="is a server running for this data dir? (exit code 0 = yes)")
    _add_dir(p)
    p = sub.add_parser("show", help="read-only view of stored projects/tasks/models/queues/workers")
    _add_dir(p)
    p.add_argument("what", nargs="?", default="summary",
                   choices=("summary", "projects", "tasks", "models", "queues", "workers"))
    p.add_argument("--project", help="only tasks/models whose project name starts with this")
    p.add_argument("--limit", type=int, default=50, help="show at most the N most recent rows")
    p.add_argument("--json", action="store_true", help="JSON output")
    p = sub.add_parser("agents", help="run N real clearml-agent daemons against the server (starts it if needed)")
    _add_dir(p)
    p.add_argument("--count", type=int, default=1, help="number of agents (each gets its own work dir)")
    p.add_argument("--queues", nargs="+", default=["default"], help="queues to serve (created if missing)")
    p.add_argument("--work-dir", default=None, help="agents' work root (default: <data-dir>/agents)")
    p.add_argument("--poll-sec", type=float, default=1.0, help="queue poll period in seconds")
    p.add_argument("--foreground", action="store_true", help="stay attached; Ctrl-C stops the agents")
    if prog.startswith("tabpipe"):
        for sp in sub.choices.values():
            sp.epilog = TABPIPE_NOTE
    return parser


TABPIPE_NOTE = ("Like `tabpipe run`, this also takes -c CONFIG and --set execution.data_dir=DIR: "
                "the data directory is the config's execution.data_dir unless --data-dir is given.")


def main(argv=None, prog: str = "python -m localserver") -> int:
    args = build_parser(prog).parse_args(argv)
    if args.command == "serve":
        from .server import serve
        serve(args.data_dir, args.host, args.api_port, args.files_port, args.log_requests)
        return 0
    if args.command == "start":
        from .launch import start_server
        from .sharing import keep_running
        h = start_server(args.data_dir, args.host or "127.0.0.1", args.api_port, args.files_port,
                         log_requests=args.log_requests)
        keep_running(args.data_dir)  # also a server a run started: it outlives the runs now
        info = {"api_url": h.api_url, "files_url": h.files_url, "web_url": h.web_url,
                "config_path": str(h.config_path), "pid": h.pid, "reused": not h.owned}
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            print(f"API:    {h.api_url}\nFiles:  {h.files_url}\nConfig: {h.config_path}"
                  f"{'  (already running)' if not h.owned else ''}\n"
                  f"Use it: export CLEARML_CONFIG_FILE={h.config_path}")
        return 0
    if args.command == "stop":
        from .datadir import Layout
        from .launch import running_server, stop_server
        from .sharing import lease_holder, live_leases, stop_when_unused
        users = [] if args.force else live_leases(Layout(args.data_dir))
        if users and running_server(args.data_dir) is not None:
            stop_when_unused(args.data_dir)
            pids = sorted({str(lease_holder(lease)) for lease in users})
            print(f"stops when the last of {len(pids)} running command(s) using it ends (pid "
                  f"{', '.join(pids)}); stopping it now would make them fail (--force does)")
            return 0
        stopped = stop_server(args.data_dir)
        print("stopped" if stopped else "not running")
        return 0
    if args.command == "status":
        from .launch import running_server
        h = running_server(args.data_dir)
        if h is None:
            print("not running")
            return 1
        print(f"running pid {h.pid}: API {h.api_url}  files {h.files_url}  config {h.config_path}")
        return 0
    if args.command == "show":
        from .show import collect, render
        try:
            print(render(collect(args.data_dir, args.what, args.project, args.limit), args.json))
        except FileNotFoundError as err:  # nothing stored yet: say where we looked
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    if args.command == "agents":
        from .agents import start_agents
        from .launch import start_server
        from .sharing import keep_running
        handle = start_server(args.data_dir)
        keep_running(args.data_dir)  # the agents outlive this command: runs must not stop it
        work = args.work_dir or os.path.join(handle.data_dir, "agents")
        pool = start_agents(handle, queues=args.queues, count=args.count, work_dir=work, poll_sec=args.poll_sec)
        for agent in pool.agents:
            print(f"agent {agent.worker_id} pid {agent.proc.pid} queues {agent.queues} log {agent.log_path}")
        if not args.foreground:
            from .agents import remember_detached
            remember_detached(args.data_dir, pool)  # `server stop` stops them with the server
            return 0
        try:
            while pool.alive():
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            pool.stop()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
