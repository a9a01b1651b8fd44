"""CLI commands of test matching: `classify`, `eval match` (the `eval` group), `keywords`."""

from __future__ import annotations

import csv
import json
import logging
import sys
from pathlib import Path
from typing import Optional, TextIO

import typer
from rich.console import Console
from rich.table import Table

from agent.cli import settings_of
from agent.config import Settings
from agent.errors import SpecAgentError

log = logging.getLogger(__name__)

eval_app = typer.Typer(no_args_is_help=True, help="Measure the product on labelled data (eval match, ...).")


class InputError(ValueError):
    """A stdin line the classify command cannot use."""


def classify(
    ctx: typer.Context,
    doc: str | None = typer.Option(None, "--doc", help="Classify every clause of this ingested document."),
    csv_path: Path | None = typer.Option(None, "--csv", help="With --doc: also write the test matrix as CSV."),
) -> None:
    """Match clauses to catalogue tests: JSON lines {"id","heading","text"} on stdin -> one JSON line each."""
    settings = settings_of(ctx)
    try:
        matcher = matcher_with_corrections(settings)
    except (ValueError, SpecAgentError) as err:
        _fail(str(err))
    if doc:
        _classify_doc(matcher, settings, doc, csv_path)
        return
    try:
        classify_stream(matcher, sys.stdin, sys.stdout)
    except InputError as err:
        _fail(str(err))


def matcher_with_corrections(settings: Settings):
    """The matcher, with the engineers' corrections of the index's feedback store when there is
    one (`<index>/feedback.db`); never creates the index folder."""
    from agent.feedback.store import DB_NAME, FeedbackStore, correction_examples
    from agent.match.corrections import CorrectingMatcher
    from agent.match.matcher import Matcher

    matcher = Matcher.from_settings(settings)
    if not (Path(settings.index_dir) / DB_NAME).is_file():
        return matcher
    corrections = correction_examples(FeedbackStore.open(settings))
    log.info("classifying with %d correction(s) from %s", len(corrections), settings.index_dir)
    return CorrectingMatcher.build(matcher, corrections)


def classify_stream(matcher, source: TextIO, sink: TextIO) -> int:
    """Classify JSON lines from `source` into `sink`, in order; InputError names a bad line."""
    count = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        record = _record(line, number)
        result = matcher.match(record["heading"], record.get("text") or "")
        out = {"id": record["id"], **result.to_dict()}
        sink.write(json.dumps(out, ensure_ascii=False) + "\n")
        count += 1
    sink.flush()
    return count


def _record(line: str, number: int) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise InputError(f"stdin line {number}: invalid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(record, dict) or not isinstance(record.get("heading"), str) or "id" not in record:
        raise InputError(f'stdin line {number}: expected an object with "id" and "heading" (and optional "text")')
    if record.get("text") is not None and not isinstance(record["text"], str):
        raise InputError(f'stdin line {number}: "text" must be a string')
    return {"id": str(record["id"]), "heading": record["heading"], "text": record.get("text") or ""}


def _classify_doc(matcher, settings: Settings, doc: str, csv_path: Path | None) -> None:
    from agent.index import SpecIndex
    from agent.match.corrections import CorrectingMatcher
    from agent.match.matcher import OutlineEntry

    try:
        clauses = list(SpecIndex.open(settings).clauses(doc))
    except SpecAgentError as err:
        _fail(str(err))
    entries = [OutlineEntry(number=c.number, heading=c.title, text=c.text, parents=tuple(c.parents)) for c in clauses]
    if isinstance(matcher, CorrectingMatcher):  # the index's spelling of the name, as corrections store it
        results = matcher.match_outline(entries, doc=next((c.doc for c in clauses if c.doc), doc))
    else:
        results = matcher.match_outline(entries)
    table = Table(title=f"Test matrix: {doc}")
    for col in ("clause", "title", "tests", "scores"):
        table.add_column(col)
    rows = []
    for e, r in zip(entries, results):
        tests = "; ".join(f"{t.id} {t.name}" for t in r.tests) or "-"
        scores = " ".join(f"{t.score:.2f}" for t in r.tests)
        table.add_row(e.number, e.heading, tests, scores)
        rows.append([e.number, e.heading, " ".join(str(t.id) for t in r.tests), tests, scores, str(r.abstain).lower()])
    Console().print(table)
    if csv_path:
        with csv_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["clause", "title", "test_ids", "tests", "scores", "abstain"])
            writer.writerows(rows)
        typer.echo(f"wrote {len(rows)} clauses to {csv_path}")


@eval_app.command("match")
def eval_match(
    ctx: typer.Context,
    file: Path | None = typer.Argument(None, help='JSON lines {"id","heading","text","tests"[, "spec"]}; default: the seed labels.'),
    labels: Path | None = typer.Option(None, "--labels", help="Folder of labels files to evaluate (and learn from)."),
    baseline: bool = typer.Option(False, "--baseline", help="Also score the prototype-like TF-IDF baseline."),
    errors: bool = typer.Option(False, "--errors", help="List every disagreement."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    simulate: list[str] | None = typer.Option(
        None, "--simulate-corrections", metavar="N",
        help="Learning curve: N corrected headings per held-out spec (the first N labelled ones); "
             "repeat it or give a list (0,1,3,5); 'default' = 0,1,3,5."),
    cold: bool = typer.Option(False, "--cold", help="With --simulate-corrections: the held-out spec is a new "
                              "OEM; only the catalogue and its N corrections teach the matcher."),
) -> None:
    """Top-1/top-3 on labelled headings, abstention on unlabelled ones, leave-one-spec-out."""
    from agent.match.evaluate import (
        BaselineMatcher,
        confusion_table,
        errors_table,
        evaluate,
        summary_table,
    )
    from agent.match.labels import read_jsonl_records, seed_examples
    from agent.match.matcher import Matcher

    settings = settings_of(ctx, labels_dir=str(labels) if labels else None)
    try:
        matcher = Matcher.from_settings(settings)
        records = read_jsonl_records(file) if file else seed_examples(settings.labels_dir)
    except (ValueError, OSError) as err:
        _fail(str(err))
    if not records:
        _fail(f"no labelled headings in {file or settings.labels_dir or '(no labels folder)'}; "
              "give a FILE, --labels DIR or set SPEC_AGENT_LABELS")
    name = str(file or labels or "seed labels")
    if simulate:
        _learning_curve(records, matcher, name, simulate, as_json, cold)
        return
    reports = [evaluate(records, matcher, name=f"matcher ({'LOSO' if not file else 'records'})")]
    if baseline:
        reports.append(evaluate(records, BaselineMatcher(matcher.catalogue, matcher.examples), name="baseline (TF-IDF cosine)"))
    if as_json:
        typer.echo(json.dumps({"data": name, **{r.name: r.summary() for r in reports}}))
        return
    console = Console()
    console.print(f"evaluated {len(records)} headings from {name}")
    console.print(summary_table(reports))
    console.print(confusion_table(reports[0], matcher.catalogue))
    if errors:
        console.print(errors_table(reports[0]))


DEFAULT_CORRECTIONS = (0, 1, 3, 5)


def correction_counts(values: list[str]) -> list[int]:
    """'0,1,3,5', repeated values and 'default' -> sorted distinct counts; ValueError otherwise."""
    counts: set[int] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part.lower() == "default":
                counts.update(DEFAULT_CORRECTIONS)
            elif part.isdigit():
                counts.add(int(part))
            else:
                raise ValueError(f"--simulate-corrections: {part!r} is not a count of corrections "
                                 "(give e.g. 0,1,3,5 or 'default')")
    return sorted(counts)


def _learning_curve(records, matcher, name: str, values: list[str], as_json: bool, cold: bool = False) -> None:
    from agent.match.evaluate import learning_table, simulate_corrections

    try:
        counts = correction_counts(values)
    except ValueError as err:
        _fail(str(err))
    held = max(counts)  # every N scored on the same headings: the first max(N) of each spec stay out
    points = [simulate_corrections(records, matcher, n, held=held, cold=cold) for n in counts]
    if as_json:
        typer.echo(json.dumps({"data": name, "simulate_corrections": [
            {"n": p.n, "corrections": p.corrections, "scored": len(p.report.items), **p.report.summary()}
            for p in points]}))
        return
    console = Console()
    console.print(f"evaluated {len(records)} headings from {name}")
    console.print(learning_table(points))


@eval_app.command("qa")
def eval_qa(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Question set, JSON lines (tests/fixtures/qa/*.jsonl)."),
    docs: Optional[list[Path]] = typer.Option(None, "--docs", help="The documents' files (PDF/DOCX, "
                                              "named by their stem); default: the question file's "
                                              "folder, the sample, ../shared/corpus."),
    errors: bool = typer.Option(False, "--errors", help="List every wrong answer."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    unscoped: bool = typer.Option(False, "--unscoped", help="Also ask every question without scoping "
                                  "it to its document (as typed in a chat over all documents)."),
    with_feedback: bool = typer.Option(False, "--with-feedback", help="Thumb every answer (up if right, "
                                       "down if wrong), ask again with retrieval steered by the thumbs."),
) -> None:
    """Offline answers right and cited, and evidence holding the value, per kind, beside a naive
    RAG baseline; table recall per document."""
    from agent.evaluate.run import evaluate_qa, failures, recall_lines, summary_table

    for path in docs or ():
        if not path.is_file():
            _fail(f"{path}: no such file; give the PDF or DOCX files the questions are about")
    try:
        result = evaluate_qa(file, settings_of(ctx), files=docs or (), with_feedback=with_feedback,
                             unscoped=unscoped)
    except (ValueError, OSError, SpecAgentError) as err:
        _fail(str(err))
    if as_json:
        typer.echo(json.dumps({"data": str(file), "notes": result.notes,
                               **{r.name: r.summary() for r in result.reports},
                               "table_recall": {r.doc: {"printed": len(r.printed), "indexed": len(r.indexed),
                                                        "missing": list(r.missing)} for r in result.recall}},
                              ensure_ascii=False))
        return
    console = Console()
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(summary_table(result.reports))
    for line in recall_lines(result.recall):
        console.print(line)
    if errors:
        for report in result.reports[:1]:
            console.print("\n".join(failures(report)) or "no wrong answers")


def keywords(
    ctx: typer.Context,
    text: str | None = typer.Argument(None, help="Text to extract keywords from."),
    clause: str | None = typer.Option(None, "--clause", help="Use this clause's text from the index."),
    doc: str | None = typer.Option(None, "--doc", help="Document of --clause."),
    n: int = typer.Option(10, "-n", help="How many keywords."),
) -> None:
    """Keywords of a text or an indexed clause (YAKE, domain stop words), one per line with its score."""
    from agent.match.keywords import extract_keywords

    if bool(text) == bool(clause):
        _fail("give either TEXT or --clause REF (with --doc NAME when several documents have it)")
    if clause:
        from agent.index import SpecIndex

        try:
            view = SpecIndex.open(settings_of(ctx)).get_clause(clause, doc=doc)
        except SpecAgentError as err:
            _fail(str(err))
        text = f"{getattr(view, 'title', '')}\n{getattr(view, 'text', '')}"
    for keyword, score in extract_keywords(text or "", n=n):
        typer.echo(f"{score:.4f}\t{keyword}")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
    app.command("keywords")(keywords)
    app.add_typer(eval_app, name="eval")
