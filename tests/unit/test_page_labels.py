"""Printed page numbers read from page furniture: the page of 'Page N / M', never a constant."""

from agent.ingest.furniture import _choose_labels, _label_candidates


def test_the_page_of_page_n_of_m_in_a_longer_row():
    assert _label_candidates("Issue 2.1 • 2023-09-18 Page 5 / 12") == ["5"]
    assert _label_candidates("Sheet 3 of 40 – confidential") == ["3"]
    assert _label_candidates("© IEC 2015 – 27 –") == ["27"]


def test_a_number_that_stays_the_same_on_every_page_is_no_page_number():
    assert _choose_labels([["12"], ["12"], ["12"]]) == [None, None, None]
    assert _choose_labels([["4"], ["5"], ["6"]]) == ["4", "5", "6"]
