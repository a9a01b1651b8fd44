"""agent.llm with SPEC_AGENT_LLM=openai, without a network: the backend setting is checked, the
ChatOpenAI built has the settings' server, model, key (a dummy when unset), timeouts and no
retries, and describe_failure words the OpenAI client's errors like Ollama's."""

from __future__ import annotations

import httpx
import openai
import pytest

from agent import llm
from agent.config import Settings

BASE = "http://gpu-server:8000/v1"
SETTINGS = Settings(llm="openai", openai_base_url=BASE + "/", chat_model="meta-llama/Llama-3.1-8B-Instruct")
SERVER = f"the OpenAI-compatible server at {BASE}"


def test_settings_read_the_openai_sdks_own_variables():
    env = {"SPEC_AGENT_LLM": "openai", "OPENAI_BASE_URL": BASE, "OPENAI_API_KEY": "sk-local", "SPEC_AGENT_MODEL": "m"}
    settings = Settings.from_env(env)
    assert (settings.llm, settings.openai_base_url, settings.openai_api_key, settings.chat_model) == (
        "openai", BASE, "sk-local", "m")
    assert "sk-local" not in repr(settings)
    assert Settings.from_env({}).llm == "ollama"


@pytest.mark.parametrize("call", [llm.probe_ollama, llm.reprobe, lambda s: llm.make_chat_model(s, llm.OllamaStatus(True))])
def test_an_unknown_backend_names_the_allowed_ones(call):
    with pytest.raises(ValueError, match=r"unknown SPEC_AGENT_LLM 'vllm'; allowed: ollama, openai"):
        call(Settings(llm="vllm"))


def test_make_chat_model_builds_chat_openai():
    model = llm.make_chat_model(SETTINGS, llm.OllamaStatus(True, capabilities=["completion", "tools"]))
    assert type(model).__name__ == "ChatOpenAI"
    assert (model.openai_api_base, model.model_name, model.temperature, model.max_retries) == (
        BASE, "meta-llama/Llama-3.1-8B-Instruct", 0.0, 0)
    assert model.openai_api_key.get_secret_value() == llm.OPENAI_DUMMY_KEY
    assert (model.request_timeout.read, model.request_timeout.connect) == (llm.CHAT_READ_TIMEOUT_S, 2.0)
    keyed = llm.make_chat_model(SETTINGS.with_(openai_api_key="sk-1"), llm.OllamaStatus(True))
    assert keyed.openai_api_key.get_secret_value() == "sk-1"


def test_make_chat_model_refuses_when_the_probe_said_no():
    with pytest.raises(llm.OllamaUnavailable, match=f"{SERVER} is not available"):
        llm.make_chat_model(SETTINGS, llm.OllamaStatus(False))


def test_probe_without_a_base_url_or_offline_never_calls():
    assert "needs OPENAI_BASE_URL" in (llm.probe_ollama(Settings(llm="openai")).error or "")
    status = llm.probe_ollama(SETTINGS.with_(offline=True))
    assert not status.available and "offline mode" in (status.error or "")


def _request() -> httpx.Request:
    return httpx.Request("POST", BASE + "/chat/completions")


def test_describe_failure_of_the_openai_client():
    response = httpx.Response(500, request=_request())
    status = openai.InternalServerError("Error code: 500", response=response,
                                        body={"message": "CUDA out of memory", "type": "InternalServerError"})
    assert llm.describe_failure(SETTINGS, status) == f"HTTP 500 from {SERVER}: CUDA out of memory"
    nested = openai.BadRequestError("Error code: 400", response=httpx.Response(400, request=_request()),
                                    body={"error": {"message": "context too long"}})
    assert llm.describe_failure(SETTINGS, nested) == f"HTTP 400 from {SERVER}: context too long"
    assert llm.describe_failure(SETTINGS, openai.APITimeoutError(request=_request())) == (
        f"no reply from {SERVER} within {llm.CHAT_READ_TIMEOUT_S:g} s")
    refused = openai.APIConnectionError(request=_request())
    refused.__cause__ = httpx.ConnectError("refused")
    assert llm.describe_failure(SETTINGS, refused) == f"{SERVER} refused the connection (not running?)"
    dropped = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    assert llm.describe_failure(SETTINGS, dropped) == f"{SERVER} closed the connection mid-answer"


def test_the_cli_prints_an_unknown_backend_as_one_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from agent.cli import _register_commands, app

    if not any(c.name == "ask" for c in app.registered_commands):
        _register_commands()
    monkeypatch.setenv("SPEC_AGENT_LLM", "vllm")
    monkeypatch.setenv("SPEC_AGENT_EMBEDDER", "lsa")
    done = CliRunner().invoke(app, ["--index", str(tmp_path / "index"), "ask", "which test?"])
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert done.stderr == "error: unknown SPEC_AGENT_LLM 'vllm'; allowed: ollama, openai; set it to one of them.\n"


def test_a_model_server_that_is_down_is_named_in_the_offline_note(tmp_path):
    from agent.service import Assistant

    settings = Settings(index_dir=tmp_path, embedder="lsa", llm="openai", openai_base_url="http://127.0.0.1:9/v1",
                        chat_model="llama-3.1-8b")
    note = Assistant.open(settings).status_note
    assert note.startswith("The model server at http://127.0.0.1:9/v1 is not answering (")
    assert note.endswith("Start it, or check OPENAI_BASE_URL and that it serves llama-3.1-8b.")
    assert "ollama" not in note.lower()
