"""Health: the store opens, the index is present and current, the token is configured.

    print(check(service, settings))     # "ok: 5 documents, 59 passages", or raises Unhealthy

Shared by `python -m bot health` (the container's HEALTHCHECK) and the webhook's
`/healthz`.
"""

from __future__ import annotations

from bot.service import QAService
from bot.settings import Settings, SettingsError
from storage.store import StoreError


class Unhealthy(Exception):
    """The bot cannot answer; `str()` says why."""


def check(service: QAService, settings: Settings) -> str:
    """A one-line "ok: …" summary, or raise Unhealthy with the reason."""
    try:
        reason = service.rebuild_needed()
        if reason is not None:
            raise Unhealthy(reason)
        counts = service.counts()
        if settings.telegram_enabled:
            settings.check_token()
    except (StoreError, SettingsError) as exc:
        raise Unhealthy(str(exc)) from exc
    return f"ok: {counts['documents']} documents, {counts['passages']} passages"
