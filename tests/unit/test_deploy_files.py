"""Dockerfile and compose.yaml, checked without a Docker engine: compose wires the variables the
code reads to the services that answer them, the pull service pulls what the app asks for, the
vllm profile serves the app's model with tool calling on a GPU, model servers publish no port;
the image installs as CI does (without torch), runs as a user, keeps the index on its volume,
binds beyond loopback only by saying so, and checks its health with `spec-agent doctor`."""

from __future__ import annotations

import fnmatch
import inspect
import re
import shlex
from dataclasses import fields
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from agent.commands.ui import ui
from agent.config import Settings
from agent.llm import backend

ROOT = Path(__file__).resolve().parents[2]
CHAT_ONLY_ENV = {"SPEC_AGENT_USERS", "CHAINLIT_AUTH_SECRET"}  # read by ui/auth.py, not Settings
SETTINGS_ENV = {f.metadata["env"] for f in fields(Settings)}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def interpolated(value: str, shell: dict[str, str]) -> str:
    """Compose's `${VAR:-default}` and `${VAR}` with the variables of the shell running compose."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: shell.get(m.group(1)) or m.group(2) or "", value)


def settings_of(service: dict, shell: dict[str, str] | None = None) -> Settings:
    """The Settings the app in this service reads (compose's defaults when `shell` sets nothing)."""
    env = {k: interpolated(str(v), shell or {}) for k, v in service["environment"].items()}
    return Settings.from_env(env)


def test_the_apps_set_only_variables_the_code_reads(compose):
    for name in ("app", "app-vllm"):
        env = compose["services"][name]["environment"]
        assert set(env) - SETTINGS_ENV - CHAT_ONLY_ENV == set(), name
        assert env["SPEC_AGENT_INDEX"].startswith("/data/")
        assert compose["services"][name]["volumes"][0].endswith(":/data")


def test_the_ollama_app_talks_to_the_ollama_service_which_pulls_its_models(compose):
    services = compose["services"]
    settings = settings_of(services["app"])
    host = urlparse(settings.ollama_host)
    assert (backend(settings), host.hostname, host.port) == ("ollama", "ollama", 11434)
    assert host.hostname in services and services["ollama"]["image"].startswith("ollama/ollama")

    pull = services["ollama-pull"]
    script = pull["entrypoint"][-1]
    pulled = {m.group(1) for m in re.finditer(r"ollama pull (\S+)", script)}
    assert pulled == {"llama3.1:8b", "nomic-embed-text"}
    assert pulled == {settings.chat_model, settings.embedder.removeprefix("ollama:")}
    assert urlparse(pull["environment"]["OLLAMA_HOST"]).hostname == "ollama" and pull["restart"] == "no"
    assert services["app"]["depends_on"]["ollama-pull"] == {"condition": "service_completed_successfully"}
    assert pull["depends_on"]["ollama"] == {"condition": "service_healthy"}
    assert "healthcheck" in services["ollama"]


def test_the_vllm_profile_serves_the_apps_model_with_tools_on_a_gpu(compose):
    services = compose["services"]
    vllm, app = services["vllm"], services["app-vllm"]
    assert vllm["profiles"] == ["vllm"] and app["profiles"] == ["vllm"]
    assert vllm["image"].startswith("vllm/vllm-openai")
    args = [str(a) for a in vllm["command"]]
    flag = {a: args[i + 1] for i, a in enumerate(args[:-1]) if a.startswith("--")}
    assert "--enable-auto-tool-choice" in args and flag["--tool-call-parser"] == "llama3_json"
    assert flag["--model"] == "meta-llama/Llama-3.1-8B-Instruct"
    (device,) = vllm["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]

    settings = settings_of(app)
    url = urlparse(settings.openai_base_url)
    assert backend(settings) == "openai"
    assert (url.hostname, url.port, url.path) == ("vllm", int(flag["--port"]), "/v1")
    assert settings.chat_model == flag["--model"]
    assert settings.num_ctx == int(flag["--max-model-len"])
    assert app["depends_on"]["vllm"] == {"condition": "service_healthy"}
    assert app["volumes"][0].split(":")[0] != services["app"]["volumes"][0].split(":")[0]  # its own index


def test_model_servers_publish_no_port_and_the_chat_only_loopback_by_default(compose):
    services = compose["services"]
    for name in ("ollama", "vllm", "ollama-pull"):
        assert "ports" not in services[name], name
    for name in ("app", "app-vllm"):
        (port,) = services[name]["ports"]
        bind, _, container_port = port.rsplit(":", 2)
        assert bind == "${SPEC_AGENT_BIND:-127.0.0.1}" and container_port == "8000", port


def test_the_concurrency_setting_reaches_the_app_and_ollama_takes_as_many(compose):
    services = compose["services"]
    assert [settings_of(services[n]).llm_concurrency for n in ("app", "app-vllm")] == [2, 8]
    shell = {"SPEC_AGENT_LLM_CONCURRENCY": "4"}
    assert [settings_of(services[n], shell).llm_concurrency for n in ("app", "app-vllm")] == [4, 4]
    assert interpolated(services["ollama"]["environment"]["OLLAMA_NUM_PARALLEL"], shell) == "4"


def test_the_image_is_slim_runs_as_a_user_and_keeps_the_index_on_its_volume(dockerfile):
    steps = dict(dockerfile[:1])
    assert steps["FROM"] == "python:3.11-slim"
    users = [args for op, args in dockerfile if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, (op, _) in enumerate(dockerfile) if op == "USER")
    assert all(op != "RUN" for op, _ in dockerfile[last_user:])  # nothing runs as root after it
    assert ("VOLUME", '["/data"]') in dockerfile
    env = " ".join(args for op, args in dockerfile if op == "ENV")
    index = re.search(r"SPEC_AGENT_INDEX=(\S+)", env)
    assert index and index.group(1).startswith("/data/")
    chown = re.search(r"chown -R spec-agent:spec-agent ([^&]+)", " ".join(a for op, a in dockerfile if op == "RUN"))
    # the user writes the index, and Chainlit writes its translations and .files into its app root
    assert chown and set(chown.group(1).split()) == {"/data", "/app/.files", "/app/.chainlit"}


def test_the_image_installs_as_ci_does_without_torch(dockerfile):
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    run = " && ".join(args for op, args in dockerfile if op == "RUN")
    assert re.search(r"uv venv -q --seed --python 3.11 \.venv", ci) and "uv venv -q --python 3.11 /opt/venv" in run
    assert re.search(r'uv pip install -q -e "\.\[dev,finetune\]"', ci)
    installs = [shlex.split(part) for part in run.split("&&") if "uv pip install" in part]
    assert installs == [["uv", "pip", "install", "-q", "--no-cache", "-e", "."]]  # no extras: no torch
    assert "torch" not in run


def test_the_image_carries_what_the_chat_reads_and_nothing_ignored_blocks_it(dockerfile):
    copied = {source for op, args in dockerfile if op == "COPY" for source in shlex.split(args)[:-1]}
    for needed in ("pyproject.toml", "README.md", "chainlit.md", "agent", "ui", "prompts", "public",
                   ".chainlit/config.toml"):
        assert needed in copied, needed
        assert (ROOT / needed).exists(), needed
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for needed in copied:
        assert not any(fnmatch.fnmatch(needed, pattern) for pattern in ignored), needed
    assert {".git", ".venv", ".spec-agent", "tests"} <= set(ignored)


def test_health_is_spec_agent_doctor_and_only_the_container_binds_every_interface(dockerfile):
    health = next(args for op, args in dockerfile if op == "HEALTHCHECK")
    assert health.endswith('CMD ["spec-agent", "doctor", "--json"]')
    (cmd,) = [args for op, args in dockerfile if op == "CMD"]
    assert yaml.safe_load(cmd) == ["spec-agent", "ui", "--host", "0.0.0.0", "--port", "8000", "--headless"]
    assert inspect.signature(ui).parameters["host"].default.default == "127.0.0.1"  # `spec-agent ui` alone
