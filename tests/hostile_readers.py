"""Readers that misbehave, for the reader-process tests (importable by the reader process)."""

from __future__ import annotations

import time

from storage.formats import Block, Extracted, Limits, sandbox


def hostile(fmt: str, data: bytes, limits: Limits) -> Extracted:
    """A reader that misbehaves as `fmt` says (module level: the child imports it by name)."""
    if fmt == "test-sleep":
        time.sleep(60)
    if fmt == "test-slow-pages":  # 6 pages of 0.5 s, longer than the file's limit in all
        for _ in range(6):
            time.sleep(0.5)
            sandbox.page_done()
        return Extracted("pdf", [Block("قرئت كل الصفحات", 1)], pages=6, ocr_pages=6)
    if fmt == "test-memory":
        blocks = []
        while True:
            blocks.append(bytearray(16 << 20))
    if fmt == "test-crash":
        import ctypes

        ctypes.string_at(0)
    if fmt == "test-recursion":
        def deeper(n: int) -> int:
            return deeper(n + 1) + 1

        deeper(0)
    raise ValueError(fmt)
