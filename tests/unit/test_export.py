"""Export of feedback as training data (labels, SFT, DPO) and the `export` command."""

from __future__ import annotations

import json

import pytest
import typer
from conftest import shared_path
from typer.testing import CliRunner

from agent import cli, prompts
from agent.commands import learn
from agent.config import Settings
from agent.feedback.export import (
    DEFAULT_SYSTEM,
    export,
    read_seed_labels,
    render_user,
    system_prompt,
)
from agent.feedback.store import FeedbackStore

SYS = "SYSTEM"
EV = [{"n": 1, "doc": "Byton", "clause": "6.2", "title": "Current Probe Method", "page": 14,
       "table": None, "text": "Measure with the current probe."},
      {"n": 2, "doc": "Byton", "clause": "6.1", "title": "Voltage Method", "page": 13,
       "table": "Table 3", "text": "Limits"}]
Q = "Which test does clause 6.2 require?"
USER = render_user(Q, EV)


@pytest.fixture
def store(tmp_path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.db")


def _load(path, tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets (dev extra) is not installed")
    return datasets.load_dataset("json", data_files=str(path), cache_dir=str(tmp_path / "hf"))["train"]


def test_render_user_is_the_agents_answer_prompt():
    assert USER == prompts.render("answer", question=Q, evidence=(
        "[1] Byton §6.2 (Current Probe Method), p. 14: Measure with the current probe.\n"
        "[2] Byton §6.1 (Voltage Method), p. 13, Table 3: Limits"))
    hit = {"doc": "D", "clause": None, "title": None, "page": None, "table": None, "text": "t",
           "score": 0.5, "chunk_id": "c"}  # a Hit has no n: numbered by position
    assert "[1] D: t" in render_user("q", [hit])


def test_system_prompt_is_rendered_with_documents(monkeypatch):
    text = system_prompt("MIL-STD-461G, Byton")
    assert text == prompts.render("system", documents="MIL-STD-461G, Byton").strip()
    assert "Documents loaded: MIL-STD-461G, Byton" in text

    def broken(name, **slots):
        raise ValueError("prompt 'system' needs slot(s) ['today']")

    monkeypatch.setattr(prompts, "render", broken)
    assert system_prompt() == DEFAULT_SYSTEM


def test_seed_label_reader(tmp_path):
    (tmp_path / "x_section_answer.txt").write_bytes(
        b"\xef\xbb\xbfDRM_OFF/x.pdf\r\npdf\r\n1\r\n9\r\n6.1 Voltage Method\r\n0\r\n"
        b"Scope\r\n\r\n7 Immunity\r\n6 7\r\nLast heading\r\n")
    assert read_seed_labels(tmp_path) == [
        {"heading": "6.1 Voltage Method", "text": "", "tests": [0]},
        {"heading": "Scope", "text": "", "tests": []},
        {"heading": "7 Immunity", "text": "", "tests": [6, 7]},
        {"heading": "Last heading", "text": "", "tests": []},
    ]


def test_seed_labels_of_the_prototype():
    records = read_seed_labels(shared_path("seed", "labels"))
    assert (len(records), sum(bool(r["tests"]) for r in records)) == (192, 123)
    assert records[0] == {"heading": "6 Conducted Emissions", "text": "", "tests": []}
    assert records[1] == {"heading": "6.1 Voltage Method", "text": "", "tests": [0]}


def test_labels_export(store, tmp_path):
    store.add_correction("6.2 Current Probe Method", [1], text="probe", user="alice")
    store.remove_correction(store.add_correction("Scope", [2], user="bob").id)
    store.add_correction("Appendix A", [], user="bob")
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "a_section_answer.txt").write_text("doc\npdf\n1\n2\n7.2 BCI\n6\n", encoding="utf-8")
    out = tmp_path / "labels.jsonl"
    assert export("labels", store, out, labels_dir=seed, with_seed=True) == 3
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"heading": "7.2 BCI", "text": "", "tests": [6]},
        {"heading": "6.2 Current Probe Method", "text": "probe", "tests": [1]},
        {"heading": "Appendix A", "text": "", "tests": []},
    ]
    assert export("labels", store, out, labels_dir=seed) == 2  # no seed without --with-seed
    ds = _load(out, tmp_path)
    assert ds.column_names == ["heading", "text", "tests"]


def _feedback_log(store: FeedbackStore) -> dict[str, int]:
    """One answer of each kind the exporters distinguish."""
    ids = {
        "up": store.log_answer(Q, "Clause 6.2 requires CE current method [1].", evidence=EV,
                               citations=EV[:1]),
        "down_marked": store.log_answer("What bandwidth for CE?", "9 kHz [2].", evidence=EV[1:]),
        "down_corrected": store.log_answer(Q, "Clause 6.2 requires voltage method [2].", evidence=EV,
                                           citations=EV[1:]),
        "down_remark": store.log_answer("Is RS103 needed?", "No.", evidence=[]),
        "mixed": store.log_answer("ESD levels?", "8 kV", evidence=[]),
    }
    store.add_feedback(ids["up"], 1, "", "alice")
    store.add_feedback(ids["down_marked"], -1, "Should be: 200 Hz below 150 kHz [2].", "bob")
    store.add_feedback(ids["down_corrected"], -1, "no", "bob")
    store.add_feedback(ids["down_remark"], -1, "wrong edition", "bob")
    store.add_feedback(ids["mixed"], 1, "", "alice")
    store.add_feedback(ids["mixed"], -1, "", "bob")
    store.add_correction("6.2 Current Probe Method", [1], doc="Byton", clause="6.2", user="alice")
    store.add_correction("6.3 Transients", [5], doc="Byton", clause="6.3", user="alice")  # not asked
    return ids


def _msgs(user: str, reply: str) -> list[dict]:
    return [{"role": "system", "content": SYS}, {"role": "user", "content": user},
            {"role": "assistant", "content": reply}]


CORRECTED = "Clause 6.2 of Byton (6.2 Current Probe Method) requires Conducted Emission - Current Method (test 1)."
MARKED_USER = render_user("What bandwidth for CE?", EV[1:])


def test_sft_export(store, tmp_path):
    _feedback_log(store)
    out = tmp_path / "sft.jsonl"
    assert export("sft", store, out, system=SYS) == 3
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records == [
        {"messages": _msgs(USER, "Clause 6.2 requires CE current method [1].")},
        {"messages": _msgs(MARKED_USER, "200 Hz below 150 kHz [2].")},
        {"messages": _msgs(USER, CORRECTED)},
    ]
    ds = _load(out, tmp_path)
    assert ds.column_names == ["messages"]
    assert ds[2]["messages"] == records[2]["messages"]


def test_default_system_prompt_names_the_evidence_documents(store, tmp_path):
    _feedback_log(store)
    out = tmp_path / "sft.jsonl"
    export("sft", store, out)
    first = json.loads(out.read_text().splitlines()[0])
    assert first["messages"][0] == {"role": "system", "content": system_prompt("Byton")}


def test_dpo_export_in_trl_conversational_format(store, tmp_path):
    _feedback_log(store)
    out = tmp_path / "dpo.jsonl"
    assert export("dpo", store, out, system=SYS) == 3
    records = [json.loads(line) for line in out.read_text().splitlines()]
    prompt = _msgs(USER, "")[:2]
    assistant = lambda text: [{"role": "assistant", "content": text}]
    assert records == [
        {"prompt": _msgs(MARKED_USER, "")[:2], "chosen": assistant("200 Hz below 150 kHz [2]."),
         "rejected": assistant("9 kHz [2].")},
        {"prompt": prompt, "chosen": assistant(CORRECTED),
         "rejected": assistant("Clause 6.2 requires voltage method [2].")},
        {"prompt": prompt, "chosen": assistant("Clause 6.2 requires CE current method [1]."),
         "rejected": assistant("Clause 6.2 requires voltage method [2].")},
    ]
    ds = _load(out, tmp_path)
    assert ds.column_names == ["prompt", "chosen", "rejected"]
    # TRL's conversational check: lists of {"role", "content"}; the finetune test trains on it
    for row in ds:
        assert [m["role"] for m in row["prompt"]] == ["system", "user"]
        assert [m["role"] for m in row["chosen"]] == [m["role"] for m in row["rejected"]] == ["assistant"]


def test_removed_correction_no_longer_corrects(store, tmp_path):
    _feedback_log(store)
    store.remove_correction(1)
    assert export("sft", store, tmp_path / "s.jsonl", system=SYS) == 2
    assert export("dpo", store, tmp_path / "d.jsonl", system=SYS) == 2


def test_correction_for_another_document_does_not_apply(store, tmp_path):
    aid = store.log_answer(Q, "x", evidence=EV)
    store.add_feedback(aid, -1, "", "bob")
    store.add_correction("6.2 Current Probe Method", [1], doc="Ford", clause="6.2", user="alice")
    assert export("sft", store, tmp_path / "s.jsonl", system=SYS) == 0


def test_export_refuses_unknown_kind_and_seed_for_sft(store, tmp_path):
    with pytest.raises(ValueError, match="unknown export kind 'kto'; allowed: labels, sft, dpo"):
        export("kto", store, tmp_path / "x.jsonl")
    with pytest.raises(Exception, match="export sft: --with-seed applies to labels only"):
        export("sft", store, tmp_path / "x.jsonl", with_seed=True)
    assert not (tmp_path / "x.jsonl").exists()


def test_export_command(tmp_path, monkeypatch):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "a_section_answer.txt").write_text("doc\npdf\n1\n2\n7.2 BCI\n6\n", encoding="utf-8")
    monkeypatch.setenv("SPEC_AGENT_LABELS", str(seed))
    FeedbackStore.open(Settings.from_env({}, index_dir=tmp_path / "idx")).add_correction(
        "Scope", [], user="alice")
    app = typer.Typer()
    app.callback()(cli._global)
    learn.register(app)
    runner = CliRunner()
    out = tmp_path / "labels.jsonl"
    base = ["--index", str(tmp_path / "idx"), "export"]
    result = runner.invoke(app, [*base, "labels", "--out", str(out), "--with-seed"])
    assert (result.exit_code, result.stdout) == (0, f"wrote 2 labels record(s) to {out}\n")
    assert out.read_text() == ('{"heading": "7.2 BCI", "text": "", "tests": [6]}\n'
                               '{"heading": "Scope", "text": "", "tests": []}\n')
    bad = runner.invoke(app, [*base, "kto", "--out", str(out)])
    assert (bad.exit_code, bad.stderr) == (1, "error: unknown export kind 'kto'; allowed: labels, sft, dpo\n")
