"""CLI `ingest`, `docs`, `show`, `search`: output lines, JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from test_index_helpers import json_parser, mil_doc, open_index, write_doc
from typer.testing import CliRunner

import agent.commands.ingest as commands
from agent.cli import _register_commands, app
from agent.index import SpecIndex

if not any(c.name == "docs" for c in app.registered_commands):
    _register_commands()


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEC_AGENT_EMBEDDER", "lsa")
    monkeypatch.setattr(commands, "open_index",
                        lambda settings, reindex=False: SpecIndex.open(settings, parser=json_parser, reindex=reindex))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--index", str(tmp_path / "idx"), *args])

    return invoke


@pytest.fixture
def indexed(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc("MIL-STD-461F", rs103="5.20")),
                  write_doc(tmp_path / "in", mil_doc("MIL-STD-461G", rs103="5.21"))])
    return index


def test_ingest_prints_one_line_per_file_and_exits_1_when_one_failed(cli, tmp_path):
    good = write_doc(tmp_path / "in", mil_doc())
    bad = tmp_path / "in" / "broken.bad"
    bad.write_bytes(b"x")
    result = cli("ingest", str(good), str(bad))
    assert result.exit_code == 1
    assert result.stdout == "added      MIL-STD-461G  (300 pages, 5 clauses, 2 tables)\n"
    assert result.stderr == "failed     broken.bad: corrupt or truncated file; download or export it again.\n"
    again = cli("ingest", str(good))
    assert (again.exit_code, again.stdout) == (0, "unchanged  MIL-STD-461G  (300 pages, 5 clauses, 2 tables)\n")


def test_ingest_without_paths_is_a_one_line_error(cli):
    result = cli("ingest")
    assert (result.exit_code, result.stderr) == (1, "give PDF/DOCX files or folders to ingest (or --reindex)\n")


def test_docs_json(cli, indexed):
    result = cli("docs", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(r["doc"], r["pages"], r["clauses"], r["tables"], len(r["sha256"])) for r in rows] == [
        ("MIL-STD-461F", 300, 5, 2, 64), ("MIL-STD-461G", 300, 5, 2, 64)]
    assert sorted(rows[0]) == ["clauses", "doc", "pages", "sha256", "tables"]


def test_show_clause_json(cli, indexed):
    result = cli("show", "5.12.3", "--doc", "MIL-STD-461G", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "doc": "MIL-STD-461G", "clause": "5.12.3", "title": "CS114 test procedures", "page": 62,
        "page_label": None, "text": "Calibrate the injection probe in the fixture. ",
        "parents": [{"clause": "5", "title": "DETAILED REQUIREMENTS"},
                    {"clause": "5.12", "title": "CS114, Conducted susceptibility, bulk cable injection"}],
        "children": [],
        "tables": [{"id": "TABLE VIII", "caption": "ESD test levels", "clause": "5.12.3", "page": 63,
                    "header": [["Level", "Voltage"]], "rows": [["1", "2 kV"], ["2", "4 kV | air"]]}],
    }


def test_show_table_json(cli, indexed):
    result = cli("show", "table 7-1", "--doc", "MIL-STD-461F", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"doc": "MIL-STD-461F", "table": {
        "id": "Table 7-1", "caption": "RS103 limits", "clause": "5.20", "page": 161,
        "header": [["Platform", "Army"], ["", "V/m"]], "rows": [["Aircraft", "200"], ["Ships", "10"]]}}


def test_show_text_names_the_other_edition(cli, indexed):
    result = cli("show", "5.12")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "MIL-STD-461F 5.12 CS114, Conducted susceptibility, bulk cable injection  (page 60)"
    assert result.stdout.splitlines()[-1] == "(also in MIL-STD-461G; use --doc)"


def test_show_missing_is_one_line_on_stderr(cli, indexed):
    result = cli("show", "9.9", "--doc", "MIL-STD-461G")
    assert result.exit_code == 1
    assert result.stderr == ('clause 9.9 is not in document MIL-STD-461G; documents: MIL-STD-461F, '
                             'MIL-STD-461G. Try `spec-agent search "9.9"`.\n')
    assert result.stdout == ""


def test_search_json(cli, indexed):
    result = cli("search", "table VIII", "--k", "2", "--doc", "MIL-STD-461G", "--json")
    assert result.exit_code == 0
    hits = json.loads(result.stdout)
    assert [sorted(h) for h in hits] == [["clause", "doc", "page", "score", "table", "text", "title"]] * 2
    assert {k: hits[0][k] for k in ("doc", "clause", "title", "page", "table", "score")} == {
        "doc": "MIL-STD-461G", "clause": "5.12.3", "title": "ESD test levels", "page": 63,
        "table": "TABLE VIII", "score": 1.0}


def test_search_with_another_embedder_is_a_one_line_error(cli, indexed, monkeypatch):
    monkeypatch.setenv("SPEC_AGENT_EMBEDDER", "ollama:nomic-embed-text")
    result = cli("search", "bulk cable injection")
    assert result.exit_code == 1
    assert result.stderr == (
        "index built with lsa, settings ask for ollama:nomic-embed-text; re-index with "
        "`spec-agent ingest --reindex --embedder ollama:nomic-embed-text` or set SPEC_AGENT_EMBEDDER=lsa\n")
