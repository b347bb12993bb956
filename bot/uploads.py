"""Check and save a document an admin sends, into the collection folder.

    name = check_name("تقرير 2024.pdf")          # UploadError when unsafe or not a format we read
    check_size(len(data), max_bytes)
    check_content(name, data)                      # what its extension says; text: UTF-8, not empty
    path, replaced = save_upload(corpus_dir, name, data, replace=wants_replace(caption))

Policy on existing files: a file is never overwritten silently. When the name is
taken, the upload is refused unless the caption asks for a replacement
(«استبدال» or "replace"); then the old file is replaced and the reply says so.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import ClassVar

from storage.formats import ExtractError, sniff, suffix_format
from storage.indexer import SUFFIXES

MAX_NAME_CHARS = 100
_SAFE_NAME = re.compile(r"^\w[\w .()\-]*$")
_REPLACE_WORDS = re.compile(r"استبدال|استبدل|replace", re.IGNORECASE)


class UploadError(ValueError):
    """The upload is refused; `str()` is the reason, in Arabic, for the sender."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "no_name": "الملف بلا اسم. أرسله مع اسم ينتهي بامتداده، مثل ‎.pdf أو ‎.docx أو ‎.txt.",
        "unsafe_name": "اسم الملف غير مقبول: استخدم حروفاً وأرقاماً ومسافات و - _ . فقط، "
        "بلا مسارات ولا «..» ولا نقطة في أوله.",
        "long_name": f"اسم الملف طويل جداً (الحد {MAX_NAME_CHARS} حرف).",
        "extension": "أقبل ملفات PDF وWord ‏(‎.docx) وصفحات الويب (‎.html) والكتب (‎.epub) "
        "وOpenDocument ‏(‎.odt) والنصوص (‎.txt أو ‎.md) فقط.",
        "mismatch": "محتوى الملف لا يطابق امتداده ({ext}). أرسله بامتداده الصحيح.",
        "too_big": "الملف كبير جداً ({size} بايت، والحد {limit} بايت).",
        "binary": "الملف ليس نصاً (فيه بايتات ثنائية).",
        "encoding": "الملف ليس بترميز UTF-8. احفظه بترميز UTF-8 ثم أعد إرساله.",
        "empty": "الملف فارغ.",
        "download": "تعذّر تنزيل الملف من تيليغرام. أعد إرساله بعد قليل.",
        "exists": "يوجد في المجموعة ملف بالاسم «{name}». "
        "لاستبداله أعد إرساله مع التعليق «استبدال»، أو غيّر اسمه.",
    }

    def __init__(self, code: str, **details: object):
        super().__init__(self.MESSAGES[code].format(**details))
        self.code = code


def check_name(name: str | None) -> str:
    """The file name if it is a safe .txt/.md base name, else raise UploadError."""
    if not name or not name.strip():
        raise UploadError("no_name")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise UploadError("long_name")
    if ".." in name or not _SAFE_NAME.match(name) or name != os.path.basename(name):
        raise UploadError("unsafe_name")
    if not name.lower().endswith(SUFFIXES):
        raise UploadError("extension")
    return name


def check_size(size: int | None, limit: int) -> None:
    """Raise UploadError when `size` bytes is over `limit`."""
    if size is not None and size > limit:
        raise UploadError("too_big", size=size, limit=limit)


def check_content(name: str, data: bytes) -> None:
    """An upload is what its extension says; a text file is UTF-8 (BOM fine), not empty.

    Whether a PDF or Word file can really be read is the indexer's to say (its report
    gives the reason); this only refuses what is wrong at first sight.
    """
    if suffix_format(name) == "text":
        if b"\x00" in data:
            raise UploadError("binary")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadError("encoding") from None
        if not text.strip():
            raise UploadError("empty")
    try:
        sniff(name, data)
    except ExtractError:
        raise UploadError("mismatch", ext=name[name.rfind("."):]) from None


def wants_replace(caption: str | None) -> bool:
    """True when the caption asks to replace an existing file of the same name."""
    return bool(caption and _REPLACE_WORDS.search(caption))


def save_upload(corpus_dir: Path, name: str, data: bytes, *, replace: bool) -> tuple[Path, bool]:
    """Write `data` as `corpus_dir/name` atomically; return (path, whether a file was replaced).

    Without `replace`, an existing file is left alone and UploadError("exists") raised.
    """
    name = check_name(name)
    root = corpus_dir.resolve()
    target = root / name
    if target.parent != root:
        raise UploadError("unsafe_name")
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        existed = target.exists()
        if existed and not replace:
            raise UploadError("exists", name=name)
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the name was taken meanwhile: no overwrite
            except FileExistsError:
                raise UploadError("exists", name=name) from None
            except OSError:  # a filesystem without hard links
                if target.exists():
                    raise UploadError("exists", name=name) from None
                os.replace(tmp, target)
        return target, existed
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
