"""Table recall: captioned tables printed in a document vs tables in the index under that id.

A caption is counted from the document's own text, independently of the parser: a line that
starts with "Table"/"TABLE" and an id (`TABLE II`, `Table 5`, `Table B.2`, `TABLE B-II`, `Table A4/1`,
`Table 7-1`)
followed by the end of the line, a separator (`.`, `:`, dash) or a capitalised title. Lines of
contents pages (dot leaders) and references in running text ("Table 5 gives …") do not count;
a caption repeated for a continued table counts once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent.index.refs import table_key
from agent.schema import TABLE_WORD

_TABLE_WORDS = "|".join(w for word in TABLE_WORD[3:-1].split("|") if word != "tab\\." for w in (word.capitalize(), word.upper()))
_CAPTION_LINE = re.compile(
    rf"^\s*(?:{_TABLE_WORDS})\s+(?P<id>(?:[A-Z]{{1,2}}[.\-])?(?:\d+(?:[./\-]\d+)*[a-z]?|[IVXLC]+\b)"
    r"|[A-Z]{1,2}\d+(?:[./\-]\d+)*|[A-Z]\b(?![.\-/]\d))"
    r"(?=\s*$|\s*[.:\u2013\u2014-]|\s*\(|\s+[A-Z])"
)
_LEADERS = re.compile(r"(?:\.\s?){4,}\s*\d+\s*$")


@dataclass(frozen=True)
class Recall:
    doc: str
    printed: tuple[str, ...]  # caption ids found in the text
    indexed: tuple[str, ...]  # of those, the ones the index holds

    @property
    def share(self) -> float:
        return len(self.indexed) / len(self.printed) if self.printed else 1.0

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(t for t in self.printed if t not in self.indexed)


def key(table_id: str) -> str:
    """ "TABLE  b.2" → "TABLE B.2", "Tabelle 7" → "TABLE 7" (case, spaces and the caption's language do
    not matter)."""
    return f"TABLE {table_key(table_id)}"


def printed_captions(pages: Iterable[str]) -> list[str]:
    """Caption ids in the document's text, in order, once each."""
    found: dict[str, None] = {}
    for text in pages:
        lines = text.splitlines()
        if sum(bool(_LEADERS.search(line)) for line in lines) >= 3:
            continue  # a contents page
        for line in lines:
            m = _CAPTION_LINE.match(line)
            if m and not _LEADERS.search(line):
                found.setdefault(key(f"Table {m['id']}"), None)
    return list(found)


def table_recall(doc: str, pages: Iterable[str], indexed_ids: Iterable[str]) -> Recall:
    printed = printed_captions(pages)
    have = {key(t) for t in indexed_ids}
    return Recall(doc, tuple(printed), tuple(t for t in printed if t in have))
