"""Question records and how an answer is scored against one.

A record (one JSON object a line) in the format engineers' question sets use:
``{"id", "doc", "kind", "question", "cite_any", "answer_all", "test_any"?, "page"?, "evidence"?}``
(``kind``: clause / which_test / table_value / covers, also written which_clause). The older project format
(``type``, ``expect_clause``, ``expect_table``, ``expect_values``, ``expect_tests``) is read too.

Scoring (see `Score`):
- **cited**: the answer *body* (not the Sources list) cites, by ``[n]``, evidence whose clause or
  table is one of ``cite_any``;
- **values**: every ``answer_all`` value is in the answer as a token (`holds_values`);
- **tests**: for which-test questions, the first test named is one of ``test_any`` (catalogue
  ids, or standard numbers such as ``"ISO 7637-2"``: any catalogue test under that standard; old
  format: the tests named hold every expected one; an empty list expects no test);
- **right** = cited and values and tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

KINDS = ("clause", "which_test", "table_value", "covers")
_KIND_NAMES = {"reverse": "covers", "which_clause": "covers"}  # other names of a kind


@dataclass(frozen=True)
class QAItem:
    id: str
    doc: str
    kind: str
    question: str
    cite_any: tuple[str, ...]
    answer_all: tuple[str, ...] = ()
    test_any: tuple[int | str, ...] | None = None  # None: tests not checked; str: a standard number
    test_all: tuple[int, ...] | None = None  # old format: every one named
    page: int | None = None


def item_from_dict(d: dict[str, Any]) -> QAItem:
    if "kind" in d:
        tests = d.get("test_any")
        kind = _KIND_NAMES.get(d["kind"], d["kind"])
        return QAItem(str(d["id"]), d["doc"], kind, d["question"], tuple(d.get("cite_any") or ()),
                      tuple(d.get("answer_all") or ()),
                      tuple(_test_key(t) for t in tests) if tests is not None else None, None, d.get("page"))
    cite = tuple(c for c in (d.get("expect_clause"), d.get("expect_table")) if c)
    kind = _KIND_NAMES.get(d["type"], d["type"])
    tests = tuple(int(t) for t in d.get("expect_tests") or ())
    return QAItem(str(d["id"]), d["doc"], kind, d["question"], cite, tuple(d.get("expect_values") or ()),
                  None, tests if kind == "which_test" else None)


def _test_key(value: Any) -> int | str:
    """A catalogue id (7, "7") or a standard number as written ("ISO 7637-2")."""
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def resolve_tests(items: list[QAItem], standards: dict[int, Sequence[str]]) -> list[QAItem]:
    """Standard numbers in ``test_any`` replaced by the ids of the catalogue tests under them
    (`standards`: test id -> its standard numbers); a number no test is under stays as written."""
    def key(ref: str) -> str:
        return re.sub(r"[\s\-–:]+", "", ref).lower()
    by_ref: dict[str, list[int]] = {}
    for test_id, refs in standards.items():
        for ref in refs:
            by_ref.setdefault(key(ref), []).append(test_id)
    out = []
    for item in items:
        if not item.test_any or all(isinstance(t, int) for t in item.test_any):
            out.append(item)
            continue
        ids: list[int] = []
        for t in item.test_any:
            if isinstance(t, int):
                ids.append(t)
            elif key(t) in by_ref:
                ids += by_ref[key(t)]
            else:
                ids.append(t)  # a standard no catalogue test is under: the answer must name it
        out.append(replace(item, test_any=tuple(dict.fromkeys(ids))))
    return out


def load_qa(path: Path) -> list[QAItem]:
    """The records of a JSON-lines file; ValueError names a bad line."""
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = item_from_dict(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: line {number} is not a question record ({err}); "
                             "see tests/fixtures/qa/README.md") from None
        if item.kind not in KINDS:
            raise ValueError(f"{path}: line {number}: kind {item.kind!r} is not one of {', '.join(KINDS)}")
        items.append(item)
    return items


# -- values -------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """One spelling for comparing values: µ for u/μ before a unit letter, '-' for dashes, ± for
    +/-, dB(x) as dBx, thousands groups joined ("1 000"), lower case."""
    t = text.replace("μ", "µ").replace("+/-", "±").replace("+/−", "±")
    t = re.sub(r"[\u2009\u202f\u00a0]", " ", t)
    t = re.sub(r"[–—−‐]", "-", t)
    t = re.sub(r"(?<![A-Za-z])u(?=[VAsTFHm]\b|[VA]/)", "µ", t)
    t = re.sub(r"dB\s*\(\s*([^)\s]+)\s*\)", r"dB\1", t)
    t = re.sub(r"dBu(?=[VA])", "dBµ", t)
    t = re.sub(r"(?<![\d.,])(\d{1,3}) (\d{3})(?![\d.,])", r"\1\2", t)
    return t.lower()


_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|[^\s\w]")


def tokens(text: str) -> list[str]:
    """Numbers, words and single symbols: "10kHz" and "10 kHz" both give ["10", "khz"]."""
    return _TOKEN.findall(normalise(text))


def has_value(value: str, text: str) -> bool:
    """`value` stands in `text` as a run of whole tokens ("80" is not in "180", "five times" is
    in "at least five times")."""
    want, have = tokens(value), tokens(text)
    n = len(want)
    return not want or any(have[i:i + n] == want for i in range(len(have) - n + 1))


def holds_values(item: QAItem, text: str) -> bool:
    return all(has_value(v, text) for v in item.answer_all)


# -- citations and tests --------------------------------------------------------------------
def table_key(table: str | None) -> str:
    return re.sub(r"\s+", " ", table or "").strip().upper().rstrip(".")


def _clause_key(clause: str | None) -> str:
    return re.sub(r"\s+", " ", clause or "").strip().rstrip(".").upper()


def cites_expected(item: QAItem, citations: Iterable[dict[str, Any]]) -> bool:
    """One of the citations is of the item's document and one of its clauses or tables."""
    wanted = {_clause_key(c) for c in item.cite_any}
    tables = {table_key(c) for c in item.cite_any}
    for c in citations:
        if c.get("doc") != item.doc:
            continue
        if _clause_key(c.get("clause")) in wanted or (c.get("table") and table_key(c.get("table")) in tables):
            return True
    return False


def body_of(answer: str) -> str:
    """The answer without its trailing Sources list."""
    return answer.split("\n\nSources:", 1)[0]


def tests_ok(item: QAItem, tests: Sequence[dict[str, Any]], body: str = "") -> bool:
    """The first test named is an expected one; a standard outside the catalogue ("ISO 16750-2")
    counts when the answer body names it."""
    ids = [t["id"] for t in tests]
    if item.test_all is not None:
        return set(item.test_all) <= set(ids) if item.test_all else not ids
    if item.test_any is None or item.kind != "which_test":
        return True
    if not item.test_any:
        return not ids
    flat = re.sub(r"[\s\-–:]+", "", body).lower()
    named = any(isinstance(t, str) and re.sub(r"[\s\-–:]+", "", t).lower() in flat for t in item.test_any)
    return named or (bool(ids) and ids[0] in item.test_any)
