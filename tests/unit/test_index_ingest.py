"""Ingest outcomes: unchanged, replaced, editions side by side, failures, embedder choice."""

from __future__ import annotations

import pytest
from test_index_helpers import json_parser, lsa_settings, mil_doc, open_index, write_doc

from agent.config import Settings
from agent.errors import EmbedderMismatch
from agent.index import SpecIndex
from agent.index.lsa import LsaEmbeddings
from agent.llm import make_embeddings, resolve_embedder


def test_same_file_again_is_unchanged_and_writes_no_generation(tmp_path):
    path = write_doc(tmp_path / "in", mil_doc())
    index = open_index(tmp_path)
    assert [o.status for o in index.ingest([path])] == ["added"]
    again = open_index(tmp_path).ingest([path])
    assert [(o.status, o.doc, o.message, o.clauses) for o in again] == [
        ("unchanged", "MIL-STD-461G", "same file as indexed", 5)]
    assert (tmp_path / "idx" / "CURRENT").read_text() == "gen-000001\n"


def test_a_new_revision_replaces_the_old_one_in_place(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc()), write_doc(tmp_path / "in", mil_doc("Other"))])
    revised = write_doc(tmp_path / "rev", mil_doc(extra="Use the 2015 revision of the fixture."))
    outcomes = index.ingest([revised])
    assert [(o.status, o.doc) for o in outcomes] == [("replaced", "MIL-STD-461G")]
    assert [d.name for d in index.documents()] == ["MIL-STD-461G", "Other"]
    assert index.document("MIL-STD-461G").path == str(revised)
    assert "2015 revision" in index.get_clause("5.12.3", doc="MIL-STD-461G").clause.text
    texts = [c.text for c in index.chunks() if c.doc == "MIL-STD-461G" and c.clause == "5.12.3" and c.kind == "clause"]
    assert texts == [("5.12.3 CS114 test procedures\nCalibrate the injection probe in the fixture. "
                      "Use the 2015 revision of the fixture.")]
    assert len(index.chunks()) == 14


def test_two_editions_live_side_by_side(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc("MIL-STD-461F", rs103="5.20")),
                  write_doc(tmp_path / "in", mil_doc("MIL-STD-461G", rs103="5.21"))])
    assert index.get_clause("5.20", doc="MIL-STD-461F").clause.title.startswith("RS103")
    assert index.get_clause("5.21", doc="MIL-STD-461G").clause.title.startswith("RS103")
    view = index.get_clause("5.12")
    assert (view.doc, view.others) == ("MIL-STD-461F", ["MIL-STD-461G"])
    hits = index.search("RS103 radiated susceptibility", 4)
    assert {(h.doc, h.clause) for h in hits[:2]} == {("MIL-STD-461F", "5.20"), ("MIL-STD-461G", "5.21")}


def test_a_failed_file_is_reported_and_the_others_are_ingested(tmp_path):
    bad = tmp_path / "in" / "broken.bad"
    good = write_doc(tmp_path / "in", mil_doc())
    bad.write_bytes(b"%PDF-1.4 truncated")
    missing = tmp_path / "in" / "nope.pdf"
    outcomes = open_index(tmp_path).ingest([bad, good, missing])
    assert [(o.status, o.doc, o.message) for o in outcomes] == [
        ("failed", None, "broken.bad: corrupt or truncated file; download or export it again."),
        ("added", "MIL-STD-461G", ""),
        ("failed", None, "nope.pdf: file not found; check the file and try again."),
    ]
    assert [d.name for d in open_index(tmp_path).documents()] == ["MIL-STD-461G"]


def test_an_unexpected_parser_exception_becomes_a_failed_outcome(tmp_path):
    def explode(path, settings):
        raise KeyError("page")

    index = SpecIndex.open(lsa_settings(tmp_path), parser=explode)
    outcomes = index.ingest([write_doc(tmp_path / "in", mil_doc())])
    assert [(o.status, o.message) for o in outcomes] == [
        ("failed", "MIL-STD-461G.json: unexpected parser error (KeyError: 'page'); report it with the file if you can.")]
    assert index.generation == ""


def test_folders_are_searched_for_pdf_and_docx(tmp_path):
    from agent.index.spec_index import expand

    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.PDF", "a/b/y.docx", "a/notes.txt", "a/b/z.pdf"):
        (tmp_path / name).write_bytes(b"")
    assert expand([tmp_path / "a", tmp_path / "a" / "b" / "z.pdf"]) == [
        tmp_path / "a/b/y.docx", tmp_path / "a/b/z.pdf", tmp_path / "a/x.PDF"]


class WordEmbeddings(LsaEmbeddings):
    """A custom embedder: the lsa maths under another id, fitted on a fixed vocabulary."""

    embedder_id = "custom:words"

    def __init__(self):
        super().__init__()
        self.fit(["bulk cable injection", "radiated electric field", "esd levels table", "probe"])


def test_opening_with_another_embedder_says_how_to_reindex(tmp_path):
    open_index(tmp_path).ingest([write_doc(tmp_path / "in", mil_doc())])
    with pytest.raises(EmbedderMismatch) as err:
        SpecIndex.open(lsa_settings(tmp_path), WordEmbeddings())
    assert str(err.value) == (
        "index built with lsa, settings ask for custom:words; re-index with "
        "`spec-agent ingest --reindex --embedder custom:words` or set SPEC_AGENT_EMBEDDER=lsa")


def test_reindex_re_embeds_every_chunk_with_the_new_embedder(tmp_path):
    open_index(tmp_path).ingest([write_doc(tmp_path / "in", mil_doc())])
    index = SpecIndex.open(lsa_settings(tmp_path), WordEmbeddings(), reindex=True)
    assert index.ingest([], reindex=True) == []
    reopened = SpecIndex.open(lsa_settings(tmp_path), WordEmbeddings())
    assert (reopened._snap.embedder, reopened.dimension, len(reopened.chunks())) == ("custom:words", 3, 7)
    assert reopened.search("bulk cable injection", 1)[0].clause == "5.12"


def test_auto_keeps_the_recorded_embedder_and_falls_back_to_lsa_without_ollama(tmp_path, caplog):
    offline = Settings(index_dir=tmp_path, embedder="auto", offline=True, ollama_host="http://127.0.0.1:9")
    assert resolve_embedder(offline, recorded="lsa") == "lsa"
    assert resolve_embedder(offline.with_(embedder="ollama:nomic-embed-text"), recorded="lsa") == (
        "ollama:nomic-embed-text")
    with caplog.at_level("WARNING", logger="agent.llm"):
        assert make_embeddings(offline) == (None, "lsa")
    assert caplog.messages == ["no Ollama at http://127.0.0.1:9; using the built-in lsa embedder"]
    with pytest.raises(ValueError) as err:
        resolve_embedder(offline.with_(embedder="word2vec"))
    assert str(err.value) == ("unknown embedder 'word2vec'; allowed: auto, lsa, ollama:<model>, openai:<model>, "
                              "sentence-transformers:<name or path>")


def test_auto_on_an_ollama_index_with_ollama_down_searches_by_words_only(tmp_path):
    open_index(tmp_path).ingest([write_doc(tmp_path / "in", mil_doc())])
    manifest = next((tmp_path / "idx").glob("gen-*/manifest.json"))
    manifest.write_text(manifest.read_text().replace('"embedder": "lsa"', '"embedder": "ollama:nomic-embed-text"'))
    auto = Settings(index_dir=tmp_path / "idx", embedder="auto", offline=True, ollama_host="http://127.0.0.1:9")
    index = SpecIndex.open(auto, parser=json_parser)
    assert index.embedder_id == "ollama:nomic-embed-text"
    assert [h.clause for h in index.search("bulk cable injection", 2)] == ["5.12", "5.12.1"]
    with pytest.raises(Exception) as err:
        index.ingest([write_doc(tmp_path / "in", mil_doc("B"))])
    assert str(err.value) == (
        "the index was embedded with ollama:nomic-embed-text but no Ollama answers at http://127.0.0.1:9; "
        "start Ollama, or re-index with `spec-agent ingest --reindex --embedder lsa`.")


class DownEmbeddings(WordEmbeddings):
    """An embedder whose server went away after the index was built."""

    def embed_documents(self, texts):
        raise ConnectionError("connection refused")

    def embed_query(self, text):
        raise ConnectionError("connection refused")


def test_an_embedding_server_that_fails_is_a_clear_error_and_search_falls_back_to_words(tmp_path):
    from agent.errors import OllamaUnavailable

    SpecIndex.open(lsa_settings(tmp_path), WordEmbeddings(), parser=json_parser).ingest(
        [write_doc(tmp_path / "in", mil_doc())])
    index = SpecIndex.open(lsa_settings(tmp_path), DownEmbeddings(), parser=json_parser)
    assert [h.clause for h in index.search("bulk cable injection", 2)] == ["5.12", "5.12.1"]
    with pytest.raises(OllamaUnavailable) as err:
        index.ingest([write_doc(tmp_path / "in", mil_doc("B"))])
    assert str(err.value) == (
        "embedding with custom:words failed (ConnectionError: connection refused); start the embedding "
        "server or model, or ingest with `--embedder lsa`.")
    assert [d.name for d in SpecIndex.open(lsa_settings(tmp_path), WordEmbeddings()).documents()] == [
        "MIL-STD-461G"]
