"""Extraction of one stored document in a sandboxed child process, under the fact caps.

The extractor is a pure library with no bound of its own; here it runs where file reading
runs (a forked child with memory and CPU limits and a deadline), with `max_facts` set from
the document's length, so one hostile text costs a failed document, never the pod.
"""

from __future__ import annotations

from typing import Any

from chiso_ingest import extraction
from chiso_ingest.formats import Sandbox
from chiso_shared.facts import Fact


class ExtractionRefused(Exception):
    """The document cannot be extracted within the limits; retrying would not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def extract_in_sandbox(
    sandbox: Sandbox,
    text: str,
    *,
    doc: str,
    published: str | None,
    scope: str | None,
    max_facts: int,
) -> list[Fact]:
    """The document's facts; `ExtractionRefused` over a limit, `RuntimeError` if the child
    ended without an answer (worth another attempt)."""
    message = await sandbox.call(
        extraction.extract, text, doc=doc, published=published, scope=scope, max_facts=max_facts
    )
    kind = message[0]
    if kind == "ok":
        facts: list[Fact] = message[1]
        return facts
    raise _refusal(message, len(text), sandbox)


def _refusal(message: tuple[Any, ...], chars: int, sandbox: Sandbox) -> Exception:
    kind = message[0]
    if kind == "too_many_facts":
        _, found, limit, stopped = message
        counted = f"{found}+" if stopped else str(found)
        return ExtractionRefused(
            f"Tài liệu có quá nhiều số liệu: {counted}, vượt giới hạn {limit} cho {chars} ký "
            "tự; tài liệu không được trích xuất. / "
            f"The document gives too many facts: {counted}, over the limit of {limit} for its "
            f"{chars} characters (settings max_facts, max_facts_per_1000_chars); it was not "
            "extracted."
        )
    if kind == "timeout":
        seconds = f"{sandbox.limits.timeout:g}"
        return ExtractionRefused(
            f"Trích xuất tài liệu mất hơn {seconds} giây nên đã bị dừng. / "
            f"Extracting the document took longer than {seconds} s; it was stopped."
        )
    if kind == "memory" or (kind == "died" and (message[1] or 0) < 0):
        return ExtractionRefused(
            "Trích xuất tài liệu cần nhiều bộ nhớ hoặc CPU hơn giới hạn nên đã bị dừng. / "
            "Extracting the document needed more memory or CPU than allowed; it was stopped."
        )
    if kind == "died":
        return RuntimeError("the extraction process ended without an answer")
    return RuntimeError(f"extraction failed: {message[1:]}")
