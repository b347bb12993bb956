"""Settings, read once: the environment first, then `.env` (the environment wins)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from dotenv import dotenv_values

from storage.formats import Limits

TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every setting of the bot and the CLI."""

    corpus_dir: Path = Path("seeds")
    database_path: Path = Path("data/bot.sqlite3")
    stats_path: str = ""  # empty: <DATABASE_PATH stem>-stats.sqlite3 beside the store
    telegram_bot_token: str = field(default="", repr=False)
    admin_ids: frozenset[int] = frozenset()
    telegram_base_url: str = ""
    telegram_base_file_url: str = ""
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str = field(default="", repr=False)
    max_upload_bytes: int = 20 * 1024 * 1024  # the Bot API's download limit
    max_pdf_pages: int = 2000  # a longer PDF is skipped with that reason
    ocr: bool = True  # read scanned pages with Tesseract (when installed)
    ocr_page_seconds: int = 60  # one page's OCR is stopped after this long
    extract_seconds: int = 600  # reading one document is stopped after this (OCR'd pages aside)
    extract_memory_mb: int = 1536  # ... or when it needs more memory than this
    send_files: bool = False  # readers may receive an answer's source file («الملف»)
    questions_per_minute: int = 20
    top_k: int = 3
    log_questions: bool = False
    feedback: bool = True  # 👍 / 👎 under each answer (bot/feedback.py)
    feedback_days: int = 180  # votes and kept questions older than this are deleted
    store_questions: bool = True  # 0: only a salted hash of a question is kept, never its text
    variants: bool = True
    # Reorder BM25's first candidates with retrieval/models/rerank-v1.json (~1 ms a
    # question, within the ask --json limit: docs/benchmarks.md §4); 0: BM25 order.
    rerank: bool = True
    search_processes: int = 0  # 0: one per usable CPU, at most 4 (see search_pool.py)
    allowed_chat_ids: frozenset[int] = frozenset()

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, dotenv: Path | str | None = ".env") -> Settings:
        """Read settings from `env` (default: os.environ) over the values in `dotenv`."""
        values: dict[str, str] = {}
        if dotenv is not None and Path(dotenv).is_file():
            values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        # The environment wins, also when a variable is set but empty (empty = default):
        # `TELEGRAM_BOT_TOKEN= python -m bot` opens the console whatever .env says.
        values.update(os.environ if env is None else env)
        return cls.from_values(values)

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> Settings:
        """Build settings from a mapping of environment variable names to strings."""
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            name = f.name.upper()
            raw = values.get(name)
            if raw is None or raw.strip() == "":
                continue
            raw = raw.strip()
            kwargs[f.name] = _parse(name, raw, f.default)
        settings = cls(**kwargs)
        if settings.telegram_base_url and not settings.telegram_base_file_url:
            base = settings.telegram_base_url
            file_url = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base
            object.__setattr__(settings, "telegram_base_file_url", file_url)
        return settings

    @property
    def limits(self) -> Limits:
        """What reading one document may cost (storage.formats.Limits)."""
        return Limits(
            max_pages=self.max_pdf_pages,
            ocr=self.ocr,
            ocr_page_seconds=float(self.ocr_page_seconds),
            seconds=float(self.extract_seconds),
            memory_mb=self.extract_memory_mb,
        )

    @property
    def telegram_enabled(self) -> bool:
        """True when a token is configured (malformed or not)."""
        return bool(self.telegram_bot_token)

    def check_token(self) -> str:
        """Return the token, or raise SettingsError when it is missing or malformed."""
        if not self.telegram_bot_token:
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
        if not TOKEN_RE.match(self.telegram_bot_token):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is malformed (expected <digits>:<35 letters, digits, _ or ->)"
            )
        return self.telegram_bot_token

    def describe(self) -> str:
        """The effective settings for the start-up log, secrets redacted."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("telegram_bot_token", "webhook_secret"):
                value = "<set>" if value else "<empty>"
            elif isinstance(value, frozenset):
                value = ",".join(str(v) for v in sorted(value)) or "-"
            parts.append(f"{f.name.upper()}={value}")
        return " ".join(parts)


def _parse(name: str, raw: str, default: object) -> object:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be 1 or 0, not {raw!r}")
    if isinstance(default, int):
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
        if value <= 0:
            raise SettingsError(f"{name} must be positive, not {raw!r}")
        return value
    if isinstance(default, frozenset):
        try:
            return frozenset(int(x) for x in raw.replace(" ", "").split(",") if x)
        except ValueError:
            raise SettingsError(
                f"{name} must be comma-separated numeric Telegram ids, not {raw!r}"
            ) from None
    if isinstance(default, Path):
        return Path(raw)
    return raw
