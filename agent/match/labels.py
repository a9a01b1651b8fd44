"""Labelled headings: the seed-label file format reader and the `Example` record the matcher learns from."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from agent.match.signals import clause_number

log = logging.getLogger(__name__)
LABEL_GLOB = "*_section_answer.txt"


@dataclass(frozen=True)
class Example:
    """A heading with the tests an engineer gave it (empty = no test of the catalogue).

    `source` names where the label came from ("GM" for a seed file, "engineer correction
    (alice, 2026-11-27)" for a correction); `spec` is the document it belongs to (leave-one-
    spec-out removes a spec's own examples); `group` marks a heading whose sub-clauses carry
    the tests (its empty label says nothing about the heading's own wording). A correction
    (kind "correction", or a source starting "engineer correction") is cited by its source.
    """

    heading: str
    tests: tuple[int, ...]
    source: str = ""
    text: str = ""
    weight: float = 1.0
    spec: str = ""
    number: str = ""
    group: bool = False
    kind: str = "seed"  # seed | correction | record


@dataclass(frozen=True)
class LabelFile:
    spec: str
    document: str
    examples: tuple[Example, ...]


def spec_name(path: Path) -> str:
    """"gm_section_answer.txt" -> "GM"."""
    return path.name.split("_section_answer")[0].split(".")[0].upper()


def read_label_file(path: str | Path) -> LabelFile:
    """One labels file: source, type, two page-range lines, then heading / test-id line pairs."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if len(lines) < 4:
        raise ValueError(f"{path.name}: needs 4 header lines (source, type, first page, last page)")
    spec = spec_name(path)
    pairs = []
    body = lines[4:]
    for i in range(0, len(body), 2):
        heading = " ".join(body[i].split())
        answer = body[i + 1].strip() if i + 1 < len(body) else ""
        if not heading:
            if answer:
                raise ValueError(f"{path.name} line {i + 6}: test ids {answer!r} under an empty heading")
            continue
        try:
            tests = tuple(int(tok) for tok in answer.split())
        except ValueError:
            raise ValueError(f"{path.name} line {i + 6}: {answer!r} is not a list of test ids") from None
        pairs.append((heading, tests))
    examples = _with_groups(pairs, spec)
    return LabelFile(spec=spec, document=lines[0].strip(), examples=tuple(examples))


def _with_groups(pairs: list[tuple[str, tuple[int, ...]]], spec: str) -> list[Example]:
    numbers = [clause_number(h) for h, _ in pairs]
    out = []
    for i, (heading, tests) in enumerate(pairs):
        num = numbers[i]
        group = bool(num) and any(n.startswith(num + ".") for n in numbers[i + 1:])
        out.append(Example(heading=heading, tests=tests, source=spec, spec=spec, number=num, group=group))
    return out


def read_labels(directory: str | Path) -> list[LabelFile]:
    """Every labels file of a folder, by file name; [] when the folder is "" or absent."""
    if not directory or not Path(directory).is_dir():
        if directory:
            log.warning("labels folder %s not found; matching without labelled examples", directory)
        return []
    return [read_label_file(p) for p in sorted(Path(directory).glob(LABEL_GLOB))]


def seed_examples(directory: str | Path) -> list[Example]:
    return [ex for f in read_labels(directory) for ex in f.examples]


def read_jsonl_records(path: str | Path) -> list[Example]:
    """Evaluation records, one JSON object a line: {"id", "heading", "text", "tests", "spec"?}."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            out.append(
                Example(
                    heading=str(rec["heading"]),
                    text=str(rec.get("text") or ""),
                    tests=tuple(int(t) for t in rec.get("tests") or ()),
                    source=str(rec.get("id", n)),
                    spec=str(rec.get("spec") or ""),
                    number=clause_number(str(rec["heading"])),
                    kind="record",
                )
            )
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{Path(path).name} line {n}: not a record {{id, heading, text, tests}} ({err})") from None
    return out
