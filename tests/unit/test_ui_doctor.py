"""What the chat says about the server it runs on: `/doctor` (the same checks as `spec-agent
doctor`, as a table, with the verdict and the model's queue) and the opening line's model server."""

from __future__ import annotations

import pytest
from conftest import copy_index

from agent.config import Settings
from agent.doctor import Check, run_checks
from agent.graph.model_queue import gate_for
from agent.service import Assistant
from ui import commands, conversation, render


class Chat:
    user, thread_id, scope = "ada", "thread-doctor", []

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, content, *, elements=(), actions=(), metadata=None):
        self.sent.append(content)


def test_the_checks_render_as_a_table_with_the_verdict_and_the_queue():
    checks = [Check("backend", "ok", "Ollama 0.6.8 at http://gpu:11434"),
              Check("model", "fail", "Ollama has no model llama3.1:8b", "run `ollama pull llama3.1:8b`"),
              Check("index", "warn", "no index at /data/index yet", "run `spec-agent ingest FILES`")]
    assert render.doctor_markdown(checks, {"limit": 2, "running": 2, "waiting": 5}) == "**spec-agent doctor** (the same checks as `spec-agent doctor` on this server)\n\n|  | check | found | what to do |\n|---|---|---|---|\n| ✅ ok | backend | Ollama 0.6.8 at http://gpu:11434 |  |\n| ❌ fail | model | Ollama has no model llama3.1:8b | run `ollama pull llama3.1:8b` |\n| ⚠️ warn | index | no index at /data/index yet | run `spec-agent ingest FILES` |\n\n**Something to fix**: model.\n\nModel queue: 2 request(s) at a time (SPEC_AGENT_LLM_CONCURRENCY); 2 being answered, 5 waiting now."


async def test_slash_doctor_shows_this_servers_checks(sample_index_master, tmp_path):
    index = copy_index(sample_index_master, tmp_path / "index")
    settings = Settings(index_dir=index, embedder="lsa", offline=True, chat_model="doctor-test", llm_concurrency=3)
    assistant = Assistant.open(settings)
    chat = Chat()
    with gate_for(settings).slot():  # one answer being written now
        await commands.run_command(assistant, chat, "/doctor")
    (shown,) = chat.sent
    expected = render.doctor_markdown(run_checks(settings), {"limit": 3, "running": 1, "waiting": 0})
    assert shown == expected
    assert "| ✅ ok | backend | offline mode (SPEC_AGENT_OFFLINE)" in shown
    assert "| ✅ ok | index | gen-" in shown and "1 documents" in shown
    assert "**Nothing to fix**" in shown and "3 request(s) at a time" in shown and "1 being answered" in shown
    assert "`/doctor`" in commands.HELP


@pytest.mark.parametrize(("settings", "where"), [
    (Settings(), "Ollama, on this machine"),
    (Settings(ollama_host="http://gpu-box:11434"), "Ollama at http://gpu-box:11434"),
    (Settings(llm="openai", openai_base_url="http://vllm:8000/v1"), "the OpenAI-compatible server at http://vllm:8000/v1"),
])
def test_the_opening_line_names_the_shared_model_server(settings, where):
    from types import SimpleNamespace

    assistant = SimpleNamespace(mode="llm", model_name="llama3.1:8b", settings=settings)
    assert conversation.mode_line(assistant) == (f"Answers are written by **llama3.1:8b** ({where}) and checked "
                                                 "against the clauses they cite.")
