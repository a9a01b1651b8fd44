"""Documents named loosely: standard numbers, edition letters, parts and years."""

import pytest

from agent.graph.docnames import designations, named_documents

DOCS = {
    "MIL-STD-461G_2015_rev": "",
    "MIL-STD-461F": "Microsoft Word - MIL-STD-461F",
    "EN-61999-4-2018": "",
    "UNECE-R171": "",
    "KESTREL-CS": "KESTREL component specification EMC-CS 2100 Issue 3",
    "RAIL-EMC-2019": "",
}


def test_designations_are_standard_numbers_with_their_edition_letters_and_parts():
    assert designations("MIL-STD-461G_2015_rev") == [("461", "G")]
    assert designations("EN-61999-4-2018") == [("61999", "4")]
    assert designations("UNECE-R171") == [("R", "171")]
    assert designations("RAIL-EMC-2019") == []  # a year is no standard number
    assert designations("KESTREL-CS", DOCS["KESTREL-CS"]) == [("2100",)]


@pytest.mark.parametrize(
    "question, expected",
    [
        ("what does 461G say about CS114", ("MIL-STD-461G_2015_rev",)),
        ("CS114 in MIL-STD-461 G", ("MIL-STD-461G_2015_rev",)),
        ("in MIL-STD-461F, RS103", ("MIL-STD-461F",)),
        ("MIL-STD-461, CE102 limit", ("MIL-STD-461G_2015_rev", "MIL-STD-461F")),  # both editions
        ("EN 61999-4 class B limit at 100 MHz", ("EN-61999-4-2018",)),
        ("per 61999-5, class B", ()),  # another part of the series
        ("R171 lane change", ("UNECE-R171",)),
        ("the 2015 edition of MIL-STD-461", ("MIL-STD-461G_2015_rev",)),  # the year picks the edition
        ("what did the 2018 edition change", ("EN-61999-4-2018",)),
        ("EMC-CS 2100: ESD levels", ("KESTREL-CS",)),  # a number from the title page
        ("the RAIL-EMC-2019 document", ("RAIL-EMC-2019",)),
        ("what is the limit at 461 MHz", ()),  # a frequency, not a standard
        ("which test does 8.2.2.1 require", ()),
    ],
)
def test_named_documents(question, expected):
    assert named_documents(question, DOCS) == expected
