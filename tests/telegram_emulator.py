"""A Telegram Bot API emulator for tests, served by aiohttp on 127.0.0.1.

It speaks the Bot API's HTTP protocol (`/bot<token>/<method>` with JSON, form or
multipart bodies; `/file/bot<token>/<path>` for downloads) well enough for
python-telegram-bot 22 to poll it like the real server, and gives tests a client
side: create users and chats, inject updates (messages, commands, mentions,
channel posts, edits, documents, inline queries, button presses), wait for what
the bot sends, and inject faults (429 with retry_after, 500, hanging requests).

Usage::

    with TelegramEmulator(bot_username="QaTestBot") as emu:
        app = Application.builder().token(emu.token).base_url(emu.base_url).build()
        ...
        alice = emu.add_user("Alice")
        chat = emu.add_private_chat(alice)
        question = emu.send_message(chat, alice, "متى تبدأ الزيارة؟")
        reply = emu.wait_for_reply(question)      # the bot's sendMessage call
        assert "<blockquote>" in reply.text

Or on its own, for poking at it with another client::

    python -m tests.telegram_emulator --port 8081

What it checks like Telegram does: the token, chat ids, HTML `parse_mode`
(only Telegram's tags, balanced; entities are computed), the 4,096-character
text limit, callback_data of at most 64 bytes, replies to messages that exist,
"message is not modified" on identical edits, callback and inline query ids.
What it does not do: privacy mode (every injected update is delivered, as for a
bot that is a group admin), flood limits (inject them with `flood_next`), media
other than documents, payments, business or forum features.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

DEFAULT_TOKEN = "123456789:AAEmulatorTokenForTests-0123456789_"
DEFAULT_BOT_USERNAME = "QaTestBot"
MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
# Bot API: "If not specified, ... all update types except chat_member,
# message_reaction, and message_reaction_count".
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Parameters that arrive JSON-encoded in form bodies, and scalar parameters to coerce.
_JSON_PARAMS = frozenset({
    "reply_markup", "entities", "caption_entities", "reply_parameters", "link_preview_options",
    "results", "commands", "scope", "allowed_updates", "button", "media", "rights", "menu_button",
})
_INT_PARAMS = frozenset({
    "chat_id", "from_chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time",
    "reply_to_message_id", "message_thread_id", "max_connections",
})
_BOOL_PARAMS = frozenset({
    "disable_notification", "protect_content", "is_personal", "show_alert", "drop_pending_updates",
    "disable_web_page_preview", "allow_sending_without_reply", "disable_content_type_detection",
    "allow_paid_broadcast",
})
_SEND_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "copyMessage", "forwardMessage"})


class BotAPIError(Exception):
    """An error answered the way the Bot API does: `{"ok": false, "error_code", "description"}`."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> BotAPIError:
    """A 400 error; the description gets Telegram's "Bad Request: " prefix."""
    return BotAPIError(400, f"Bad Request: {description}")


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


@dataclass
class Call:
    """One request the bot made: its method, parameters and what it was answered."""

    index: int
    method: str
    params: dict[str, Any]
    ok: bool = True
    result: Any = None
    error: dict[str, Any] | None = None
    injected: bool = False  # the answer was a fault injected by the test
    at: float = field(default_factory=time.time)

    @property
    def text(self) -> str | None:
        """The text as sent (HTML source when parse_mode is HTML), or the caption."""
        return self.params.get("text", self.params.get("caption"))

    @property
    def chat_id(self) -> int | str | None:
        """The chat the call was about, as sent."""
        return self.params.get("chat_id")

    @property
    def reply_to_message_id(self) -> int | None:
        """The message this call replies to, whichever way the bot said so."""
        reply = self.params.get("reply_parameters")
        if isinstance(reply, dict) and "message_id" in reply:
            return int(reply["message_id"])
        if self.params.get("reply_to_message_id") is not None:
            return int(self.params["reply_to_message_id"])
        return None

    @property
    def message(self) -> dict[str, Any] | None:
        """The Message the call returned, when it returned one."""
        return self.result if isinstance(self.result, dict) and "message_id" in self.result else None

    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons sent with the call, row by row, flattened."""
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def __str__(self) -> str:
        status = "ok" if self.ok else f"error {self.error}"
        shown = {k: v for k, v in self.params.items() if not isinstance(v, Upload)}
        return f"#{self.index} {self.method}({json.dumps(shown, ensure_ascii=False)[:300]}) -> {status}"


@dataclass
class _Fault:
    method: str  # lower case
    remaining: int
    error_code: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None
    hang_seconds: float | None = None


# ---------------------------------------------------------------------------
# Text: HTML parse mode and automatic entities of user messages


class HTMLParseError(ValueError):
    """The text is not valid Telegram HTML."""


_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entities(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return _NAMED_ENTITIES[m.group(1)]
        code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
        return chr(code) if 0 < code <= 0x10FFFF else m.group(0)

    return _ENTITY_RE.sub(one, text)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Turn Telegram HTML into plain text and entities, or raise HTMLParseError.

    >>> parse_html("<b>a</b> &lt; b")
    ('a < b', [{'type': 'bold', 'offset': 0, 'length': 1}])
    """
    out: list[str] = []
    offset = 0  # UTF-16 offset of the end of `out`
    stack: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        lt = source.find("<", i)
        chunk = source[i:] if lt < 0 else source[i:lt]
        if chunk:
            text = _decode_entities(chunk)
            out.append(text)
            offset += utf16_len(text)
        if lt < 0:
            break
        byte_offset = len(source[:lt].encode("utf-8"))
        m = _TAG_RE.match(source, lt)
        if m is None:
            raise HTMLParseError(f"Unsupported start tag at byte offset {byte_offset}")
        closing, name, attr_text = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if closing:
            if not stack:
                raise HTMLParseError(f'Unexpected end tag "{name}" at byte offset {byte_offset}')
            top = stack.pop()
            if top["tag"] != name:
                raise HTMLParseError(
                    f'Unmatched end tag at byte offset {byte_offset}, expected "</{top["tag"]}>", '
                    f'found "</{name}>"'
                )
            length = offset - top["offset"]
            entity = {"type": top["type"], "offset": top["offset"], "length": length, **top["extra"]}
            if name == "code" and stack and stack[-1]["tag"] == "pre":
                language = top["attrs"].get("class", "")
                if language.startswith("language-"):
                    stack[-1]["extra"]["language"] = language[len("language-"):]
                    entity = None  # the language is on the pre entity
            if entity is not None and length > 0:
                entities.append(entity)
        else:
            if name not in _HTML_TAGS:
                raise HTMLParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
            attrs = {
                a.group(1).lower(): _decode_entities((a.group(2) or "").strip("\"'"))
                for a in _ATTR_RE.finditer(attr_text)
            }
            kind, extra = _HTML_TAGS[name], {}
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise HTMLParseError('Tag "span" must have class "tg-spoiler"')
            if name == "a":
                extra["url"] = attrs.get("href", "")
            if name == "tg-emoji":
                if "emoji-id" not in attrs:
                    raise HTMLParseError('Tag "tg-emoji" must have attribute "emoji-id"')
                extra["custom_emoji_id"] = attrs["emoji-id"]
            if name == "blockquote":
                if any(s["tag"] == "blockquote" for s in stack):
                    raise HTMLParseError("Blockquote entities can't be nested")
                if "expandable" in attrs:
                    kind = "expandable_blockquote"
            stack.append({"tag": name, "type": kind, "offset": offset, "attrs": attrs, "extra": extra})
        i = m.end()
    if stack:
        raise HTMLParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_COMMAND_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}(?![\w@])")


def auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's clients mark in a plain message: bot commands and @mentions."""
    found = [("bot_command", m) for m in _COMMAND_RE.finditer(text)]
    found += [("mention", m) for m in _MENTION_RE.finditer(text)]
    entities = [
        {"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        for kind, m in found
    ]
    return sorted(entities, key=lambda e: e["offset"])


# ---------------------------------------------------------------------------
# The emulator


class TelegramEmulator:
    """An in-process Telegram Bot API server for one bot, plus a client to drive it.

    Start it with `start()` (or use it as a context manager); it runs its own event
    loop in a background thread, so tests may call the client methods from any
    thread. `wait_for_*` methods block; from a coroutine use `await asyncio.to_thread(...)`.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = "QA Test Bot",
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        if ":" not in token or not token.split(":", 1)[0].isdigit():
            raise ValueError(f"token must look like <digits>:<secret>, not {token!r}")
        self.token = token
        self.host = host
        self.port = port
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._lock = threading.RLock()
        self._calls_changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._chat_admins: dict[int, set[int]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._from_bot: set[tuple[int, int]] = set()  # channel posts by the bot have no `from`
        self._next_message_id: dict[int, itertools.count[int]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_001)
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(4_001)
        self._super_ids = itertools.count(1_000_000_001)
        self._query_ids = itertools.count(5_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, dict[str, Any]] = {}
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._webhook_url = ""
        self._faults: list[_Fault] = []
        self._pollers: set[asyncio.Future[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._stop_event: asyncio.Event | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            name[len("_api_"):].lower(): getattr(self, name)
            for name in dir(self)
            if name.startswith("_api_")
        }
        self._method_names = {name[len("_api_"):].lower(): name[len("_api_"):] for name in dir(self)
                              if name.startswith("_api_")}

    # -- lifecycle ---------------------------------------------------------

    @property
    def bot_username(self) -> str:
        """The bot's @username, without the @."""
        return self.bot_user["username"]

    @property
    def bot_id(self) -> int:
        """The bot's user id (the digits before the token's colon)."""
        return self.bot_user["id"]

    @property
    def url(self) -> str:
        """The server's root, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to give PTB's `base_url` (and the bot's TELEGRAM_BASE_URL)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to give PTB's `base_file_url`."""
        return f"{self.url}/file/bot"

    def start(self) -> Self:
        """Bind the server (a free port when `port` is 0) and serve in a background thread."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[Exception] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._startup())
            except Exception as exc:  # noqa: BLE001 - re-raised by start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name="telegram-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the emulator did not start within 30 s")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Answer pending long polls, close the server and end the thread."""
        if self._thread is None or self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _startup(self) -> None:
        self._stop_event = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/_emulator/calls", self._handle_dump_calls)
        app.router.add_post("/_emulator/update", self._handle_inject_update)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        with self._lock:
            self._stopping = True
        self._wake_pollers()
        if self._stop_event is not None:
            self._stop_event.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- client side: users, chats, updates ----------------------------------

    def add_user(
        self,
        first_name: str = "User",
        username: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "ar",
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """A user (a Bot API User object); ids are made up unless given."""
        with self._lock:
            uid = user_id if user_id is not None else next(self._user_ids)
            user: dict[str, Any] = {"id": uid, "is_bot": is_bot, "first_name": first_name}
            if username:
                user["username"] = username
            if language_code:
                user["language_code"] = language_code
            self._users[uid] = user
            return dict(user)

    def add_private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        """The user's private chat with the bot (its id is the user's id)."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return self._add_chat(chat)

    def add_group(
        self, title: str = "Group", *, supergroup: bool = False, username: str | None = None,
        admins: Iterable[dict[str, Any]] = (), bot_is_admin: bool = False,
    ) -> dict[str, Any]:
        """A basic group (negative id) or a supergroup (-100… id) that the bot is in."""
        with self._lock:
            if supergroup:
                chat = {"id": -(1_000_000_000_000 + next(self._super_ids)), "type": "supergroup", "title": title}
            else:
                chat = {"id": -next(self._group_ids), "type": "group", "title": title}
        if username:
            chat["username"] = username
        return self._add_chat(chat, admins, bot_is_admin)

    def add_channel(
        self, title: str = "Channel", *, username: str | None = None, bot_is_admin: bool = True,
    ) -> dict[str, Any]:
        """A channel; the bot is an admin by default (it only sees posts when it is)."""
        with self._lock:
            chat = {"id": -(1_000_000_000_000 + next(self._super_ids)), "type": "channel", "title": title}
        if username:
            chat["username"] = username
        return self._add_chat(chat, (), bot_is_admin)

    def _add_chat(
        self, chat: dict[str, Any], admins: Iterable[dict[str, Any]] = (), bot_is_admin: bool = False,
    ) -> dict[str, Any]:
        with self._lock:
            self._chats[chat["id"]] = chat
            self._chat_admins[chat["id"]] = {u["id"] for u in admins} | ({self.bot_id} if bot_is_admin else set())
            self._next_message_id.setdefault(chat["id"], itertools.count(1))
            return dict(chat)

    def send_message(
        self,
        chat: dict[str, Any],
        user: dict[str, Any],
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A user writes `text` in `chat`; commands and @mentions get entities as in the apps.

        Returns the Message (as delivered in the `message` update).
        """
        message = self._user_message(chat, user, reply_to)
        message["text"] = text
        marked = auto_entities(text) if entities is None else entities
        if marked:
            message["entities"] = marked
        return self._deliver(message, "message")

    def send_channel_post(
        self, chat: dict[str, Any], text: str, *, author_signature: str | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A post in a channel: no `from`, `sender_chat` is the channel; a `channel_post` update."""
        if chat["type"] != "channel":
            raise ValueError("channel posts go to channels")
        message = self._user_message(chat, None, reply_to)
        message["text"] = text
        if author_signature:
            message["author_signature"] = author_signature
        marked = auto_entities(text)
        if marked:
            message["entities"] = marked
        return self._deliver(message, "channel_post")

    def send_document(
        self,
        chat: dict[str, Any],
        user: dict[str, Any],
        content: bytes,
        file_name: str,
        *,
        mime_type: str = "text/plain",
        caption: str | None = None,
    ) -> dict[str, Any]:
        """A user sends a file; the bytes are stored so getFile and the download work."""
        message = self._user_message(chat, user, None)
        message["document"] = self.add_file(content, file_name=file_name, mime_type=mime_type)
        if caption is not None:
            message["caption"] = caption
            marked = auto_entities(caption)
            if marked:
                message["caption_entities"] = marked
        return self._deliver(message, "message")

    def edit_message(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """The author edits a message: an `edited_message` (or `edited_channel_post`) update."""
        with self._lock:
            key = (message["chat"]["id"], message["message_id"])
            stored = self._messages.get(key)
            if stored is None:
                raise KeyError(f"no message {key}")
            stored = dict(stored)
            stored["text"] = text
            stored["edit_date"] = int(time.time())
            stored.pop("entities", None)
            marked = auto_entities(text)
            if marked:
                stored["entities"] = marked
            self._messages[key] = stored
            kind = "edited_channel_post" if stored["chat"]["type"] == "channel" else "edited_message"
            self.push_update({kind: stored})
            return dict(stored)

    def send_inline_query(
        self, user: dict[str, Any], query: str, *, offset: str = "", chat_type: str | None = "sender",
    ) -> dict[str, Any]:
        """A user types `@bot query` in some chat: an `inline_query` update."""
        with self._lock:
            inline_query: dict[str, Any] = {
                "id": str(next(self._query_ids)), "from": self._users.get(user["id"], user),
                "query": query, "offset": offset,
            }
            if chat_type:
                inline_query["chat_type"] = chat_type
            self._open_inline_queries.add(inline_query["id"])
            self.push_update({"inline_query": inline_query})
            return inline_query

    def press_button(
        self,
        message: dict[str, Any],
        user: dict[str, Any],
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> dict[str, Any]:
        """A user presses an inline button (found by its text or callback_data) under a message
        the bot sent: a `callback_query` update with the message as it is now."""
        with self._lock:
            key = (message["chat"]["id"], message["message_id"])
            current = self._messages.get(key)
            if current is None:
                raise KeyError(f"no message {key}")
            buttons = [b for row in (current.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
            chosen = [
                b for b in buttons
                if (text is None or b.get("text") == text) and (data is None or b.get("callback_data") == data)
            ]
            if not chosen or "callback_data" not in chosen[0]:
                shown = [(b.get("text"), b.get("callback_data")) for b in buttons]
                raise LookupError(f"no callback button text={text!r} data={data!r} among {shown}")
            return self.push_callback_query(current, user, chosen[0]["callback_data"])

    def push_callback_query(self, message: dict[str, Any], user: dict[str, Any], data: str) -> dict[str, Any]:
        """A `callback_query` update with any data (e.g. a stale or forged button)."""
        with self._lock:
            chat_id = message["chat"]["id"]
            query = {
                "id": str(next(self._query_ids)),
                "from": self._users.get(user["id"], user),
                "message": dict(self._messages.get((chat_id, message["message_id"]), message)),
                "chat_instance": str(int(hashlib.sha256(str(chat_id).encode()).hexdigest()[:15], 16)),
                "data": data,
            }
            self._open_callback_queries.add(query["id"])
            self.push_update({"callback_query": query})
            return query

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an update_id is added) and wake the long polls."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
        self._wake_pollers()
        return update

    def add_file(self, content: bytes, *, file_name: str | None = None, mime_type: str | None = None) -> dict[str, Any]:
        """Store bytes as a Telegram file; returns a Document object."""
        with self._lock:
            n = next(self._file_ids)
            file_id = f"BQACAgIAAxkBAAI{n:06d}emulated"
            unique = f"AgAD{n:06d}"
            path = f"documents/file_{n}{_suffix(file_name)}"
            self._files[file_id] = {"file_unique_id": unique, "file_path": path, "content": content}
            document: dict[str, Any] = {"file_id": file_id, "file_unique_id": unique, "file_size": len(content)}
            if file_name is not None:
                document["file_name"] = file_name
            if mime_type is not None:
                document["mime_type"] = mime_type
            return document

    def file_content(self, file_id: str) -> bytes:
        """The bytes of a stored file (uploaded by a user or by the bot)."""
        with self._lock:
            return self._files[file_id]["content"]

    def _user_message(
        self, chat: dict[str, Any], user: dict[str, Any] | None, reply_to: dict[str, Any] | None,
    ) -> dict[str, Any]:
        with self._lock:
            chat = self._chats.get(chat["id"]) or self._add_chat(dict(chat))
            message: dict[str, Any] = {
                "message_id": next(self._next_message_id[chat["id"]]),
                "date": int(time.time()),
                "chat": dict(chat),
            }
            if user is not None:
                message["from"] = self._users.get(user["id"], user)
            else:
                message["sender_chat"] = dict(chat)
            if reply_to is not None:
                replied = self._messages.get((chat["id"], reply_to["message_id"]), reply_to)
                message["reply_to_message"] = _without_reply(replied)
            return message

    def _deliver(self, message: dict[str, Any], kind: str) -> dict[str, Any]:
        with self._lock:
            self._messages[(message["chat"]["id"], message["message_id"])] = message
            self.push_update({kind: message})
            return dict(message)

    # -- client side: what the bot did ------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call so far (or those of one method), oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method.lower() == method.lower()]

    def errors(self, *, include_injected: bool = False) -> list[Call]:
        """The calls that were answered with an error (not counting injected faults)."""
        with self._lock:
            return [c for c in self._calls if not c.ok and (include_injected or not c.injected)]

    def mark(self) -> int:
        """A cursor: pass it as `after` to wait only for calls made from now on."""
        with self._lock:
            return len(self._calls)

    def wait_for_call(
        self,
        method: str | Iterable[str] | None = None,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 15.0,
        *,
        after: int = 0,
    ) -> Call:
        """The first call (from index `after` on) of `method` that satisfies `predicate`.

        Waits up to `timeout` seconds, then raises TimeoutError listing the recent calls.
        """
        names = {method.lower()} if isinstance(method, str) else (
            None if method is None else {m.lower() for m in method}
        )
        deadline = time.monotonic() + timeout
        with self._calls_changed:
            while True:
                for call in self._calls[after:]:
                    if (names is None or call.method.lower() in names) and (
                        predicate is None or predicate(call)
                    ):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = "\n  ".join(str(c) for c in self._calls[max(after, len(self._calls) - 15):])
                    raise TimeoutError(
                        f"no {method or 'call'} matching within {timeout} s; calls since #{after}:\n  {recent}"
                    )
                self._calls_changed.wait(remaining)

    def wait_for_reply(self, message: dict[str, Any], timeout: float = 15.0, *, after: int = 0) -> Call:
        """The bot's send* call that replies to `message`; raises AssertionError if it failed."""
        chat_id = message["chat"]["id"]

        def replies(call: Call) -> bool:
            return call.method in _SEND_METHODS and self._same_chat(call.chat_id, chat_id) and (
                call.reply_to_message_id == message["message_id"]
            )

        call = self.wait_for_call(_SEND_METHODS, replies, timeout, after=after)
        if not call.ok:
            raise AssertionError(f"the bot's reply was refused by the Bot API: {call}")
        return call

    def wait_for_bot_message(
        self,
        chat: dict[str, Any] | int,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 15.0,
        *,
        after: int = 0,
    ) -> Call:
        """The bot's next send* call to `chat` (a reply or not); raises AssertionError if it failed."""
        chat_id = chat if isinstance(chat, int) else chat["id"]

        def matches(call: Call) -> bool:
            return self._same_chat(call.chat_id, chat_id) and (predicate is None or predicate(call))

        call = self.wait_for_call(_SEND_METHODS, matches, timeout, after=after)
        if not call.ok:
            raise AssertionError(f"the bot's message was refused by the Bot API: {call}")
        return call

    def messages_from_bot(self, chat: dict[str, Any] | int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they are now (after edits and deletions)."""
        chat_id = chat if isinstance(chat, int) else chat["id"]
        with self._lock:
            return [
                dict(m) for key, m in sorted(self._messages.items())
                if key[0] == chat_id and key in self._from_bot
            ]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message as it is now, or None if unknown or deleted."""
        with self._lock:
            m = self._messages.get((chat_id, message_id))
            return dict(m) if m is not None else None

    # -- fault injection ------------------------------------------------------------

    def fail_next(
        self, method: str, count: int = 1, *, error_code: int = 500,
        description: str | None = None, retry_after: int | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` with an error instead of handling them."""
        default = {429: f"Too Many Requests: retry after {retry_after}", 500: "Internal Server Error",
                   502: "Bad Gateway", 403: "Forbidden: bot was blocked by the user"}
        with self._lock:
            self._faults.append(_Fault(
                method.lower(), count, error_code,
                description or default.get(error_code, f"Error {error_code}"), retry_after,
            ))

    def flood_next(self, method: str, count: int = 1, *, retry_after: int = 1) -> None:
        """The next `count` calls of `method` get 429 Too Many Requests with `retry_after`."""
        self.fail_next(method, count, error_code=429, retry_after=retry_after)

    def hang_next(self, method: str, count: int = 1, *, seconds: float = 30.0) -> None:
        """Hold the next `count` calls of `method` for `seconds` before handling them normally
        (the client usually times out first; stopping the emulator releases them)."""
        with self._lock:
            self._faults.append(_Fault(method.lower(), count, hang_seconds=seconds))

    def clear_faults(self) -> None:
        """Forget the faults not used yet."""
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- HTTP ---------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        name = self._method_names.get(method.lower(), method)
        try:
            params = await _read_params(request)
        except (ValueError, UnicodeDecodeError) as exc:
            return _json_response(bad_request(f"can't parse request: {exc}").body(), 400)
        if request.match_info["token"] != self.token:
            return _json_response(self._record(name, params, error=BotAPIError(401, "Unauthorized")), 401)
        fault = self._take_fault(method.lower())
        if fault is not None and fault.hang_seconds is not None:
            assert self._stop_event is not None
            try:
                await asyncio.wait_for(self._stop_event.wait(), fault.hang_seconds)
            except TimeoutError:
                pass
        elif fault is not None:
            parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
            error = BotAPIError(fault.error_code, fault.description, parameters)
            body = self._record(name, params, error=error, injected=True)
            return _json_response(body, fault.error_code)
        handler = self._methods.get(method.lower())
        if handler is None:
            return _json_response(self._record(name, params, error=BotAPIError(404, "Not Found")), 404)
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except BotAPIError as error:
            return _json_response(self._record(name, params, error=error), error.error_code)
        except (KeyError, TypeError, ValueError) as exc:
            error = bad_request(f"invalid parameters: {exc!r}")
            return _json_response(self._record(name, params, error=error), 400)
        return _json_response(self._record(name, params, result=result), 200)

    def _record(
        self, method: str, params: dict[str, Any], *, result: Any = None,
        error: BotAPIError | None = None, injected: bool = False,
    ) -> dict[str, Any]:
        body = error.body() if error is not None else {"ok": True, "result": result}
        with self._calls_changed:
            self._calls.append(Call(
                index=len(self._calls), method=method, params=params, ok=error is None,
                result=result, error=body if error is not None else None, injected=injected,
            ))
            self._calls_changed.notify_all()
        return body

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_response(BotAPIError(401, "Unauthorized").body(), 401)
        path = request.match_info["path"]
        with self._lock:
            content = next((f["content"] for f in self._files.values() if f["file_path"] == path), None)
        if content is None:
            return _json_response(BotAPIError(404, "Not Found").body(), 404)
        return web.Response(body=content, content_type="application/octet-stream")

    async def _handle_dump_calls(self, request: web.Request) -> web.Response:
        calls = [
            {"method": c.method, "ok": c.ok, "error": c.error,
             "params": {k: v for k, v in c.params.items() if not isinstance(v, Upload)}}
            for c in self.calls()
        ]
        return _json_response({"ok": True, "result": calls}, 200)

    async def _handle_inject_update(self, request: web.Request) -> web.Response:
        update = await request.json()
        return _json_response({"ok": True, "result": self.push_update(update)}, 200)

    # -- Bot API methods ------------------------------------------------------------

    def _api_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook_url:
            raise BotAPIError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                   "use deleteWebhook to delete the webhook first")
        offset = p.get("offset")
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        if "allowed_updates" in p:
            allowed = p["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            waiter: asyncio.Future[None] = loop.create_future()
            with self._lock:
                batch = self._take_updates(offset, limit)
                if batch or self._stopping or loop.time() >= deadline:
                    return batch
                self._pollers.add(waiter)
            try:
                await asyncio.wait_for(waiter, deadline - loop.time())
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._pollers.discard(waiter)

    def _take_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        if offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed = self._allowed_updates
        kept = [
            u for u in self._updates
            if (allowed is None and _update_type(u) not in DEFAULT_EXCLUDED_UPDATES)
            or (allowed is not None and _update_type(u) in allowed)
        ]
        self._updates = kept  # updates of types not asked for are dropped, as Telegram does
        return [json.loads(json.dumps(u)) for u in kept[:limit]]

    def _wake_pollers(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def wake() -> None:
            with self._lock:
                waiters = list(self._pollers)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake()
        else:
            loop.call_soon_threadsafe(wake)

    def _api_setWebhook(self, p: dict[str, Any]) -> bool:
        self._webhook_url = str(p.get("url") or "")
        return True

    def _api_deleteWebhook(self, p: dict[str, Any]) -> bool:
        with self._lock:
            self._webhook_url = ""
            if p.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _api_getWebhookInfo(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"url": self._webhook_url, "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)}

    def _api_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise bad_request("command description must be 1-256 characters")
        scope = p.get("scope") or {}
        if "chat_id" in scope:
            self._chat(scope["chat_id"])  # "chat not found" for a user who never opened the bot
        with self._lock:
            self.commands[_commands_key(p)] = [dict(c) for c in commands]
        return True

    def _api_getMyCommands(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.commands.get(_commands_key(p), []))

    def _api_deleteMyCommands(self, p: dict[str, Any]) -> bool:
        with self._lock:
            self.commands.pop(_commands_key(p), None)
        return True

    def _api_setMyDescription(self, p: dict[str, Any]) -> bool:
        return True

    def _api_setMyShortDescription(self, p: dict[str, Any]) -> bool:
        return True

    def _api_setChatMenuButton(self, p: dict[str, Any]) -> bool:
        return True

    def _api_close(self, p: dict[str, Any]) -> bool:
        return True

    def _api_logOut(self, p: dict[str, Any]) -> bool:
        return True

    def _api_sendChatAction(self, p: dict[str, Any]) -> bool:
        self._chat(p["chat_id"])
        if not p.get("action"):
            raise bad_request("wrong parameter action in request")
        return True

    def _api_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p["chat_id"])
        text, entities = _render_text(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = _check_markup(p.get("reply_markup"))
        with self._lock:
            message = self._bot_message(chat, p)
            message["text"] = text
            if entities:
                message["entities"] = entities
            if markup is not None:
                message["reply_markup"] = markup
            self._messages[(chat["id"], message["message_id"])] = message
            return dict(message)

    def _api_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p["chat_id"])
        document = p.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = p.get(document[len("attach://"):])
        with self._lock:
            if isinstance(document, Upload):
                doc = self.add_file(document.content, file_name=document.filename,
                                    mime_type=document.content_type or None)
            elif isinstance(document, str) and document in self._files:
                f = self._files[document]
                doc = {"file_id": document, "file_unique_id": f["file_unique_id"], "file_size": len(f["content"])}
            else:
                raise bad_request("wrong file identifier/HTTP URL specified")
            message = self._bot_message(chat, p)
            message["document"] = doc
            if p.get("caption"):
                caption, entities = _render_text(p["caption"], p.get("parse_mode"), p.get("caption_entities"),
                                                 limit=1024, what="caption")
                message["caption"] = caption
                if entities:
                    message["caption_entities"] = entities
            markup = _check_markup(p.get("reply_markup"))
            if markup is not None:
                message["reply_markup"] = markup
            self._messages[(chat["id"], message["message_id"])] = message
            return dict(message)

    def _api_editMessageText(self, p: dict[str, Any]) -> dict[str, Any] | bool:
        text, entities = _render_text(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = _check_markup(p.get("reply_markup"))
        if p.get("inline_message_id"):
            return True
        with self._lock:
            message = self._editable(p)
            if message.get("text") == text and message.get("entities", []) == entities and (
                message.get("reply_markup") == markup
            ):
                raise bad_request(
                    "message is not modified: specified new message content and reply markup are "
                    "exactly the same as a current content and reply markup of the message"
                )
            message = dict(message)
            message["text"] = text
            message.pop("entities", None)
            if entities:
                message["entities"] = entities
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
            message["edit_date"] = int(time.time())
            self._messages[(message["chat"]["id"], message["message_id"])] = message
            return dict(message)

    def _api_editMessageReplyMarkup(self, p: dict[str, Any]) -> dict[str, Any] | bool:
        markup = _check_markup(p.get("reply_markup"))
        if p.get("inline_message_id"):
            return True
        with self._lock:
            message = dict(self._editable(p))
            if message.get("reply_markup") == markup:
                raise bad_request(
                    "message is not modified: specified new message content and reply markup are "
                    "exactly the same as a current content and reply markup of the message"
                )
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
            message["edit_date"] = int(time.time())
            self._messages[(message["chat"]["id"], message["message_id"])] = message
            return dict(message)

    def _api_deleteMessage(self, p: dict[str, Any]) -> bool:
        chat = self._chat(p["chat_id"])
        with self._lock:
            if self._messages.pop((chat["id"], int(p["message_id"])), None) is None:
                raise bad_request("message to delete not found")
        return True

    def _api_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        query_id = str(p.get("callback_query_id", ""))
        with self._lock:
            if query_id not in self._open_callback_queries:
                raise bad_request("query is too old and response timeout expired or query ID is invalid")
            self._open_callback_queries.discard(query_id)
        if p.get("text") is not None and len(str(p["text"])) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        return True

    def _api_answerInlineQuery(self, p: dict[str, Any]) -> bool:
        query_id = str(p.get("inline_query_id", ""))
        results = p.get("results")
        if not isinstance(results, list):
            raise bad_request("results must be a JSON array")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            result_id = str(result.get("id", ""))
            if not result.get("type") or not 1 <= len(result_id.encode()) <= 64:
                raise bad_request("RESULT_ID_INVALID")
            if result_id in seen:
                raise bad_request("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if result["type"] == "article":
                if not result.get("title"):
                    raise bad_request("can't parse inline query result: title is empty")
                content = result.get("input_message_content") or {}
                if "message_text" not in content:
                    raise bad_request("can't parse inline query result: message text is empty")
                _render_text(content["message_text"], content.get("parse_mode"), content.get("entities"))
            _check_markup(result.get("reply_markup"))
        with self._lock:
            if query_id not in self._open_inline_queries:
                raise bad_request("query is too old and response timeout expired or query ID is invalid")
            self._open_inline_queries.discard(query_id)
            self.inline_answers[query_id] = dict(p)
        return True

    def _api_getFile(self, p: dict[str, Any]) -> dict[str, Any]:
        file_id = str(p.get("file_id", ""))
        with self._lock:
            f = self._files.get(file_id)
            if f is None:
                raise bad_request("invalid file_id")
            return {"file_id": file_id, "file_unique_id": f["file_unique_id"],
                    "file_size": len(f["content"]), "file_path": f["file_path"]}

    def _api_getChat(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p["chat_id"])
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                    "premium_subscription": False, "gifts_from_channels": False},
        }

    def _api_getChatMember(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p["chat_id"])
        user_id = int(p["user_id"])
        with self._lock:
            user = self.bot_user if user_id == self.bot_id else self._users.get(user_id)
            if user is None:
                raise bad_request("user not found")
            return self._member(chat, user)

    def _api_getChatAdministrators(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(p["chat_id"])
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        with self._lock:
            admins = sorted(self._chat_admins.get(chat["id"], set()))
            users = [self.bot_user if uid == self.bot_id else self._users[uid] for uid in admins]
            return [self._member(chat, u) for u in users]

    def _api_getChatMemberCount(self, p: dict[str, Any]) -> int:
        chat = self._chat(p["chat_id"])
        return 2 if chat["type"] == "private" else 2 + len(self._chat_admins.get(chat["id"], ()))

    # -- helpers ---------------------------------------------------------------------

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        with self._lock:
            if isinstance(chat_id, str) and chat_id.startswith("@"):
                for chat in self._chats.values():
                    if chat.get("username", "").lower() == chat_id[1:].lower():
                        return chat
            elif chat_id is not None and int(chat_id) in self._chats:
                return self._chats[int(chat_id)]
        raise bad_request("chat not found")

    @staticmethod
    def _same_chat(sent: Any, chat_id: int) -> bool:
        try:
            return int(sent) == chat_id
        except (TypeError, ValueError):
            return False

    def _bot_message(self, chat: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        """A new message from the bot in `chat`, with the reply the call asked for."""
        message: dict[str, Any] = {
            "message_id": 0,
            "date": int(time.time()),
            "chat": dict(chat),
        }
        if chat["type"] == "channel":
            message["sender_chat"] = dict(chat)
        else:
            message["from"] = dict(self.bot_user)
        reply = p.get("reply_parameters") or {}
        reply_id = reply.get("message_id", p.get("reply_to_message_id"))
        if reply_id is not None:
            reply_chat = self._chat(reply["chat_id"]) if reply.get("chat_id") is not None else chat
            replied = self._messages.get((reply_chat["id"], int(reply_id)))
            if replied is not None:
                message["reply_to_message"] = _without_reply(replied)
            elif not (reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply")):
                raise bad_request("message to be replied not found")
        message["message_id"] = next(self._next_message_id[chat["id"]])
        self._from_bot.add((chat["id"], message["message_id"]))
        return message

    def _editable(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        message = self._messages.get((chat["id"], int(p.get("message_id") or 0)))
        if message is None:
            raise bad_request("message to edit not found")
        if (chat["id"], message["message_id"]) not in self._from_bot:
            raise bad_request("message can't be edited")
        return message

    def _member(self, chat: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        if user["id"] not in self._chat_admins.get(chat["id"], set()):
            return {"status": "member", "user": dict(user)}
        rights = dict.fromkeys(
            ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
             "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
             "can_delete_stories", "can_post_messages", "can_edit_messages", "can_pin_messages"),
            True,
        )
        return {"status": "administrator", "user": dict(user), "can_be_edited": False,
                "is_anonymous": False, "can_promote_members": False, **rights}


def _update_type(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


def _suffix(file_name: str | None) -> str:
    if not file_name or "." not in file_name:
        return ""
    suffix = "." + file_name.rsplit(".", 1)[1]
    return suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else ""


def _without_reply(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _commands_key(p: dict[str, Any]) -> str:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps([scope, p.get("language_code") or ""], sort_keys=True)


def _render_text(
    text: Any, parse_mode: Any, entities: Any, *, limit: int = MAX_TEXT_LENGTH, what: str = "message text",
) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of a text the bot sends, checked like Telegram does."""
    if not isinstance(text, str):
        raise bad_request(f"{what} is empty")
    if parse_mode and str(parse_mode).upper() == "HTML":
        try:
            plain, found = parse_html(text)
        except HTMLParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    else:
        plain, found = text, list(entities or [])
    if not plain.strip():
        raise bad_request(f"{what} is empty")
    if utf16_len(plain) > limit:
        raise bad_request("message is too long" if what == "message text" else f"{what} is too long")
    return plain, found


def _check_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup the way Telegram rejects bad inline keyboards."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text", "")).strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            if "callback_data" in button:
                data = str(button["callback_data"]).encode("utf-8")
                if not 1 <= len(data) <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif not any(k in button for k in (
                "url", "switch_inline_query", "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat", "web_app", "login_url", "copy_text", "pay",
                "callback_game",
            )):
                raise bad_request("can't find field \"callback_data\" in the inline keyboard button")
    return markup


async def _read_params(request: web.Request) -> dict[str, Any]:
    """The parameters of a Bot API call from the query string and a JSON, form or multipart body."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.read()
        if body:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("the JSON body must be an object")
            params.update(data)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = Upload(value.filename, value.file.read(), value.content_type)
            else:
                params[key] = value
    return {key: _coerce(key, value) for key, value in params.items()}


def _coerce(key: str, value: Any) -> Any:
    """Form values are strings; give the structured and numeric ones their JSON types."""
    if not isinstance(value, str):
        return value
    if key in _JSON_PARAMS:
        return json.loads(value)
    if key in _INT_PARAMS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if key in _BOOL_PARAMS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _json_response(body: dict[str, Any], status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False, default=_json_default),
        status=status, content_type="application/json",
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, Upload):
        return f"<file {value.filename}>"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tests.telegram_emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--username", default=DEFAULT_BOT_USERNAME)
    args = parser.parse_args(argv)
    emulator = TelegramEmulator(args.token, args.username, host=args.host, port=args.port).start()
    print(f"Bot API emulator for @{emulator.bot_username} at {emulator.base_url} "
          f"(calls: {emulator.url}/_emulator/calls, inject: POST {emulator.url}/_emulator/update)",
          flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
