"""Training data from feedback as JSON lines: matcher labels, SFT conversations, DPO pairs."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agent import prompts
from agent.errors import SpecAgentError
from agent.feedback.store import Answer, Correction, FeedbackStore, TestId, question_tokens
from agent.match.labels import seed_examples
from agent.schema import Citation

log = logging.getLogger(__name__)

KINDS = ("labels", "sft", "dpo")
ANY_DOCUMENTS = "the specifications in the spec-agent index"
DEFAULT_SYSTEM = (
    "You are spec-agent, an assistant for automotive EMC test engineers. Answer from the "
    "numbered evidence only, cite it as [n] with document and clause, and say so when the "
    "evidence does not answer the question."
)
# The prototype's catalogue (ids used by the seed labels); pass `test_names` for another one.
PROTOTYPE_TESTS: dict[TestId, str] = {
    0: "Conducted Emission - Voltage Method",
    1: "Conducted Emission - Current Method",
    2: "Radiated Emission",
    3: "Magnetic Field Emission",
    4: "CV test (capacitive voltage probe)",
    5: "Transient Emission",
    6: "Bulk Current Injection: Immunity",
    7: "ALSE: Immunity",
    8: "ALSE: Radar Pulse",
    9: "Portable Transmitter Test",
    10: "Magnetic Field Immunity",
    11: "Transient Immunity: Supply lines",
    12: "Transient Immunity: Signal lines",
    13: "Electrostatic Discharge (ESD) - Unpowered Discharge",
    14: "Electrostatic Discharge (ESD) - Powered-up Discharge",
}
# A thumbs-down comment gives the right answer when it starts with one of these (any case);
# any other comment is a remark and teaches nothing by itself.
ANSWER_MARKERS = ("correct answer:", "correction:", "correct:", "answer:", "should be:")


def system_prompt(documents: str = ANY_DOCUMENTS) -> str:
    """The product's system prompt (prompts/system.md through agent.prompts, as the agent
    sends it), or a short default when that prompt is missing or its slots changed."""
    try:
        return prompts.render("system", documents=documents).strip()
    except ValueError as err:
        log.warning("system prompt not rendered (%s); using the built-in default", err)
        return DEFAULT_SYSTEM


# -- labels -------------------------------------------------------------------------------------


def read_seed_labels(labels_dir: Path | str) -> list[dict[str, Any]]:
    """The seed labels (agent.match.labels reads the files) as {"heading", "text", "tests"}."""
    return [{"heading": e.heading, "text": e.text, "tests": list(e.tests)}
            for e in seed_examples(labels_dir)]


def label_records(store: FeedbackStore, labels_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """{"heading", "text", "tests"} per active correction, after the seed labels when given."""
    seed = read_seed_labels(labels_dir) if labels_dir else []
    mine = [{"heading": c.heading, "text": c.text, "tests": list(c.right)} for c in store.corrections()]
    return seed + mine


# -- prompts and corrected answers --------------------------------------------------------------


def _citation(i: int, e: Mapping[str, Any]) -> Citation:
    return Citation(n=int(e.get("n") or i), doc=str(e.get("doc") or ""), clause=e.get("clause"),
                    title=e.get("title"), page=e.get("page"), table=e.get("table"),
                    text=str(e.get("text") or ""), row=e.get("row"), page_label=e.get("page_label"))


def render_user(question: str, evidence: Sequence[Mapping[str, Any]]) -> str:
    """The user turn as the agent builds it: prompts/answer.md with the numbered evidence."""
    block = prompts.evidence_block([_citation(i, e) for i, e in enumerate(evidence, start=1)])
    try:
        return prompts.render("answer", evidence=block, question=question)
    except ValueError as err:
        log.warning("answer prompt not rendered (%s); using a plain layout", err)
        return f"<evidence>\n{block}\n</evidence>\n\nQuestion: {question}"


def messages_for(ans: Answer, system: str | None = None) -> list[dict[str, str]]:
    """System and user turns of a logged answer; the system prompt names the documents of its
    evidence (the log does not record which documents were loaded) unless `system` is given."""
    if system is None:
        docs = sorted({str(e.get("doc")) for e in ans.evidence if e.get("doc")})
        system = system_prompt(", ".join(docs) or "none")
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": render_user(ans.question, ans.evidence)},
    ]


def correction_sentence(c: Correction, test_names: Mapping[TestId, str]) -> str:
    """'Clause 6.2 of <doc> (<heading>) requires <test name> (test 1).'"""
    where = f"Clause {c.clause}" if c.clause else f"The section '{c.heading}'"
    if c.clause and c.doc:
        where += f" of {c.doc}"
    if c.clause:
        where += f" ({c.heading})"
    if not c.right:
        return f"{where} requires no test of the catalogue."
    names = [f"{test_names.get(t, test_names.get(str(t), f'test {t}'))} (test {t})" for t in c.right]
    return f"{where} requires {' and '.join(names)}."


def _comment_answer(comment: str) -> str | None:
    low = comment.strip().lower()
    for marker in ANSWER_MARKERS:
        if low.startswith(marker):
            return comment.strip()[len(marker) :].strip() or None
    return None


def _applies(c: Correction, ans: Answer) -> bool:
    """A correction bears on an answer when the question names its clause (and document)."""
    if not c.clause or c.clause.lower() not in question_tokens(ans.question):
        return False
    if not c.doc:
        return True
    docs = {str(e.get("doc") or "") for e in (*ans.citations, *ans.evidence)}
    return c.doc in docs or c.doc.lower() in ans.question.lower()


def corrected_answer(
    store: FeedbackStore,
    ans: Answer,
    corrections: Sequence[Correction],
    test_names: Mapping[TestId, str] = PROTOTYPE_TESTS,
) -> str | None:
    """The right answer to a thumbs-down answer: from its latest marked comment, or else from
    the engineers' corrections of the clause the question asked about; None when neither."""
    for thumb in reversed(store.feedback(ans.id)):
        if thumb.value < 0 and (text := _comment_answer(thumb.comment)):
            return text
    latest: dict[tuple[str | None, str | None], Correction] = {}
    for c in corrections:
        if _applies(c, ans):
            latest[(c.doc, c.clause)] = c
    sentences = [correction_sentence(c, test_names) for c in latest.values()]
    return " ".join(sentences) or None


def _verdicts(store: FeedbackStore) -> tuple[list[Answer], list[Answer]]:
    """Answers with a net thumbs-up, and answers with a net thumbs-down."""
    score: dict[int, int] = {}
    for thumb in store.feedback():
        score[thumb.answer_id] = score.get(thumb.answer_id, 0) + thumb.value
    answers = store.answers()
    good = [a for a in answers if score.get(a.id, 0) > 0]
    bad = [a for a in answers if score.get(a.id, 0) < 0]
    return good, bad


def _same_question(a: str, b: str) -> bool:
    norm = lambda s: " ".join(re.findall(r"\w+", s.lower()))
    return norm(a) == norm(b)


# -- SFT and DPO --------------------------------------------------------------------------------


def sft_records(
    store: FeedbackStore, system: str | None = None, test_names: Mapping[TestId, str] = PROTOTYPE_TESTS
) -> list[dict[str, Any]]:
    """{"messages": [system, user, assistant]} from thumbs-up and from corrected answers."""
    good, bad = _verdicts(store)
    corrections = store.corrections()
    good_ids = {a.id for a in good}
    records = []
    for ans in sorted(good + bad, key=lambda a: a.id):
        if ans.id in good_ids:
            reply: str | None = ans.answer
        else:
            reply = corrected_answer(store, ans, corrections, test_names)
        if reply:
            messages = messages_for(ans, system) + [{"role": "assistant", "content": reply}]
            records.append({"messages": messages})
    return records


def dpo_records(
    store: FeedbackStore, system: str | None = None, test_names: Mapping[TestId, str] = PROTOTYPE_TESTS
) -> list[dict[str, Any]]:
    """TRL's conversational preference format: {"prompt": [system, user], "chosen":
    [assistant], "rejected": [assistant]} — a thumbs-down answer is rejected against its
    correction, and against every thumbs-up answer to the same question (on that one's prompt)."""
    good, bad = _verdicts(store)
    corrections = store.corrections()
    records = []
    for ans in bad:
        fixed = corrected_answer(store, ans, corrections, test_names)
        if fixed and fixed != ans.answer:
            records.append(_pair(messages_for(ans, system), fixed, ans.answer))
        for other in good:
            if _same_question(other.question, ans.question) and other.answer != ans.answer:
                records.append(_pair(messages_for(other, system), other.answer, ans.answer))
    return records


def _pair(prompt: list[dict[str, str]], chosen: str, rejected: str) -> dict[str, Any]:
    return {
        "prompt": prompt,
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


# -- files --------------------------------------------------------------------------------------


def write_jsonl(records: Iterable[Mapping[str, Any]], path: Path | str) -> int:
    """Write one JSON object a line, atomically (temp file, then rename); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def export(
    kind: str,
    store: FeedbackStore,
    out: Path | str,
    *,
    labels_dir: str | Path | None = None,
    with_seed: bool = False,
    system: str | None = None,
    test_names: Mapping[TestId, str] = PROTOTYPE_TESTS,
) -> int:
    """Write one kind of training data to `out`; returns how many records it holds."""
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}; allowed: {', '.join(KINDS)}")
    if with_seed and kind != "labels":
        raise SpecAgentError(f"export {kind}: --with-seed applies to labels only; drop it.")
    if with_seed and not (labels_dir and Path(labels_dir).is_dir()):
        raise SpecAgentError(
            f"export labels: no seed labels folder ({labels_dir or 'none set'}); "
            "set SPEC_AGENT_LABELS to the folder of *.txt label files."
        )
    if kind == "labels":
        records = label_records(store, labels_dir if with_seed else None)
    elif kind == "sft":
        records = sft_records(store, system, test_names)
    else:
        records = dpo_records(store, system, test_names)
    count = write_jsonl(records, out)
    log.info("exported %d %s record(s) to %s", count, kind, out)
    return count
