"""agent.doctor's checks without any server (offline settings): what they say about an index
folder never written, a damaged CURRENT, and databases; nothing is created by looking."""

from __future__ import annotations

import sqlite3

from agent.config import Settings
from agent.doctor import Check, check_database, failed, run_checks


def offline(tmp_path, **changes) -> Settings:
    return Settings(index_dir=tmp_path / "idx", embedder="lsa", offline=True, **changes)


def test_never_written_index_warns_and_creates_nothing(tmp_path):
    checks = run_checks(offline(tmp_path))
    assert [(c.name, c.status) for c in checks] == [
        ("backend", "ok"), ("model", "ok"), ("tools", "ok"), ("num_ctx", "ok"), ("embedder", "ok"),
        ("index", "warn"), ("chat.db", "ok"), ("threads.db", "ok"), ("feedback.db", "ok")]
    assert checks[1].detail == "llama3.1:8b: not checked (offline mode)"
    assert checks[5] == Check("index", "warn", f"no index at {tmp_path / 'idx'} yet",
                              "run `spec-agent ingest FILES` (PDF/DOCX files or folders)")
    assert not failed(checks) and not (tmp_path / "idx").exists()


def test_damaged_current_fails(tmp_path):
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "CURRENT").write_text("garbage\n", encoding="utf-8")
    index = {c.name: c for c in run_checks(offline(tmp_path))}["index"]
    assert index.status == "fail" and "CURRENT: damaged ('garbage')" in index.detail


def test_tiny_context_fails_with_a_rounded_suggestion(tmp_path):
    check = {c.name: c for c in run_checks(offline(tmp_path, num_ctx=1024))}["num_ctx"]
    assert check.status == "fail" and check.detail.endswith("; no evidence fits")
    assert check.advice.startswith("set SPEC_AGENT_NUM_CTX=") and int(check.advice.split("=")[1].split()[0]) % 1024 == 0


def test_database_quick_check(tmp_path):
    good = tmp_path / "chat.db"
    with sqlite3.connect(good) as con:
        con.execute("CREATE TABLE t (x)")
    assert check_database(good) == Check("chat.db", "ok", f"{good} passes quick_check")
    bad = tmp_path / "threads.db"
    bad.write_bytes(b"\0garbage" * 600)
    result = check_database(bad)
    assert (result.status, result.detail) == ("fail", f"{bad} is damaged: file is not a database")
    assert result.advice == (f"restore it from a backup, or move it aside (`mv {bad} {bad}.broken`): "
                             "spec-agent makes an empty one")
