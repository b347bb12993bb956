"""The Telegram bot (python-telegram-bot 22, asyncio), one module per concern.

    python -m bot run        # polling, or a webhook when WEBHOOK_URL is set

Private chats: every text is a question. Groups: `/ask سؤال`, a mention of the bot
or a reply to one of its messages; nothing else is read. Channels: posts starting
with /ask or mentioning the bot. Inline mode: `@BotName سؤال`. Admins (ADMIN_IDS):
/reindex, /stats and document uploads (PDF, Word, web pages, text) in a private chat.

Handlers stay thin: they ask the service (in a worker thread, so the event loop is
never blocked) and send what `bot.render` makes of the answer.

- `state`   — what the handlers share: BotState, the answers behind buttons, searching,
              the per-sender question limit;
- `readers` — who may ask and what: the gate, questions in private chats, groups,
              channels and inline mode, /start /help /sources /ask;
- `buttons` — the keyboard under an answer and «المزيد», «النص الكامل», «الملف»;
- `admin`   — /reindex, /stats, /remove, /lastindex and uploads, for admins only;
- `feedback`— 👍 / 👎 under answers, and /unanswered for admins;
- `logs`    — token redaction, logging set-up, the error handler;
- `app`     — build_application, the command menus, run_bot and the stop signals.
"""
