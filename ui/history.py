"""Who changed which document from the chat: a JSON line per upload that became a document
(`<index>/uploads/history.jsonl`), and the notes the document list shows ("replaced by ada on …")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

HISTORY = "history.jsonl"
ANONYMOUS = "anonymous"  # the chat's user without login


def record(folder: Path, doc: str, status: str, user: str, file: str, sha256: str,
           was: Mapping[str, Any] | None) -> None:
    """Append that `user` added or replaced `doc` (was: the indexed one's pages, clauses, hash)."""
    entry = {"doc": doc, "status": status, "user": user, "file": file, "sha256": sha256,
             "at": datetime.now().astimezone().isoformat(timespec="minutes"),
             "was": {k: was[k] for k in ("pages", "clauses", "sha256")} if was else None}
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / HISTORY).open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def change_notes(folder: Path, docs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """doc → its note, for documents whose indexed content came from a chat upload (a later CLI
    ingest of other content makes the note go)."""
    path = folder / HISTORY
    if not path.is_file():
        return {}
    current = {d["doc"]: d.get("sha256") for d in docs}
    latest: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and current.get(entry.get("doc")) == entry.get("sha256"):
            latest[entry["doc"]] = entry
    return {doc: note for doc, entry in latest.items() if (note := _note(entry))}


def _note(entry: Mapping[str, Any]) -> str:
    """ "replaced by ada on 2026-05-04 14:03 (was 280 pages, 377 clauses)"; without login
    "replaced in the chat on …"; an added document only names a logged-in user."""
    when = str(entry.get("at", ""))[:16].replace("T", " ")
    known = entry.get("user") not in (None, "", ANONYMOUS)
    who = f"by {entry['user']}" if known else "in the chat"
    if entry.get("status") != "replaced":
        return f"added {who} on {when}" if known else ""
    was = entry.get("was") or {}
    return f"replaced {who} on {when}" + (f" (was {was['pages']} pages, {was['clauses']} clauses)" if was else "")


def listed_documents(assistant: Any) -> list[dict[str, Any]]:
    """The indexed documents, each with the note of its last chat upload under "changed"."""
    docs = assistant.documents()
    notes = change_notes(Path(assistant.settings.index_dir) / "uploads", docs)
    return [{**d, "changed": notes[d["doc"]]} if d["doc"] in notes else dict(d) for d in docs]
