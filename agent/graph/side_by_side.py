"""Questions about two documents side by side, answered through the compare tools, no model needed.

- "What changed in CS114 from 461F to 461G?" (intent ``changes``): `diff_documents(old, new,
  clause)` with the editions in the order the question names them and the test code or clause
  it names as the scope.
- "Compare the radiated emission limits of ACME and HM at 100 MHz" (intent ``compare``):
  `compare_test(test, at, docs)` with the test the question names (a code, else the one its
  wording points at) and the frequency it asks about.
- `answer_changes(evidence, data)` / `answer_comparison(evidence, data)`: the extractive answers,
  each line citing both sides.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from agent.graph.understand import Understanding
from agent.schema import Citation
from agent.tools import Toolbox

WORDING_STRONG = 3.0  # a facet score from which the question's wording names a test


def in_order(question: str, docs: Sequence[str]) -> list[str]:
    """The documents in the order the question names them ("from 461F to 461G": old first)."""
    squashed = re.sub(r"[^A-Z0-9]", "", question.upper())

    def first(name: str) -> int:
        keys = [re.sub(r"[^A-Z0-9]", "", name.upper())]
        keys += [keys[0][i:] for i in range(1, len(keys[0]) - 2)]  # "461F" of "MILSTD461F"
        keys += [re.split(r"[-_ .]", name, maxsplit=1)[0].upper()]
        found = [squashed.find(k) for k in keys if k and k in squashed]
        return min(found) if found else len(squashed)

    return sorted(docs, key=first)


def gather_changes(toolbox: Toolbox, u: Understanding) -> tuple[str, str, Any]:
    old, new = in_order(u.question, u.documents)[:2]
    scope = (u.tests or u.clauses or ("",))[0]
    return f"{old} → {new}" + (f" {scope}" if scope else ""), "diff_documents", toolbox.diff_documents(old, new, scope)


def gather_comparison(toolbox: Toolbox, u: Understanding, at: str | None) -> tuple[str, str, Any] | None:
    test = (u.tests or ("",))[0]
    if not test:
        ranked = toolbox.wording_tests(u.question)
        if not ranked or ranked[0].score < WORDING_STRONG:
            return None
        test = str(ranked[0].test_id)
    docs = list(u.documents) or None
    if at is None:
        return None
    return f"{test} at {at}", "compare_test", toolbox.compare_test(test, at, docs)


def answer_changes(evidence: Sequence[Citation], data: dict[str, Any]) -> str:
    """The diff's summary line, then each changed pair citing the old and the new clause."""
    diff = data["changes"]
    lines = [f"{data.get('changes_head', diff['old'] + ' → ' + diff['new'])}."]
    for pair in diff.get("pairs", []):
        old = _cite(evidence, diff["old"], pair["old"])
        new = _cite(evidence, diff["new"], pair["new"])
        values = pair.get("values") or {}
        said = "; ".join(part for part in (
            "removed " + ", ".join(values.get("removed", [])) if values.get("removed") else "",
            "added " + ", ".join(values.get("added", [])) if values.get("added") else "") if part)
        cited = f" {old}{new}" if old or new else " (beyond the evidence shown: `spec-agent diff` lists it)"
        lines.append(f"- {pair['old']} → {pair['new']} {pair.get('title', '')}: " + (said or "wording changed") + cited)
    for c in diff.get("removed", [])[:5]:
        lines.append(f"- removed: {c['clause']} {c['title']}")
    for c in diff.get("added", [])[:5]:
        lines.append(f"- added: {c['clause']} {c['title']}")
    return "\n".join(lines)


def answer_comparison(evidence: Sequence[Citation], data: dict[str, Any]) -> str:
    """One line per document with its value and citation, then the strictest and the notes."""
    c = data["comparison"]
    lines = [f"{c['test']['name'] if isinstance(c.get('test'), dict) else c.get('test')} at {c.get('at')}:"]
    for row in c.get("rows", []):
        src = row.get("source") or {}
        n = next((e.n for e in evidence if e.doc == row["doc"] and e.table == src.get("table")
                  and e.row == src.get("row")), None)
        value = row.get("text") or (row.get("note") or "not stated")  # the value as printed
        detector = f", {row['detector']}" if row.get("detector") else ""
        lines.append(f"- {row['doc']}: {value}{detector}" + (f" [{n}]" if n else ""))
    if c.get("strictest"):
        lines.append(f"Strictest: {c['strictest']}.")
    lines += [str(n) for n in c.get("notes", [])]
    return "\n".join(lines)


def _cite(evidence: Sequence[Citation], doc: str, clause: str) -> str:
    n = next((e.n for e in evidence if e.doc == doc and e.clause == clause and not e.table), None)
    return f"[{n}]" if n else ""
