"""Read documents in a child process that is killed when a file takes too long or too much.

    doc = extract_isolated("pdf", data, Limits(seconds=600, memory_mb=1536))

PDF, Word and web-page readers parse untrusted, sometimes hostile files (decompression
bombs, deeply nested objects, files that make a parser loop). They run in a reader
process of their own (`python -m storage.formats.sandbox`): its address space is
limited, it leads its own process group (so an OCR subprocess dies with it), it exits
when its parent is gone, and it is killed when a file passes its deadline — then the
next file starts a fresh one. Whatever goes wrong comes back as an ExtractError with
the reason for the index report; the caller's process is never at risk.

The reader process stays up between files (the readers' imports cost more than most
files take to read), is renewed every `FILES_PER_READER` files and ended with the index
run (`shutdown`).
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from storage.formats import Extracted, ExtractError, Limits, extract
from storage.lifetime import exit_with

Reader = Callable[[str, bytes, Limits], Extracted]

#: A reader process is replaced after this many files (bounds what fragmentation costs).
FILES_PER_READER = 64
_ROOT = Path(__file__).resolve().parents[2]
_HEADER = 8


def _memory_reason(memory_mb: int) -> str:
    return f"needs more than {memory_mb} MB of memory to read (limit)"


def _read_one(reader: Reader, fmt: str, data: bytes, limits: Limits) -> tuple[str, object]:
    """Reader side: one file → ("ok", Extracted) or ("error", reason)."""
    try:
        return "ok", reader(fmt, data, limits)
    except ExtractError as exc:
        return "error", str(exc)
    except MemoryError:
        return "error", _memory_reason(limits.memory_mb)
    except RecursionError:
        return "error", "structure nested too deeply to read"
    except Exception as exc:  # a parser's own bug on a strange file: a reason, not a crash
        return "error", f"could not be read ({type(exc).__name__}: {str(exc)[:200]})"


def serve(parent: int, memory_mb: int) -> None:
    """Reader process: answer length-prefixed pickled requests on stdin until it closes."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    exit_with(parent)
    global _replies
    requests = sys.stdin.buffer
    replies = _replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library that prints must not corrupt the replies
    while True:
        header = requests.read(_HEADER)
        if len(header) < _HEADER:
            return
        request = requests.read(int.from_bytes(header, "little"))
        try:
            reader, fmt, data, limits = pickle.loads(request)
            reply = pickle.dumps(_read_one(reader, fmt, data, limits))
        except MemoryError:
            reply = pickle.dumps(("error", _memory_reason(memory_mb)))
        except Exception as exc:  # e.g. a reader this process cannot import
            reply = pickle.dumps(("error", f"bad request ({type(exc).__name__}: {exc})"))
        del request
        _send(replies, reply)


def _send(replies: BinaryIO, frame: bytes) -> None:
    replies.write(len(frame).to_bytes(_HEADER, "little") + frame)
    replies.flush()


_replies: BinaryIO | None = None  # in a reader process: where its frames go
_ALIVE = pickle.dumps(("alive", None))


def page_done() -> None:
    """A reader finished one slow unit of work (an OCR'd page): the file's deadline moves on.

    Reading a file is stopped after `Limits.seconds`, not counting the pages read by OCR,
    each bounded by `Limits.ocr_page_seconds`. Outside a reader process this does nothing.
    """
    if _replies is not None:
        _send(_replies, _ALIVE)


class _ReaderProcess:
    """The parent's handle on one reader process."""

    def __init__(self, memory_mb: int):
        self.memory_mb = memory_mb
        self.files = 0
        path = os.environ.get("PYTHONPATH")
        env = dict(os.environ, PYTHONPATH=f"{_ROOT}{os.pathsep}{path}" if path else str(_ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "storage.formats.sandbox", str(os.getpid()), str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, grace: float = 0.0) -> int | None:
        """Kill the reader and its process group (an OCR run it started); its exit code.

        With `grace`, a reader that is ending by itself gets that long to say how it ended.
        """
        if grace:
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        return self.proc.wait()

    def ask(self, request: bytes, seconds: float, extension: float) -> tuple[str, object]:
        """Send one request and wait for its reply: `seconds`, plus `extension` after each
        page the reader says it finished (`page_done`)."""
        requests, replies = self.proc.stdin, self.proc.stdout
        if requests is None or replies is None:
            raise EOFError
        self.files += 1
        _send(requests, request)
        deadline = time.monotonic() + seconds
        while True:
            header = _read_exactly(replies, _HEADER, deadline)
            kind, payload = pickle.loads(
                _read_exactly(replies, int.from_bytes(header, "little"), deadline)
            )
            if kind != "alive":
                return kind, payload
            deadline = max(deadline, time.monotonic() + extension)


class _Timeout(Exception):
    pass


def _read_exactly(stream: BinaryIO, n: int, deadline: float) -> bytes:
    """`n` bytes from the reader's pipe before `deadline`; EOFError when it closed."""
    fd, parts, left = stream.fileno(), [], n
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise _Timeout
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


_lock = threading.Lock()
_current: _ReaderProcess | None = None


def extract_isolated(fmt: str, data: bytes, limits: Limits, reader: Reader = extract) -> Extracted:
    """`reader(fmt, data, limits)` in the reader process, stopped at `limits.seconds`/`memory_mb`.

    `reader` must be a module-level function (the reader process imports it by name).
    """
    global _current
    request = pickle.dumps((reader, fmt, data, limits))
    with _lock:
        process = _current
        if (
            process is None or not process.alive() or process.memory_mb != limits.memory_mb
            or process.files >= FILES_PER_READER
        ):
            if process is not None:
                process.kill()
            process = _current = _ReaderProcess(limits.memory_mb)
        try:
            status, payload = process.ask(request, limits.seconds, limits.ocr_page_seconds + 5)
        except _Timeout:
            process.kill()
            _current = None
            raise ExtractError(
                f"reading took longer than {limits.seconds:.0f} s (limit): stopped"
            ) from None
        except (EOFError, BrokenPipeError, OSError):
            code = process.kill(grace=1.0)
            _current = None
            raise ExtractError(_death(code, limits.memory_mb)) from None
        if status != "ok" and str(payload).startswith("needs more than"):
            process.kill()  # after a MemoryError the process is best replaced
            _current = None
    if status != "ok" or not isinstance(payload, Extracted):
        raise ExtractError(str(payload))
    return payload


def shutdown() -> None:
    """End this process's reader process, if any (an index run is over: free its memory)."""
    global _current
    with _lock:
        if _current is not None:
            _current.kill()
            _current = None


def _death(code: int | None, memory_mb: int) -> str:
    """Why a reader process that sent nothing ended."""
    if code is not None and code < 0:
        return (
            f"the reader crashed (signal {-code}); the file may be damaged or need more "
            f"than {memory_mb} MB"
        )
    return f"the reader stopped unexpectedly (exit code {code})"


if __name__ == "__main__":
    # Serve from the module readers import (`page_done`), not from this __main__ copy.
    from storage.formats import sandbox as _module

    _module.serve(int(sys.argv[1]), int(sys.argv[2]))
