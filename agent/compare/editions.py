"""The edition diff: clause pairs with renumbering, word diff, value and table changes; removed, added."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.compare.align import Alignment, Pair, align_clauses, code_of, heading
from agent.compare.tables import TableDiff, diff_tables, pair_tables
from agent.compare.values import ValueChanges, value_changes
from agent.compare.words import normal, word_diff
from agent.errors import SpecAgentError
from agent.schema import Clause, Document, Table

_CODE_QUERY = re.compile(r"^[A-Za-z]{2,3}[ -]?\d{3}$")


@dataclass(frozen=True)
class PairDiff:
    """What happened to one clause between the editions."""

    pair: Pair
    diff: str  # word-level diff of the body, "" when unchanged
    values: ValueChanges
    tables: tuple[TableDiff, ...]

    @property
    def title_changed(self) -> bool:
        return normal(heading(self.pair.old.title)) != normal(heading(self.pair.new.title))

    @property
    def changed(self) -> bool:
        return bool(self.diff or self.values or self.title_changed or any(t.changed for t in self.tables))

    @property
    def rank(self) -> int:
        """0: a limit or level moved; 1: other values (bands, times, lengths); 2: a table's words;
        3: wording only; 4: unchanged."""
        if self.values.levels or any(t.levels_changed for t in self.tables):
            return 0
        if self.values or any(t.values_changed for t in self.tables):
            return 1
        if any(t.changed for t in self.tables):
            return 2
        return 3 if self.changed else 4

    def to_json(self) -> dict[str, Any]:
        old, new = self.pair.old, self.pair.new
        out: dict[str, Any] = {
            "old": old.number, "new": new.number, "title": new.title,
            "score": self.pair.score, "reason": self.pair.reason,
            "renumbered": self.pair.renumbered, "changed": self.changed,
            "values": self.values.to_json(), "diff": self.diff,
            "tables": [t.to_json() for t in self.tables if t.changed],
        }
        if self.title_changed:
            out["old_title"] = old.title
        return out


@dataclass(frozen=True)
class EditionDiff:
    old: Document
    new: Document
    pairs: tuple[PairDiff, ...]
    removed: tuple[Clause, ...]
    added: tuple[Clause, ...]
    tables_removed: tuple[Table, ...] = ()
    tables_added: tuple[Table, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old.name, "new": self.new.name,
            "pairs": [p.to_json() for p in self.pairs],
            "removed": [{"clause": c.number, "title": c.title} for c in self.removed],
            "added": [{"clause": c.number, "title": c.title} for c in self.added],
            "tables_removed": [_table_ref(t) for t in self.tables_removed],
            "tables_added": [_table_ref(t) for t in self.tables_added],
        }

    def summary(self) -> dict[str, int]:
        """The figures a report leads with."""
        return {
            "pairs": len(self.pairs),
            "renumbered": sum(p.pair.renumbered for p in self.pairs),
            "changed": sum(p.changed for p in self.pairs),
            "levels_changed": sum(p.rank == 0 for p in self.pairs),
            "values_changed": sum(p.rank <= 1 for p in self.pairs),
            "tables_changed": sum(t.changed for p in self.pairs for t in p.tables),
            "removed": len(self.removed),
            "added": len(self.added),
        }


def _table_ref(t: Table) -> dict[str, Any]:
    return {"table": t.id, "caption": t.caption, "clause": t.clause, "page": t.page}


def diff_editions(old: Document, new: Document, clause: str | None = None) -> EditionDiff:
    """How `new` differs from `old`, clause by clause; `clause` (a number of either edition or a
    test code such as "CS114") narrows the report to that clause and its sub-clauses."""
    alignment = align_clauses(old.clauses, new.clauses)
    clause_map = {p.old.number: p.new.number for p in alignment.pairs}
    table_pairs = pair_tables(old.tables, new.tables, clause_map)
    by_clause: dict[str, list[TableDiff]] = {}
    for t, u in table_pairs:
        by_clause.setdefault(t.clause or "", []).append(diff_tables(t, u))
    pairs = tuple(
        PairDiff(p, word_diff(p.old.text, p.new.text),
                 value_changes(f"{p.old.title}\n{p.old.text}", f"{p.new.title}\n{p.new.text}"),
                 tuple(by_clause.get(p.old.number, ())))
        for p in alignment.pairs)
    paired_old = {id(t) for t, _ in table_pairs}
    paired_new = {id(u) for _, u in table_pairs}
    result = EditionDiff(old, new, pairs, alignment.removed, alignment.added,
                         tuple(t for t in old.tables if id(t) not in paired_old),
                         tuple(u for u in new.tables if id(u) not in paired_new))
    return select(result, alignment, clause) if clause else result


def _under(number: str, root: str) -> bool:
    return number == root or number.startswith(root + ".")


def select(diff: EditionDiff, alignment: Alignment, clause: str) -> EditionDiff:
    """The part of a diff about one clause (old number first, else new) or one test code."""
    key = clause.strip()
    if _CODE_QUERY.match(key):
        code = re.sub(r"[ -]", "", key).upper()
        in_old = _coded(diff.old.clauses, code)
        in_new = _coded(diff.new.clauses, code)
    else:
        in_old = {c.number for c in diff.old.clauses if _under(c.number, key)}
        in_new = {c.number for c in diff.new.clauses if _under(c.number, key)}
        if in_old:  # the number names an old clause: follow it, and what was added under it
            followed = {p.new.number for p in alignment.pairs if p.old.number in in_old}
            in_new = followed | {c.number for c in alignment.added
                                 if any(_under(c.number, n) for n in followed)}
    if not in_old and not in_new:
        raise SpecAgentError(f"no clause {key!r} in {diff.old.name} or {diff.new.name}; "
                             "give a clause number such as 5.13 or a test code such as CS114.")
    return EditionDiff(
        diff.old, diff.new,
        tuple(p for p in diff.pairs if p.pair.old.number in in_old or p.pair.new.number in in_new),
        tuple(c for c in diff.removed if c.number in in_old),
        tuple(c for c in diff.added if c.number in in_new),
        tuple(t for t in diff.tables_removed if (t.clause or "") in in_old),
        tuple(t for t in diff.tables_added if (t.clause or "") in in_new),
    )


def _coded(clauses: tuple[Clause, ...], code: str) -> set[str]:
    """Numbers of the clauses whose heading names `code` and of their sub-clauses."""
    roots = [c.number for c in clauses if code_of(heading(c.title)) == code]
    return {c.number for c in clauses if any(_under(c.number, r) for r in roots)}


def changes_since(old: Document, new: Document) -> dict[str, str]:
    """For each clause of `new`, what changed since `old` in words a lab can act on: "new clause",
    "values changed: 34 dBµV/m → 32 dBµV/m", "table cells changed", "wording changed",
    "sub-clauses changed: 5.12.2", "renumbered from 5.13"; "" when nothing changed."""
    d = diff_editions(old, new)
    marks: dict[str, str] = {c.number: "new clause" for c in d.added}
    for p in d.pairs:
        marks[p.pair.new.number] = "; ".join(_what_changed(p))
    for clause in new.clauses:  # a test's heading row: its requirement lives in its sub-clauses
        below = [c.number for c in new.clauses if clause.number in c.parents and marks.get(c.number)
                 and not marks[c.number].startswith("renumbered")]
        if below and not (marks.get(clause.number) or "").startswith("new"):
            own = marks.get(clause.number, "")
            marks[clause.number] = "; ".join(m for m in (own, "sub-clauses changed: " + ", ".join(below)) if m)
    return marks


def _what_changed(p: PairDiff) -> list[str]:
    parts = []
    if p.values:
        shown = [f"{a} → {b}" for a, b in p.values.changed()]
        lone = {v for pair in p.values.changed() for v in pair}
        shown += [f"-{v}" for v in p.values.removed if v not in lone]
        shown += [f"+{v}" for v in p.values.added if v not in lone]
        parts.append("values changed: " + ", ".join(shown))
    for t in (t for t in p.tables if t.changed):
        parts.append(f"{t.new.id} changed" + (f" ({_table_detail(t)})" if _table_detail(t) else ""))
    if p.diff or p.title_changed:
        parts.append("wording changed")
    if p.pair.renumbered:
        parts.append(f"renumbered from {p.pair.old.number}")
    return parts


def _table_detail(t: TableDiff, cells: int = 2, width: int = 40) -> str:
    """A table's first changes in a few words: "30 - 230 MHz, Limit (dBµV/m): 34 → 32; row added: …"."""
    cut = lambda text: text if len(text) <= width else text[: width - 1] + "…"
    parts = [f"{cut(c.row)}, {cut(c.column)}: {cut(c.old)} → {cut(c.new)}" for c in t.cells[:cells]]
    if len(t.cells) > cells:
        parts.append(f"{len(t.cells) - cells} more cells")
    for label, keys in (("rows removed", t.rows_removed), ("rows added", t.rows_added)):
        if keys:
            parts.append(f"{label}: " + ", ".join(cut(k) for k in keys[:3]) + (" …" if len(keys) > 3 else ""))
    return "; ".join(parts)


def requirement_changed(mark: str) -> bool:
    """Does a `changes_since` mark say more than "renumbered from …" (something to re-test)?"""
    return any(part and not part.startswith("renumbered from") for part in mark.split("; "))
