"""Two commands on one data dir share its server: the one that started it does not stop it
under the other; the last one out stops it, unless `server start` asked for it to stay up."""
import subprocess
import sys

from localserver.launch import running_server, stop_server
from localserver.sharing import keep_running, live_leases, shared_server
from localserver.datadir import Layout


def test_the_last_user_stops_a_server_a_user_started(tmp_path):
    data = tmp_path / "data"
    with shared_server(data) as first:
        assert first.owned and first.auto_stop
        with shared_server(data) as second:  # another run reuses it
            assert not second.owned and second.pid == first.pid
        # the second left while the first still uses it: still up
        assert not second.stopped and running_server(data) is not None
    assert first.stopped and running_server(data) is None
    assert live_leases(Layout(data)) == []


def test_the_starter_leaving_first_leaves_it_up_for_the_other(tmp_path):
    data = tmp_path / "data"
    starter = shared_server(data)
    first = starter.__enter__()
    with shared_server(data) as other:
        starter.__exit__(None, None, None)  # the run that started it ends first
        assert not first.stopped and other.is_healthy()
    assert other.stopped and running_server(data) is None


def test_a_crashed_users_lease_does_not_keep_the_server_up(tmp_path):
    data = tmp_path / "data"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    with shared_server(data) as handle:
        (Layout(data).leases / f"{dead}-crashed").write_text(dead)
    assert handle.stopped and running_server(data) is None


def test_server_start_keeps_a_run_started_server_up(tmp_path):
    data = tmp_path / "data"
    try:
        with shared_server(data) as handle:
            keep_running(data)  # `tabpipe server start` while the run is on
        assert not handle.stopped and running_server(data) is not None
    finally:
        stop_server(data)


def test_server_stop_while_a_command_uses_it_waits_for_that_command(tmp_path, capsys):
    from localserver.cli import main
    data = tmp_path / "data"
    try:
        with shared_server(data) as handle:
            keep_running(data)  # as after `server start`
            assert main(["stop", "--data-dir", str(data)]) == 0
            assert "stops when the last of 1 running command(s)" in capsys.readouterr().out
            assert handle.is_healthy()  # not stopped under the command
        assert handle.stopped and running_server(data) is None  # its last user stopped it
        with shared_server(data):
            keep_running(data)
            assert main(["stop", "--force", "--data-dir", str(data)]) == 0
            assert running_server(data) is None
    finally:
        stop_server(data)


def test_server_stop_stops_the_agents_left_running_for_it(tmp_path, capsys):
    import psutil

    from localserver.cli import main
    data = tmp_path / "data"
    assert main(["agents", "--data-dir", str(data), "--count", "1", "--queues", "q"]) == 0
    pids = [int(line.split()[0]) for line in Layout(data).agent_pids.read_text().splitlines()]
    agent = psutil.Process(pids[0])
    assert "clearml_agent" in " ".join(agent.cmdline()) and agent.is_running()
    try:
        assert main(["stop", "--data-dir", str(data)]) == 0
        assert "stopped" in capsys.readouterr().out
        psutil.wait_procs([agent], timeout=20)
        assert not agent.is_running() or agent.status() == psutil.STATUS_ZOMBIE
        assert not Layout(data).agent_pids.exists() and running_server(data) is None
    finally:
        if agent.is_running():
            agent.kill()


def test_a_lease_whose_pid_now_names_another_process_is_not_live(tmp_path):
    import os

    from localserver.pids import identity
    layout = Layout(tmp_path).ensure()
    layout.leases.mkdir()
    mine, reused = layout.leases / "mine", layout.leases / "reused"
    mine.write_text(identity(os.getpid()))
    reused.write_text(f"{os.getpid()} 1.000")  # this PID, held by a process started in 1970
    assert live_leases(layout) == [mine]
    assert not reused.exists()


def test_a_recorded_agent_whose_pid_now_names_another_process_is_left_alone(tmp_path):
    from localserver.agents import stop_detached
    from localserver.pids import identity
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                             start_new_session=True)
    try:
        layout = Layout(tmp_path).ensure()
        layout.agent_pids.write_text(f"{other.pid} 1.000\n"  # its PID, a 1970 start time
                                     f"{other.pid}\n")  # a bare PID: its start unknown
        assert stop_detached(tmp_path, timeout=1) == 0
        assert other.poll() is None and not layout.agent_pids.exists()
        layout.agent_pids.write_text(identity(other.pid) + "\n")  # the process recorded
        assert stop_detached(tmp_path, timeout=5) == 1
        assert other.wait(timeout=5) is not None
    finally:
        if other.poll() is None:
            other.kill()
