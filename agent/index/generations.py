"""Index generations on disk: the CURRENT pointer, atomic switch, writer lock, clean-up."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from agent.errors import SpecAgentError

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
LOCK = "lock"
_GEN = re.compile(r"^gen-(\d{6})$")


def current(root: Path) -> Path | None:
    """The generation CURRENT names, or None for an index never written."""
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not _GEN.match(name):
        raise SpecAgentError(f"{root / CURRENT}: damaged ({name[:40]!r}); delete {root} and ingest again.")
    return root / name


def new_generation(root: Path) -> Path:
    """A fresh, empty generation folder numbered after every one on disk."""
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := _GEN.match(p.name))]
    path = root / f"gen-{max(numbers, default=0) + 1:06d}"
    path.mkdir()
    return path


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Every file of `folder`, then the folder itself, flushed to disk."""
    for path in folder.iterdir():
        if path.is_file():
            fsync_path(path)
    fsync_path(folder)


def switch(root: Path, generation: Path) -> None:
    """Point CURRENT at `generation` atomically (write temp, fsync, os.replace, fsync dir)."""
    fsync_tree(generation)
    tmp = root / f"{CURRENT}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(generation.name + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, root / CURRENT)
    fsync_path(root)
    log.info("index switched to %s", generation.name)


def remove_stale(root: Path) -> None:
    """Delete every generation but the current one (old ones and those of killed writers)."""
    keep = current(root)
    for path in root.iterdir():
        if _GEN.match(path.name) and path != keep:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Hold the index's writer lock (fcntl.flock); another writer gets a clear error."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SpecAgentError(
                f"{root}: another spec-agent ingest is writing this index; wait for it to finish and retry."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
