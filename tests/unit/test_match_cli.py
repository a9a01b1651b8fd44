"""The `classify`, `eval match` and `keywords` commands: the JSON-lines contract and error lines."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from agent.commands.match import eval_app, register

LINES = [
    {"id": "c1", "heading": "5.2 RF-immunity to interference - Bulk current injection (BCI)", "text": ""},
    {"id": "c2", "heading": "1 Scope", "text": "This specification applies to components."},
    {"id": "c3", "heading": "Electrostatic Discharge"},
]


@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEC_AGENT_LABELS", str(tmp_path))  # no labelled examples: rules + descriptions only
    monkeypatch.delenv("SPEC_AGENT_CATALOGUE", raising=False)
    cli = typer.Typer()

    @cli.callback()
    def _root() -> None:
        pass

    register(cli)
    return cli


def test_classify_writes_one_line_per_input_in_order(app):
    stdin = "".join(json.dumps(line) + "\n" for line in LINES)
    result = CliRunner().invoke(app, ["classify"], input=stdin)
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["c1", "c2", "c3"]
    assert all(list(o) == ["id", "tests", "abstain"] for o in out)
    assert list(out[0]["tests"][0]) == ["id", "name", "score", "evidence"]
    assert [t["id"] for t in out[0]["tests"]] == [6]
    assert out[0]["tests"][0]["name"] == "Bulk Current Injection: Immunity"
    assert out[0]["tests"][0]["evidence"][:2] == ["alias: BCI", "keyword: 'bulk current injection'"]
    assert out[1] == {"id": "c2", "tests": [], "abstain": True}
    assert sorted(t["id"] for t in out[2]["tests"]) == [13, 14]
    assert out[2]["abstain"] is False


def test_classify_bad_line_names_the_line_without_traceback(app):
    stdin = json.dumps(LINES[0]) + "\n" + "{not json\n"
    result = CliRunner().invoke(app, ["classify"], input=stdin)
    assert result.exit_code == 1
    assert result.stderr == "error: stdin line 2: invalid JSON (Expecting property name enclosed in double quotes at column 2)\n"
    assert "Traceback" not in result.output


def test_classify_line_without_heading_is_an_error(app):
    result = CliRunner().invoke(app, ["classify"], input='{"id": "x"}\n')
    assert result.exit_code == 1
    assert result.stderr == 'error: stdin line 1: expected an object with "id" and "heading" (and optional "text")\n'


def test_eval_is_a_sub_app_others_can_extend():
    assert isinstance(eval_app, typer.Typer)
    assert [c.name for c in eval_app.registered_commands] [:1] == ["match"]


def test_eval_match_on_a_records_file(app, tmp_path):
    records = tmp_path / "records.jsonl"
    records.write_text(
        "\n".join(json.dumps(r) for r in [
            {"id": "1", "heading": "Bulk current injection", "text": "", "tests": [6]},
            {"id": "2", "heading": "Scope", "text": "", "tests": []},
            {"id": "3", "heading": "Radiated emissions", "text": "", "tests": [7]},
        ]) + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["eval", "match", str(records), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["matcher (records)"]
    assert figures == {"top1": 0.5, "top3": 0.5, "abstain_precision": 1.0, "abstain_recall": 1.0}


def test_keywords_command_prints_score_and_keyword(app):
    result = CliRunner().invoke(app, ["keywords", "-n", "3", "The DUT shall pass bulk current injection per ISO 11452-4. Bulk current injection levels."])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split("\t")[1] for line in lines] == [
        "bulk current injection", "pass bulk current", "injection per ISO 11452-4"
    ]
    assert lines[0] == "0.0391\tbulk current injection"


def test_keywords_needs_text_or_clause(app):
    result = CliRunner().invoke(app, ["keywords"])
    assert result.exit_code == 1
    assert result.stderr == "error: give either TEXT or --clause REF (with --doc NAME when several documents have it)\n"


def test_classify_doc_prints_the_matrix_and_writes_csv(app, monkeypatch, tmp_path):
    import sys
    import types

    from agent.schema import Clause

    clauses = [
        Clause("5.12", "CS114, conducted susceptibility, bulk cable injection", ""),
        Clause("5.12.3", "Procedures", "", parents=("5.12",)),
        Clause("1", "Scope", ""),
    ]

    class FakeIndex:
        @classmethod
        def open(cls, settings):
            return cls()

        def clauses(self, doc):
            assert doc == "MIL-STD-461G"
            return clauses

    monkeypatch.setitem(sys.modules, "agent.index", types.SimpleNamespace(SpecIndex=FakeIndex))
    out = tmp_path / "matrix.csv"
    result = CliRunner().invoke(app, ["classify", "--doc", "MIL-STD-461G", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "clause,title,test_ids,tests,scores,abstain"
    assert [r.split(",")[0] for r in rows[1:]] == ["5.12", "5.12.3", "1"]
    assert [r.split(",")[-1] for r in rows[1:]] == ["false", "false", "true"]
    assert rows[2] == "5.12.3,Procedures,6,6 Bulk Current Injection: Immunity,0.84,false"
