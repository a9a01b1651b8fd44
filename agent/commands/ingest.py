"""CLI commands `ingest`, `docs`, `show` and `search` over the document index."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from agent.cli import settings_of
from agent.config import Settings
from agent.errors import SpecAgentError
from agent.index.refs import looks_like_table

if TYPE_CHECKING:  # the index pulls FAISS, SciPy and LangChain: loaded when a command runs
    from agent.index import ClauseView, SpecIndex
    from agent.index import Progress as IngestProgress
from agent.schema import IngestOutcome, Table, to_dict


def open_index(settings: Settings, reindex: bool = False) -> "SpecIndex":
    from agent.index import SpecIndex

    """The index the commands work on (tests replace this to inject a parser)."""
    return SpecIndex.open(settings, reindex=reindex)


def _fail(err: Exception) -> typer.Exit:
    typer.echo(str(err), err=True)
    return typer.Exit(1)


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def table_json(table: Table) -> dict[str, Any]:
    return {"id": table.id, "caption": table.caption, "clause": table.clause, "page": table.page,
            "header": [list(r) for r in table.header], "rows": [list(r) for r in table.rows]}


def clause_json(view: "ClauseView") -> dict[str, Any]:
    c = view.clause
    return {
        "doc": c.doc, "clause": c.number, "title": c.title, "page": c.page, "page_label": c.page_label,
        "text": c.text,
        "parents": [{"clause": n, "title": t} for n, t in view.parents],
        "children": [{"clause": n, "title": t} for n, t in view.children],
        "tables": [table_json(t) for t in view.tables],
    }


def outcome_line(o: IngestOutcome) -> str:
    if o.status == "failed":
        return f"failed     {o.message}"
    return f"{o.status:<10} {o.doc}  ({o.pages} pages, {o.clauses} clauses, {o.tables} tables)"


def _progress_bar(console: Console) -> tuple[Progress, Callable[["IngestProgress"], None]]:
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), console=console, transient=True,
                   disable=not console.is_terminal)
    task = bar.add_task("parsing", total=None, rate="")
    started = time.perf_counter()

    def update(p: "IngestProgress") -> None:
        rate = p.pages_done / max(time.perf_counter() - started, 1e-6)
        what = {"parse": f"parsing {Path(p.path).name}", "embed": "embedding", "write": "writing",
                "done": "done"}[p.stage]
        bar.update(task, description=what, total=p.files_total, completed=p.files_done,
                   rate=f"{rate:.1f} pages/s" if p.pages_done else "")

    return bar, update


def ingest(
    ctx: typer.Context,
    paths: list[Path] | None = typer.Argument(None, help="PDF/DOCX files or folders (searched recursively)."),
    max_mb: float | None = typer.Option(None, "--max-mb", help="Largest file to ingest, in MB."),
    parse_timeout: float | None = typer.Option(None, "--parse-timeout", help="Seconds one file may parse."),
    embedder: str | None = typer.Option(None, "--embedder", help="auto | lsa | ollama:<model> | sentence-transformers:<name>."),
    reindex: bool = typer.Option(False, "--reindex", help="Re-chunk and re-embed every document (e.g. new embedder)."),
) -> None:
    """Add specifications to the index; one line per file. Exit 1 if any file failed."""
    if not paths and not reindex:
        raise _fail(ValueError("give PDF/DOCX files or folders to ingest (or --reindex)"))
    settings = settings_of(ctx, max_file_mb=max_mb, parse_timeout_s=parse_timeout, embedder=embedder)
    bar, update = _progress_bar(Console(stderr=True))
    try:
        index = open_index(settings, reindex=reindex)
        with bar:
            outcomes = index.ingest(paths or [], update, reindex=reindex)
    except (SpecAgentError, ValueError) as err:
        raise _fail(err) from None
    for outcome in outcomes:  # failures on stderr, so scripts can tell them from what was indexed
        typer.echo(outcome_line(outcome), err=outcome.status == "failed")
    if reindex:
        typer.echo(f"reindexed  {len(index.documents())} documents with {index.embedder_id}")
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


def docs(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """List the indexed documents."""
    try:
        documents = open_index(settings_of(ctx)).documents()
    except (SpecAgentError, ValueError) as err:
        raise _fail(err) from None
    rows = [{"doc": d.name, "pages": d.pages, "clauses": len(d.clauses), "tables": len(d.tables),
             "sha256": d.sha256} for d in documents]
    if as_json:
        _emit(rows)
    elif not rows:
        typer.echo("no documents yet; run `spec-agent ingest FILE`")
    for r in rows if not as_json else []:
        typer.echo(f"{r['doc']}  {r['pages']} pages, {r['clauses']} clauses, {r['tables']} tables  {r['sha256'][:12]}")


def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help='A clause number ("5.21") or a table id ("Table VIII").'),
    doc: str | None = typer.Option(None, "--doc", help="Document name, e.g. MIL-STD-461G."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Show one clause (with parents, children and tables) or one table."""
    try:
        index = open_index(settings_of(ctx))
        if looks_like_table(ref):
            table = index.get_table(ref, doc)
            data: dict[str, Any] = {"doc": table.doc, "table": table_json(table)}
            text = _table_text(table)
        else:
            view = index.get_clause(ref, doc)
            data, text = clause_json(view), _clause_text(view)
    except (SpecAgentError, ValueError) as err:
        raise _fail(err) from None
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def _clause_text(view: "ClauseView") -> str:
    c = view.clause
    lines = [f"{c.doc} {c.number} {c.title}  (page {c.page_label or c.page})"]
    lines += [" > ".join(f"{n} {t}" for n, t in view.parents)] if view.parents else []
    lines += ["", c.text]
    lines += ["", "Subclauses:"] + [f"  {n} {t}" for n, t in view.children] if view.children else []
    lines += [""] + [_table_text(t) for t in view.tables]
    lines += [f"(also in {', '.join(view.others)}; use --doc)"] if view.others else []
    return "\n".join(lines).rstrip()


def _table_text(table: Table) -> str:
    from agent.index.chunks import markdown_table

    return f"{table.doc} {table.id} {table.caption}  (page {table.page})\n{markdown_table(table)}"


def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="Words, a clause number or a table id."),
    k: int | None = typer.Option(None, "--k", help="Number of hits (default SPEC_AGENT_TOP_K)."),
    doc: str | None = typer.Option(None, "--doc", help="Only this document."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Hybrid (BM25 + vector) search over clause and table chunks."""
    try:
        hits = open_index(settings_of(ctx)).search(query, k, doc)
    except (SpecAgentError, ValueError) as err:
        raise _fail(err) from None
    rows = [{key: to_dict(h)[key] for key in ("doc", "clause", "title", "page", "table", "text", "score")}
            for h in hits]
    if as_json:
        _emit(rows)
        return
    for r in rows:
        where = r["table"] or r["clause"]
        first = r["text"].split("\n", 1)[-1].strip().replace("\n", " ")[:160]
        typer.echo(f"{r['score']:.3f}  {r['doc']} {where} {r['title'] or ''} (p. {r['page']})\n       {first}")
    if not rows:
        typer.echo("no hits")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("docs")(docs)
    app.command("show")(show)
    app.command("search")(search)
