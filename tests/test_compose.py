"""The ClearML server stack: structure, pinned images, health checks, no baked-in secrets.

``docker compose config`` resolves and validates the file without a Docker engine; where the
compose plugin is missing the same structural checks run on the YAML (PyYAML resolves the
``<<`` merge keys the file uses, as compose does).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.clearml.yml"
CONF = ROOT / "clearml.conf.example"
SERVER = {"apiserver", "webserver", "fileserver", "mongo", "elasticsearch", "redis"}
AGENTS = {"agent-default": "default", "agent-services": "services"}
SECRET_WORDS = re.compile(r"(KEY|SECRET|PASS|TOKEN)", re.IGNORECASE)
ENV_REF = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(:?[-?][^}]*)?\}$")
REQUIRED_REF = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}$")
DUMMY_ENV = {name: f"dummy-{name.lower()}" for name in [
    "CLEARML_AGENT_ACCESS_KEY", "CLEARML_AGENT_SECRET_KEY", "CLEARML_AUTH_TOKEN_SECRET",
    "CLEARML_SESSION_SECRET", "CLEARML_APISERVER_KEY", "CLEARML_APISERVER_SECRET",
    "CLEARML_WEBSERVER_KEY", "CLEARML_WEBSERVER_SECRET", "CLEARML_FILESERVER_KEY",
    "CLEARML_FILESERVER_SECRET", "CLEARML_TESTS_KEY", "CLEARML_TESTS_SECRET"]}
DUMMY_ENV["CLEARML_FILES_HOST"] = "http://files.example:8081"


def _compose_cli() -> list[str] | None:
    """A working compose CLI (plugin or standalone v2), or None."""
    for cmd in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(cmd[0]) is None:
            continue
        probe = subprocess.run([*cmd, "version"], capture_output=True, text=True)
        if probe.returncode == 0 and "v1." not in probe.stdout:
            return cmd
    return None


def _raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def _command_text(service: dict) -> str:
    cmd = service.get("command") or ""
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def _check_structure(doc: dict) -> None:
    services = doc["services"]
    assert SERVER | set(AGENTS) <= set(services)
    for name, svc in services.items():
        image = svc["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest" and re.search(r"\d", tag), f"{name}: unpinned {image}"
        assert svc.get("healthcheck", {}).get("test"), f"{name}: no healthcheck"
    assert services["apiserver"]["image"] == "allegroai/clearml:2.0.0"
    assert services["mongo"]["image"].startswith("mongo:6.0.")
    assert services["elasticsearch"]["image"].split(":")[-1].startswith("8.")
    assert services["redis"]["image"].startswith("redis:7.")
    for name in ("mongo", "elasticsearch", "redis", "fileserver", "apiserver"):
        assert services[name].get("volumes"), f"{name}: data is not persisted"
    for name, queue in AGENTS.items():
        assert f"--queue {queue} " in _command_text(services[name]) + " "
        assert "clearml-agent==" in _command_text(services[name])
        deps = services[name]["depends_on"]
        assert deps["apiserver"]["condition"] == "service_healthy"
    for name in ("mongo", "elasticsearch", "redis"):
        assert not services[name].get("ports"), f"{name} must stay on the internal network"


def test_compose_structure_from_yaml():
    _check_structure(_raw())


def test_no_literal_secrets_and_required_credentials():
    doc = _raw()
    for name, svc in doc["services"].items():
        for key, value in _env(svc).items():
            if SECRET_WORDS.search(key):
                assert ENV_REF.match(str(value)), f"{name}.{key} is not an environment reference"
                if not key.endswith(("GIT_USER", "GIT_PASS")):
                    assert REQUIRED_REF.match(str(value)), f"{name}.{key} must be required (${{VAR:?...}})"
    agent_env = _env(doc["services"]["agent-default"])
    assert agent_env["CLEARML_API_ACCESS_KEY"].startswith("${CLEARML_AGENT_ACCESS_KEY:?")
    server_env = _env(doc["services"]["apiserver"])
    assert server_env["CLEARML__secure__credentials__services_agent__user_key"] == agent_env["CLEARML_API_ACCESS_KEY"]


def test_clearml_conf_example_has_placeholders_only():
    text = CONF.read_text()
    for key in ("api_server", "web_server", "files_server", "default_output_uri"):
        assert key in text
    assert re.search(r"report_use_subprocess:\s*false", text)
    assert re.search(r'"access_key"\s*=\s*"<[A-Z_]+>"', text)
    assert re.search(r'"secret_key"\s*=\s*"<[A-Z_]+>"', text)


@pytest.mark.skipif(_compose_cli() is None, reason="docker compose CLI not available")
def test_docker_compose_config_resolves():
    cli = _compose_cli()
    env = {**os.environ, **DUMMY_ENV}
    out = subprocess.run([*cli, "-f", str(COMPOSE), "config", "--format", "json"],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    resolved = json.loads(out.stdout)
    _check_structure(resolved)
    agent_env = resolved["services"]["agent-default"]["environment"]
    assert agent_env["CLEARML_API_ACCESS_KEY"] == DUMMY_ENV["CLEARML_AGENT_ACCESS_KEY"]
    missing = {k: v for k, v in env.items() if k != "CLEARML_AGENT_SECRET_KEY"}
    refused = subprocess.run([*cli, "-f", str(COMPOSE), "config"], capture_output=True, text=True,
                             env=missing, cwd=ROOT)
    assert refused.returncode != 0 and "CLEARML_AGENT_SECRET_KEY" in refused.stderr
