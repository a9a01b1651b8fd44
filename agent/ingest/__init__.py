"""Ingestion entry points: check a file, sniff its real type, dispatch to the PDF or DOCX parser."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import Settings
from agent.errors import IngestError, TooLarge
from agent.ingest import sniff
from agent.ingest.isolate import parse_isolated
from agent.schema import Document

if TYPE_CHECKING:  # pdf.py imports PyMuPDF: loaded when a PDF is parsed
    from agent.ingest.pdf import TablePlan

log = logging.getLogger(__name__)

__all__ = ["file_sha256", "parse_file", "parse_isolated"]

MB = 1024 * 1024


def parse_file(path: str | Path, settings: Settings, *, tables: TablePlan | None = None) -> Document:
    """Parse one PDF or DOCX in this process; raises the IngestError a user should see.

    `tables` keeps PyMuPDF's table finder off the pages where it crashed before (isolate.py)."""
    path = Path(path)
    _check_size(path, settings.max_file_mb)
    kind = sniff.check(path, settings.max_file_mb)
    digest = file_sha256(path)
    log.info("%s: parsing as %s", path.name, kind)
    if kind == "pdf":
        from agent.ingest.pdf import TablePlan, parse_pdf

        return parse_pdf(path, settings, name=path.stem, sha256=digest, tables=tables or TablePlan())
    from agent.ingest.docx import parse_docx

    return parse_docx(path, settings, name=path.stem, sha256=digest)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(MB), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_size(path: Path, max_mb: float) -> None:
    if not path.exists():
        raise IngestError(str(path), "file not found")
    if not path.is_file():
        raise IngestError(str(path), "not a file (a folder?)")
    size = path.stat().st_size
    if size > max_mb * MB:
        raise TooLarge(str(path), f"file too large ({_size(size)}, the limit is {max_mb:g} MB)")


def _size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB // 10 else f"{size / 1024:.0f} KB"
