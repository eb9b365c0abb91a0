"""Read untrusted files in a child process that can be killed and cannot take the host's memory.

A parser fed a hostile PDF or DOCX may loop, recurse or inflate without end, and a thread
running it cannot be stopped. Each file is therefore read in its own process, forked from a
server that has already imported the readers (so a read costs milliseconds, not an
interpreter start), with an address-space limit and a CPU-time limit, under a wall-clock
deadline after which the process is killed. A bounded number of reads run at once.

Extraction runs the same way (`Sandbox.call` with the extractor), under its own limits: a text
of bare numbers must not take the server's memory or time either.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from chiso_ingest.extraction import TooManyFacts
from chiso_ingest.formats.base import Limits, Parsed
from chiso_shared import errors
from chiso_shared.errors import ChisoError, ServiceUnavailable, Unprocessable

_PRELOAD = ["chiso_ingest.formats.preload"]
_preload_lock = threading.Lock()


@dataclass(frozen=True)
class SandboxLimits:
    timeout: float  # wall-clock seconds for one file
    memory_bytes: int  # address space of the child process; 0 for no limit
    parallel: int  # files read at once; more wait their turn


def _child(
    conn: Connection,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    memory_bytes: int,
    cpu_seconds: int,
) -> None:
    """Runs in the child: apply the limits, call, send back the result or the refusal."""
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        message: tuple[Any, ...] = ("ok", function(*args, **kwargs))
    except TooManyFacts as exc:
        message = ("too_many_facts", exc.found, exc.limit, exc.counting_stopped)
    except ChisoError as exc:
        if _out_of_memory(exc) or _near_limit(memory_bytes):
            message = ("memory",)
        else:
            message = ("refused", type(exc).__name__, exc.detail, exc.code)
    except MemoryError:
        message = ("memory",)
    except RecursionError:
        message = ("broken", "its structure nests too deeply")
    except Exception as exc:  # a parser's own failure on a malformed file
        message = ("broken", f"{type(exc).__name__}: {str(exc)[:200]}")
    try:
        conn.send(message)
    finally:
        conn.close()


def _out_of_memory(exc: BaseException) -> bool:
    """Whether a reader's refusal was caused by the memory limit: a parser may wrap the
    MemoryError, and libxml2 reports a failed allocation as a syntax error."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, MemoryError) or "memory allocation failed" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _near_limit(memory_bytes: int) -> bool:
    """Whether this process came close to its address-space limit: libxml2, for one, reports
    a failed allocation only as an "unknown error", so a refusal is blamed on the limit when
    the peak reached three quarters of it."""
    if not memory_bytes:
        return False
    try:
        # Bytes, not text: opening it as text could import a codec, and an import is the
        # kind of allocation that fails this close to the limit.
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmPeak:"):
                    return int(line.split()[1]) * 1024 >= memory_bytes * 3 // 4
    except MemoryError:
        return True  # even this small read did not fit: the limit was reached
    except (OSError, ValueError, IndexError):
        return False
    return False


class Sandbox:
    """Runs a function in a killable, memory-limited child process (one per call)."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self._slots = asyncio.Semaphore(limits.parallel)
        self._context = multiprocessing.get_context("forkserver")
        with _preload_lock:
            self._context.set_forkserver_preload(_PRELOAD)

    def warm_up(self) -> None:
        """Start the fork server now, so the first upload does not wait for its imports."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    async def call(
        self, function: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> tuple[Any, ...]:
        """`function(*args, **kwargs)` in a child: ("ok", result), or what stopped it.

        `function` must be importable by name (a module-level function): the child gets it by
        reference, so it is the function as the module defines it when the child loads it.
        """
        async with self._slots:
            return await asyncio.to_thread(self._run, function, args, kwargs)

    def _run(
        self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        receiver, sender = self._context.Pipe(duplex=False)
        cpu_seconds = max(1, int(self.limits.timeout) + 1)
        process = self._context.Process(
            target=_child,
            args=(sender, function, args, kwargs, self.limits.memory_bytes, cpu_seconds),
            daemon=True,
        )
        process.start()
        sender.close()
        try:
            if not receiver.poll(self.limits.timeout):
                return ("timeout",)
            try:
                message: tuple[Any, ...] = receiver.recv()
            except EOFError:  # the child died without answering
                process.join(1)
                return ("died", process.exitcode)
            return message
        finally:
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join()
            process.close()


class ReaderSandbox(Sandbox):
    """Reads files in killable, memory-limited child processes (one per file)."""

    async def read(
        self, content: bytes, media_type: str, limits: Limits, accepted: Collection[str]
    ) -> Parsed:
        from chiso_ingest.formats import read

        message = await self.call(read, content, media_type, limits, list(accepted))
        return _result(message, media_type, self.limits)


def _result(message: tuple[Any, ...], media_type: str, limits: SandboxLimits) -> Parsed:
    kind = message[0]
    if kind == "ok":
        parsed: Parsed = message[1]
        return parsed
    if kind == "refused":
        _, name, detail, code = message
        error_class = getattr(errors, name, Unprocessable)
        if not (isinstance(error_class, type) and issubclass(error_class, ChisoError)):
            error_class = Unprocessable
        raise error_class(detail, code=code)
    if kind == "timeout":
        raise Unprocessable(
            f"Reading the {media_type} file took longer than {limits.timeout:g} s; it was refused.",
            code="ingest.parse_timeout",
        )
    if kind == "died" and (message[1] or 0) >= 0:
        raise ServiceUnavailable(
            "The process that reads files ended without an answer; try again.",
            code="ingest.reader_failed",
        )
    if kind in ("memory", "died"):  # MemoryError, or killed by the CPU or memory limit
        raise Unprocessable(
            f"Reading the {media_type} file needed more memory or CPU than a read may use; "
            "it was refused.",
            code="ingest.parse_limit",
        )
    raise Unprocessable(
        f"The {media_type} file could not be read ({message[1]}).", code="ingest.unreadable"
    )
