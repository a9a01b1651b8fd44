"""Engineers' feedback in SQLite (`<index>/feedback.db`): corrections, logged answers, thumbs."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.errors import NotFound, SpecAgentError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DB_NAME = "feedback.db"

# Feedback on an answer moves the chunks that answer cited for *similar* questions only:
# similarity is the Jaccard index of the two questions' content tokens (stop words dropped).
SIMILAR_QUESTION_MIN = 0.5
# One thumb moves each cited chunk by STEP × similarity; the sum per chunk stays within ±BOUND.
ADJUSTMENT_STEP = 0.2
ADJUSTMENT_BOUND = 0.5
# A correction counts this much more than a seed label when the matcher learns from it.
CORRECTION_WEIGHT = 3.0

TestId = int | str
ChunkKey = tuple[str, str]  # (doc, clause number or table id)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    doc TEXT,
    clause TEXT,
    heading TEXT NOT NULL CHECK (length(trim(heading)) > 0),
    text TEXT NOT NULL DEFAULT '',
    wrong TEXT CHECK (wrong IS NULL OR json_type(wrong) = 'array'),
    "right" TEXT NOT NULL CHECK (json_type("right") = 'array'),
    user TEXT NOT NULL,
    created_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    thread_id TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL CHECK (json_type(evidence) = 'array'),
    citations TEXT NOT NULL CHECK (json_type(citations) = 'array'),
    tests TEXT NOT NULL CHECK (json_type(tests) = 'array'),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    value INTEGER NOT NULL CHECK (value IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT '',
    user TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_answer ON feedback(answer_id);
"""

_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "does", "do", "for", "from", "how", "i", "in", "is", "it", "of", "on", "or", "shall", "the", "this", "to", "what", "which", "with", "me", "my", "we", "our", "us", "should", "must", "can", "give", "tell", "show", "please"]
)
_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")


@dataclass(frozen=True)
class Correction:
    """An engineer's verdict on which tests a heading requires (soft-deleted via removed_at)."""

    id: int
    doc: str | None
    clause: str | None
    heading: str
    text: str
    wrong: tuple[TestId, ...] | None  # what the matcher said, when known
    right: tuple[TestId, ...]  # empty: the section requires no test of the catalogue
    user: str
    created_at: str
    removed_at: str | None = None


@dataclass(frozen=True)
class Answer:
    """An answer as given: the question, the text, and the numbered evidence it was built from."""

    id: int
    thread_id: str | None
    question: str
    answer: str
    mode: str
    evidence: tuple[dict[str, Any], ...]  # {n, doc, clause, title, page, table, text}
    citations: tuple[dict[str, Any], ...]
    tests: tuple[TestId, ...]
    created_at: str


@dataclass(frozen=True)
class Feedback:
    """A thumb on an answer: +1 or -1, with the engineer's comment."""

    id: int
    answer_id: int
    value: int
    comment: str
    user: str
    created_at: str


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def question_tokens(text: str) -> frozenset[str]:
    """Content tokens of a question: lower case, clause numbers and test names kept whole."""
    return frozenset(t for t in _TOKEN.findall(text.lower()) if t not in _STOP)


def question_similarity(a: str, b: str) -> float:
    """Jaccard index of two questions' content tokens (0 when either has none)."""
    ta, tb = question_tokens(a), question_tokens(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def _plain(item: Any) -> dict[str, Any]:
    """Evidence or citation as a dict: schema records (Hit, Citation) or mappings."""
    if is_dataclass(item) and not isinstance(item, type):
        return asdict(item)
    if isinstance(item, Mapping):
        return dict(item)
    raise TypeError(f"evidence items must be records or mappings, not {type(item).__name__}")


def _ids(values: Iterable[TestId] | None) -> list[TestId] | None:
    if values is None:
        return None
    ids = list(values)
    for v in ids:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise ValueError(f"test ids are integers or strings, not {v!r}")
    return ids


class FeedbackStore:
    """The feedback database; every write runs in one transaction (all or nothing)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._create_schema()

    @classmethod
    def open(cls, settings: Settings) -> FeedbackStore:
        return cls(Path(settings.index_dir) / DB_NAME)

    # -- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _create_schema(self) -> None:
        with self._tx() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            if row[0] is None:
                conn.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise SpecAgentError(
                    f"{self.path.name}: written by a newer spec-agent (schema {row[0]}, "
                    f"this one reads {SCHEMA_VERSION}); upgrade spec-agent to use it."
                )

    def schema_version(self) -> int:
        with self._tx() as conn:
            return int(conn.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    # -- corrections ----------------------------------------------------------------------------

    def add_correction(
        self,
        heading: str,
        right: Sequence[TestId],
        *,
        text: str = "",
        doc: str | None = None,
        clause: str | None = None,
        wrong: Sequence[TestId] | None = None,
        user: str,
    ) -> Correction:
        one = dict(heading=heading, right=right, text=text, doc=doc, clause=clause, wrong=wrong)
        return self.add_corrections([one], user=user)[0]

    def add_corrections(self, items: Sequence[Mapping[str, Any]], *, user: str) -> list[Correction]:
        """Store several corrections at once: either all of them or, on any error, none."""
        created = now_iso()
        ids: list[int] = []
        try:
            with self._tx() as conn:
                for item in items:
                    cur = conn.execute(
                        'INSERT INTO corrections(doc, clause, heading, text, wrong, "right", user, created_at)'
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            item.get("doc"),
                            item.get("clause"),
                            item["heading"],
                            item.get("text") or "",
                            _json_or_null(_ids(item.get("wrong"))),
                            json.dumps(_ids(item["right"])),
                            user,
                            created,
                        ),
                    )
                    ids.append(int(cur.lastrowid))
        except sqlite3.IntegrityError as err:
            raise ValueError(f"correction rejected ({err}); give a non-empty heading") from err
        log.info("stored %d correction(s) by %s", len(ids), user)
        return [self.correction(i) for i in ids]

    def correction(self, correction_id: int) -> Correction:
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM corrections WHERE id = ?", (correction_id,)).fetchone()
        if row is None:
            raise NotFound(
                f"correction {correction_id}: no such correction; list them with `spec-agent corrections`."
            )
        return _correction(row)

    def corrections(self, include_removed: bool = False) -> list[Correction]:
        where = "" if include_removed else " WHERE removed_at IS NULL"
        with self._tx() as conn:
            rows = conn.execute(f"SELECT * FROM corrections{where} ORDER BY id").fetchall()
        return [_correction(r) for r in rows]

    def remove_correction(self, correction_id: int) -> Correction:
        """Revert a correction: it stays listed (for audit) but no longer teaches anything."""
        return self._set_removed(correction_id, now_iso())

    def restore_correction(self, correction_id: int) -> Correction:
        return self._set_removed(correction_id, None)

    def _set_removed(self, correction_id: int, when: str | None) -> Correction:
        self.correction(correction_id)  # NotFound with a clear message
        with self._tx() as conn:
            conn.execute("UPDATE corrections SET removed_at = ? WHERE id = ?", (when, correction_id))
        log.info("correction %d %s", correction_id, "removed" if when else "restored")
        return self.correction(correction_id)

    # -- answers and thumbs ---------------------------------------------------------------------

    def log_answer(
        self,
        question: str,
        answer: str,
        *,
        thread_id: str | None = None,
        mode: str = "",
        evidence: Sequence[Any] = (),
        citations: Sequence[Any] = (),
        tests: Sequence[TestId] = (),
    ) -> int:
        """Record an answer with the numbered evidence it was built from; returns its id."""
        row = (
            thread_id,
            question,
            answer,
            mode,
            json.dumps([_plain(e) for e in evidence]),
            json.dumps([_plain(c) for c in citations]),
            json.dumps(_ids(tests)),
            now_iso(),
        )
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO answers(thread_id, question, answer, mode, evidence, citations, tests,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid)

    def answer(self, answer_id: int) -> Answer:
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        if row is None:
            raise NotFound(f"answer {answer_id}: no such answer in the feedback log.")
        return _answer(row)

    def answers(self) -> list[Answer]:
        with self._tx() as conn:
            return [_answer(r) for r in conn.execute("SELECT * FROM answers ORDER BY id")]

    def add_feedback(self, answer_id: int, value: int, comment: str = "", user: str = "") -> Feedback:
        if value not in (-1, 1):
            raise ValueError(f"feedback value must be +1 or -1, not {value!r}")
        self.answer(answer_id)  # NotFound with a clear message
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO feedback(answer_id, value, comment, user, created_at) VALUES (?, ?, ?, ?, ?)",
                (answer_id, value, comment or "", user, now_iso()),
            )
            feedback_id = int(cur.lastrowid)
        log.info("feedback %+d on answer %d by %s", value, answer_id, user or "?")
        return self.feedback_entry(feedback_id)

    def feedback_entry(self, feedback_id: int) -> Feedback:
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM feedback WHERE id = ?", (feedback_id,)).fetchone()
        if row is None:
            raise NotFound(f"feedback {feedback_id}: no such feedback.")
        return Feedback(**dict(row))

    def feedback(self, answer_id: int | None = None) -> list[Feedback]:
        sql, args = "SELECT * FROM feedback ORDER BY id", ()
        if answer_id is not None:
            sql, args = "SELECT * FROM feedback WHERE answer_id = ? ORDER BY id", (answer_id,)
        with self._tx() as conn:
            return [Feedback(**dict(r)) for r in conn.execute(sql, args)]

    def remove_feedback(self, feedback_id: int) -> None:
        """Delete a thumb; its effect on chunk_adjustments goes with it."""
        self.feedback_entry(feedback_id)
        with self._tx() as conn:
            conn.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,))
        log.info("feedback %d removed", feedback_id)

    def chunk_adjustments(self, question: str) -> dict[ChunkKey, float]:
        """Score offsets for chunks, learnt from thumbs on answers to similar questions.

        Each thumb on an answer whose question has similarity s ≥ SIMILAR_QUESTION_MIN to
        `question` moves every chunk that answer cited (its evidence when it cited nothing) by
        value × ADJUSTMENT_STEP × s; each chunk's total is clipped to ±ADJUSTMENT_BOUND.
        Keys are (doc, table id) for table chunks, (doc, clause number) otherwise.
        """
        totals: dict[ChunkKey, float] = {}
        answers = {a.id: a for a in self.answers()}
        for thumb in self.feedback():
            ans = answers[thumb.answer_id]
            sim = question_similarity(question, ans.question)
            if sim < SIMILAR_QUESTION_MIN:
                continue
            for key in _cited_chunks(ans):
                totals[key] = totals.get(key, 0.0) + thumb.value * ADJUSTMENT_STEP * sim
        adjustments = {k: max(-ADJUSTMENT_BOUND, min(ADJUSTMENT_BOUND, v)) for k, v in totals.items()}
        adjustments = {k: round(v, 6) for k, v in adjustments.items() if v}
        if adjustments:
            log.info("feedback adjusts %d chunk(s) for %r: %s", len(adjustments), question, adjustments)
        return adjustments


def _cited_chunks(ans: Answer) -> list[ChunkKey]:
    keys: list[ChunkKey] = []
    for item in ans.citations or ans.evidence:
        where = item.get("table") or item.get("clause")
        key = (str(item.get("doc") or ""), str(where or ""))
        if where and key not in keys:
            keys.append(key)
    return keys


def _json_or_null(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _correction(row: sqlite3.Row) -> Correction:
    data = dict(row)
    data["wrong"] = None if data["wrong"] is None else tuple(json.loads(data["wrong"]))
    data["right"] = tuple(json.loads(data["right"]))
    return Correction(**data)


def _answer(row: sqlite3.Row) -> Answer:
    data = dict(row)
    for key in ("evidence", "citations", "tests"):
        data[key] = tuple(json.loads(data[key]))
    return Answer(**data)


def correction_source(c: Correction) -> str:
    """How a matcher explains a label it learnt: 'engineer correction (alice, 2026-11-27)'."""
    return f"engineer correction ({c.user}, {c.created_at[:10]})"


def correction_examples(store: FeedbackStore) -> list[dict[str, Any]]:
    """Active corrections as labelled examples for `Matcher.with_examples(extra)`."""
    return [
        {
            "heading": c.heading,
            "text": c.text,
            "tests": list(c.right),
            "source": correction_source(c),
            "doc": c.doc,
            "clause": c.clause,
            "weight": CORRECTION_WEIGHT,
        }
        for c in store.corrections()
    ]
