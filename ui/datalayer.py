"""The chat's persistence: Chainlit's SQLAlchemy data layer on SQLite (`<index>/chat.db`),
with its schema created here and thumbs also recorded in the assistant's feedback store."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.types import Feedback

log = logging.getLogger(__name__)

DB_NAME = "chat.db"

# The columns Chainlit 2.12's SQLAlchemyDataLayer reads and writes (chainlit/data/sql_alchemy.py,
# StepDict, ElementDict, types.Feedback). `feedback_links` is ours: Chainlit feedback id → row in
# the feedback store, so an edited or deleted thumb replaces or removes its store row.
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    "id" TEXT PRIMARY KEY, "identifier" TEXT NOT NULL UNIQUE, "metadata" TEXT NOT NULL DEFAULT '{}',
    "createdAt" TEXT);
CREATE TABLE IF NOT EXISTS threads (
    "id" TEXT PRIMARY KEY, "createdAt" TEXT, "name" TEXT, "userId" TEXT, "userIdentifier" TEXT,
    "tags" TEXT, "metadata" TEXT);
CREATE TABLE IF NOT EXISTS steps (
    "id" TEXT PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT NOT NULL, "threadId" TEXT NOT NULL,
    "parentId" TEXT, "command" TEXT, "modes" TEXT, "streaming" BOOLEAN NOT NULL DEFAULT 0,
    "waitForAnswer" BOOLEAN, "isError" BOOLEAN, "metadata" TEXT, "tags" TEXT, "input" TEXT,
    "output" TEXT, "createdAt" TEXT, "start" TEXT, "end" TEXT, "generation" TEXT, "showInput" TEXT,
    "defaultOpen" BOOLEAN, "autoCollapse" BOOLEAN, "language" TEXT, "icon" TEXT, "indent" INTEGER);
CREATE TABLE IF NOT EXISTS elements (
    "id" TEXT PRIMARY KEY, "threadId" TEXT, "type" TEXT, "url" TEXT, "chainlitKey" TEXT,
    "name" TEXT NOT NULL, "display" TEXT, "objectKey" TEXT, "size" TEXT, "page" INTEGER,
    "language" TEXT, "forId" TEXT, "mime" TEXT, "props" TEXT, "autoPlay" BOOLEAN,
    "playerConfig" TEXT);
CREATE TABLE IF NOT EXISTS feedbacks (
    "id" TEXT PRIMARY KEY, "forId" TEXT NOT NULL, "threadId" TEXT, "value" INTEGER NOT NULL,
    "comment" TEXT);
CREATE TABLE IF NOT EXISTS feedback_links (
    "feedbackId" TEXT PRIMARY KEY, "storeId" INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS steps_thread ON steps("threadId");
CREATE INDEX IF NOT EXISTS elements_thread ON elements("threadId");
CREATE INDEX IF NOT EXISTS feedbacks_for ON feedbacks("forId");
"""


def create_schema(path: Path) -> None:
    """Create chat.db's tables if they are missing (safe to run at every start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)


class ChatDataLayer(SQLAlchemyDataLayer):
    """Chainlit's SQLite persistence; a thumb on an answer also goes to the feedback store
    (`add_feedback(answer_id, +1/-1, comment, user)`), found through the message's metadata."""

    def __init__(self, index_dir: Path, feedback: Any) -> None:
        self.path = Path(index_dir) / DB_NAME
        create_schema(self.path)
        super().__init__(conninfo=f"sqlite+aiosqlite:///{self.path}")
        self.feedback_store = feedback

    async def upsert_feedback(self, feedback: Feedback) -> str:
        feedback_id = await super().upsert_feedback(feedback)
        try:
            await self._record(feedback_id, feedback)
        except Exception:  # the thumb is kept in chat.db; the store only misses it
            log.exception("feedback %s not recorded in the feedback store", feedback_id)
        return feedback_id

    async def delete_feedback(self, feedback_id: str) -> bool:
        await self._unlink(feedback_id)
        return await super().delete_feedback(feedback_id)

    async def _record(self, feedback_id: str, feedback: Feedback) -> None:
        step = await self.get_step(feedback.forId)
        answer_id = await self._answer_id(feedback.forId)
        if answer_id is None:
            log.info("feedback on step %s, which is not an answer; kept in chat.db only", feedback.forId)
            return
        await self._unlink(feedback_id)
        user = await self._user_of(feedback.threadId or (step or {}).get("threadId"))
        saved = self.feedback_store.add_feedback(int(answer_id), 1 if feedback.value == 1 else -1,
                                                 feedback.comment or "", user)
        await self.execute_sql('INSERT INTO feedback_links ("feedbackId", "storeId") VALUES (:f, :s)',
                               {"f": feedback_id, "s": saved.id})

    async def _answer_id(self, step_id: str) -> int | None:
        """The answer a thumb is on: the step's own metadata, or (Chainlit 2.12 puts the thumb
        on the `on_message` run) the last answer message inside that run."""
        rows = await self.execute_sql(
            'SELECT "metadata" FROM steps WHERE "id" = :id OR ("parentId" = :id AND "type" = '
            "'assistant_message') ORDER BY \"createdAt\"", {"id": step_id})
        found = None
        for row in rows if isinstance(rows, list) else []:
            metadata = row.get("metadata") or "{}"
            metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
            if isinstance(metadata, dict) and metadata.get("answer_id") is not None:
                found = int(metadata["answer_id"])
        return found

    async def _unlink(self, feedback_id: str) -> None:
        rows = await self.execute_sql('SELECT "storeId" FROM feedback_links WHERE "feedbackId" = :f',
                                      {"f": feedback_id})
        if isinstance(rows, list) and rows:
            self.feedback_store.remove_feedback(int(rows[0]["storeId"]))
            await self.execute_sql('DELETE FROM feedback_links WHERE "feedbackId" = :f', {"f": feedback_id})

    async def _user_of(self, thread_id: str | None) -> str:
        if not thread_id:
            return "anonymous"
        rows = await self.execute_sql('SELECT "userIdentifier" FROM threads WHERE "id" = :id', {"id": thread_id})
        name = rows[0].get("userIdentifier") if isinstance(rows, list) and rows else None
        return name or "anonymous"
