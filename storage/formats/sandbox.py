"""Read one document in a child process that is killed when it takes too long or too much.

    doc = extract_isolated("pdf", data, Limits(seconds=600, memory_mb=1536))

PDF, Word and web-page readers parse untrusted, sometimes hostile files (decompression
bombs, deeply nested objects, files that make a parser loop). Each such file is read in
a fresh child process with an address-space limit and a CPU limit, in its own process
group (so an OCR subprocess dies with it), and killed at the deadline. Whatever goes
wrong comes back as an ExtractError with the reason for the index report; the caller's
process is never at risk.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from storage.formats import Extracted, ExtractError, Limits, extract
from storage.lifetime import exit_with

Reader = Callable[[str, bytes, Limits], Extracted]


def _child(
    send: Connection, reader: Reader, fmt: str, data: bytes, limits: Limits, parent: int
) -> None:
    """Child side: limit itself, read the document, send it back (or the reason it failed)."""
    os.setpgrp()  # its own group: the parent kills OCR subprocesses with it
    memory_mb = limits.memory_mb
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = int(limits.seconds) + 5  # a backstop should the parent be gone
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    exit_with(parent)
    try:
        result: tuple[str, object] = ("ok", reader(fmt, data, limits))
    except ExtractError as exc:
        result = ("error", str(exc))
    except MemoryError:
        result = ("error", f"needs more than {memory_mb} MB of memory to read (limit)")
    except RecursionError:
        result = ("error", "structure nested too deeply to read")
    except Exception as exc:  # a parser's own bug on a strange file: a reason, not a crash
        result = ("error", f"could not be read ({type(exc).__name__}: {str(exc)[:200]})")
    try:
        send.send(result)
    except MemoryError:
        send.send(("error", f"needs more than {memory_mb} MB of memory to read (limit)"))
    send.close()


def extract_isolated(
    fmt: str, data: bytes, limits: Limits, reader: Reader = extract
) -> Extracted:
    """`reader(fmt, data, limits)` in a child process stopped at `limits.seconds` / `memory_mb`.

    `reader` must be a module-level function (the child imports it by name).
    """
    # forkserver: the caller may have threads (the bot's), where a plain fork is unsafe.
    context = multiprocessing.get_context("forkserver")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(send, reader, fmt, data, limits, os.getpid()), daemon=True
    )
    seconds, started = limits.seconds, time.monotonic()
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise ExtractError(f"reading took longer than {seconds:.0f} s (limit): stopped")
        try:
            status, payload = receive.recv()
        except (EOFError, OSError):
            child.join(max(0.0, seconds - (time.monotonic() - started)))
            raise ExtractError(_death(child.exitcode, limits.memory_mb)) from None
    finally:
        _kill(child)
        receive.close()
    if status != "ok" or not isinstance(payload, Extracted):
        raise ExtractError(str(payload))
    return payload


def _death(exitcode: int | None, memory_mb: int) -> str:
    """Why a child that sent nothing ended."""
    if exitcode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
        return f"the reader crashed (signal {-exitcode}); the file may be damaged or need more " \
               f"than {memory_mb} MB"
    if exitcode == -signal.SIGXCPU:
        return "reading used too much CPU time (limit): stopped"
    return f"the reader stopped unexpectedly (exit code {exitcode})"


def _kill(child: multiprocessing.process.BaseProcess) -> None:
    """End the child and its process group (an OCR run it started), then reap it."""
    if child.pid is not None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    child.join(5)
