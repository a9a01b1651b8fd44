"""Look-ups and search: clause views, table ids, exact references first, hybrid ranking."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from test_index_helpers import mil_doc, open_index, write_doc

from agent.errors import NotFound
from agent.index.lsa import LsaEmbeddings
from agent.index.tokens import tokenize


@pytest.fixture
def two_editions(tmp_path):
    index = open_index(tmp_path)
    index.ingest([write_doc(tmp_path / "in", mil_doc("MIL-STD-461F", rs103="5.20")),
                  write_doc(tmp_path / "in", mil_doc("MIL-STD-461G", rs103="5.21"))])
    return index


def test_clause_view_has_parents_children_tables_and_other_editions(two_editions):
    view = two_editions.get_clause("5.12.3")
    assert (view.doc, view.clause.title, view.clause.page) == ("MIL-STD-461F", "CS114 test procedures", 62)
    assert view.parents == [("5", "DETAILED REQUIREMENTS"),
                            ("5.12", "CS114, Conducted susceptibility, bulk cable injection")]
    assert view.children == []
    assert [t.id for t in view.tables] == ["TABLE VIII"]
    assert view.others == ["MIL-STD-461G"]
    parent = two_editions.get_clause("5.12.", doc="mil-std-461g")
    assert parent.children == [("5.12.1", "CS114 applicability"), ("5.12.3", "CS114 test procedures")]
    assert (parent.doc, parent.others) == ("MIL-STD-461G", [])


def test_missing_clause_and_document_say_what_exists(two_editions):
    with pytest.raises(NotFound) as err:
        two_editions.get_clause("5.21", doc="MIL-STD-461F")
    assert str(err.value) == ('clause 5.21 is not in document MIL-STD-461F; documents: MIL-STD-461F, '
                              'MIL-STD-461G. Try `spec-agent search "5.21"`.')
    with pytest.raises(NotFound) as err:
        two_editions.get_clause("5.21", doc="DO-160")
    assert str(err.value) == "no document 'DO-160' in the index; documents: MIL-STD-461F, MIL-STD-461G."


def test_table_ids_in_any_spelling(two_editions):
    assert two_editions.get_table("Table VIII").doc == "MIL-STD-461F"
    assert two_editions.get_table("TABLE viii", doc="MIL-STD-461G").id == "TABLE VIII"
    assert two_editions.get_table("table 8", doc="MIL-STD-461G").id == "TABLE VIII"
    assert two_editions.get_table("table 7-1", doc="MIL-STD-461G").caption == "RS103 limits"
    with pytest.raises(NotFound) as err:
        two_editions.get_table("Table IX", doc="MIL-STD-461G")
    assert str(err.value) == "Table IX is not in document MIL-STD-461G; tables there: TABLE VIII, Table 7-1."


def test_a_named_clause_number_comes_first(two_editions):
    hits = two_editions.search("5.21 what field strength", 3)
    assert [(h.doc, h.clause, h.score) for h in hits[:1]] == [("MIL-STD-461G", "5.21", 1.0)]
    assert hits[0].title == "RS103, Radiated susceptibility, electric field, 2 MHz to 40 GHz"
    assert hits[0].chunk_id == "MIL-STD-461G#5.21#0"
    assert all(h.score < 0.05 for h in hits[1:])


def test_a_named_table_comes_first_within_the_asked_document(two_editions):
    hits = two_editions.search("what are the levels of table VIII", 2, doc="MIL-STD-461G")
    assert [(h.doc, h.table, h.clause, h.page, h.score) for h in hits[:1]] == [
        ("MIL-STD-461G", "TABLE VIII", "5.12.3", 63, 1.0)]
    assert hits[0].title == "ESD test levels"
    assert {h.doc for h in hits} == {"MIL-STD-461G"}


def test_words_rank_the_matching_clause_first(two_editions):
    hits = two_editions.search("bulk cable injection", 3, doc="MIL-STD-461G")
    assert [h.clause for h in hits] == ["5.12", "5.12.1", "5.12.3"]
    assert hits[0].text.startswith("5.12 CS114, Conducted susceptibility, bulk cable injection\n")
    assert two_editions.search("dBuV/m", 1, doc="MIL-STD-461F")[0].clause == "5.20"


def test_search_of_an_empty_index_finds_nothing(tmp_path):
    assert open_index(tmp_path).search("anything", 5) == []


def test_lsa_query_vectors_match_sklearn_tfidf_then_svd():
    texts = ["bulk cable injection probe", "radiated electric field antenna", "conducted emission power leads",
             "bulk current injection clamp probe", "electric field strength V/m"]
    model = LsaEmbeddings().fit(texts)
    vectorizer = TfidfVectorizer(analyzer=tokenize, sublinear_tf=True).fit(texts)
    sk = vectorizer.transform(["probe probe injection"]).toarray()[0] @ model.components.T
    ours = np.asarray(model.embed_query("probe probe injection"))
    assert model.dimension == 4
    assert np.allclose(ours, sk / np.linalg.norm(sk), atol=1e-6)
    scores = np.asarray(model.embed_documents(texts)) @ np.asarray(model.embed_query("bulk injection"))
    assert int(np.argmax(scores)) in (0, 3) and scores[0] > 0.9 and scores[3] > 0.9


def test_fit_embed_gives_the_vectors_embed_documents_gives():
    texts = ["bulk cable injection probe", "radiated electric field antenna", "conducted emission power leads",
             "bulk current injection clamp probe probe"]
    model = LsaEmbeddings()
    fitted = model.fit_embed(texts)
    assert fitted.shape == (4, 3)
    assert np.allclose(fitted, np.asarray(model.embed_documents(texts)), atol=1e-5)
