"""A local journal of audit entries not yet in the database, so that a crash loses none.

The audit writer answers requests before their rows are committed (see `AuditWriter`). Each
writer process therefore also appends every entry to its own file here, with one `os.write`
before the response's last byte: in the kernel's page cache, it survives the process being
killed (kill -9, the OOM killer, a container restart on the same volume), though not a power
cut. After each committed batch the writer appends a mark (`{"committed": n}`: the first n
entries of the file are in the database), and once everything is committed it truncates the
file. A process that starts takes over the files that no live process holds (each owner keeps
an exclusive `flock` on its own) and replays their uncommitted entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import uuid
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from chiso_gateway.audit import AuditEntry

logger = logging.getLogger("chiso.gateway.audit")
SUFFIX = ".journal"


def encode(entry: AuditEntry) -> bytes:
    data: dict[str, Any] = dict(vars(entry))
    data["ts"] = entry.ts.isoformat()
    return json.dumps({"entry": data}, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(data: dict[str, Any]) -> AuditEntry:
    # a line journalled before a field existed lacks it: the field's default then
    values = {field.name: data[field.name] for field in fields(AuditEntry) if field.name in data}
    values["ts"] = datetime.fromisoformat(values["ts"])
    return AuditEntry(**values)


def uncommitted(lines: list[bytes]) -> list[AuditEntry]:
    """The entries of a journal after its last commit mark (a torn last line is skipped)."""
    entries: list[AuditEntry] = []
    committed = 0
    for line in lines:
        try:
            record = json.loads(line)
            if "committed" in record:
                committed = int(record["committed"])
            else:
                entries.append(decode(record["entry"]))
        except (ValueError, KeyError, TypeError):
            logger.warning("an unreadable audit journal line was skipped")
    return entries[committed:] if committed <= len(entries) else []


class AuditJournal:
    """One process's journal file in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / f"{uuid.uuid4().hex}{SUFFIX}"
        self.fd: int | None = None
        self.entries = 0  # entries in the file since it was last emptied
        self.done = 0  # how many of those are in the database

    def open(self) -> list[AuditEntry]:
        """Create this process's file; return the uncommitted entries of dead processes' files
        (those files are removed: the caller journals the entries again in its own)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.fd = fd
        return self._adopt_orphans()

    def _adopt_orphans(self) -> list[AuditEntry]:
        adopted: list[AuditEntry] = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}"), key=_mtime):
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:  # another starting process took it first
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # its process is alive
                    continue
                with os.fdopen(os.dup(fd), "rb") as handle:
                    found = uncommitted(handle.read().splitlines())
                if found:
                    logger.warning(
                        "audit rows recovered from a process that stopped without writing them",
                        extra={"rows": len(found), "journal": path.name},
                    )
                adopted.extend(found)
                path.unlink(missing_ok=True)
            finally:
                os.close(fd)
        return adopted

    def write(self, entry: AuditEntry) -> None:
        if self.fd is not None:
            os.write(self.fd, encode(entry))
            self.entries += 1

    def committed(self, count: int, *, all_done: bool) -> None:
        """The next `count` entries (in order) are in the database; `all_done`: and nothing is
        waiting, so the file can be emptied."""
        if self.fd is None:
            return
        self.done += count
        if all_done and self.done >= self.entries:
            os.ftruncate(self.fd, 0)
            self.entries = self.done = 0
        else:
            os.write(self.fd, json.dumps({"committed": self.done}).encode() + b"\n")

    def close(self, *, all_done: bool) -> None:
        """Release the file; it is removed only when everything in it was committed."""
        if self.fd is None:
            return
        os.close(self.fd)
        self.fd = None
        if all_done:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
