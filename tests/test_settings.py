"""Settings: the environment over `.env`, defaults, malformed values, secrets kept out of logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError

TOKEN = "123456789:AAF" + "x" * 32
SECRET = "webhook-secret-value-42"


def _dotenv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path):
    settings = Settings.load(env={}, dotenv=tmp_path / "absent.env")
    assert settings.corpus_dir == Path("seeds")
    assert settings.database_path == Path("data/bot.sqlite3")
    assert settings.telegram_bot_token == ""
    assert not settings.telegram_enabled
    assert settings.top_k == 3
    assert settings.admin_ids == frozenset()
    assert settings.telegram_base_url == "" and settings.telegram_base_file_url == ""
    assert Settings.load(env={}, dotenv=None) == settings


def test_environment_wins_over_dotenv(tmp_path):
    dotenv = _dotenv(
        tmp_path,
        "CORPUS_DIR=from_dotenv\nDATABASE_PATH=dotenv.sqlite3\nTOP_K=5\nADMIN_IDS=1,2\n",
    )
    settings = Settings.load(env={"CORPUS_DIR": "from_env", "TOP_K": "7"}, dotenv=dotenv)
    assert settings.corpus_dir == Path("from_env")
    assert settings.top_k == 7
    # what the environment does not set comes from .env
    assert settings.database_path == Path("dotenv.sqlite3")
    assert settings.admin_ids == frozenset({1, 2})


def test_empty_environment_variable_wins_and_means_the_default(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("CORPUS_DIR=from_dotenv\nTELEGRAM_BOT_TOKEN=123:abc\n", encoding="utf-8")
    settings = Settings.load(env={"CORPUS_DIR": "", "TELEGRAM_BOT_TOKEN": ""}, dotenv=dotenv)
    assert settings.corpus_dir == Path("seeds")
    assert not settings.telegram_enabled


def test_dotenv_alone(tmp_path):
    dotenv = _dotenv(tmp_path, "# comment\nCORPUS_DIR='docs folder'\nLOG_QUESTIONS=yes\n")
    settings = Settings.load(env={}, dotenv=dotenv)
    assert settings.corpus_dir == Path("docs folder")
    assert settings.log_questions is True


def test_load_reads_os_environ_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "db.sqlite3"))
    settings = Settings.load(dotenv=None)
    assert settings.corpus_dir == tmp_path / "corpus"
    assert settings.database_path == tmp_path / "db.sqlite3"


def test_values_are_parsed(tmp_path):
    settings = Settings.from_values(
        {
            "ADMIN_IDS": " 11, 22 ,33 ",
            "ALLOWED_CHAT_IDS": "-1001234,5",
            "QUESTIONS_PER_MINUTE": "30",
            "WEBHOOK_PORT": "8080",
            "LOG_QUESTIONS": "0",
            "TOP_K": " 4 ",
            "UNKNOWN_SETTING": "ignored",
        }
    )
    assert settings.admin_ids == frozenset({11, 22, 33})
    assert settings.allowed_chat_ids == frozenset({-1001234, 5})
    assert settings.questions_per_minute == 30
    assert settings.webhook_port == 8080
    assert settings.log_questions is False
    assert settings.top_k == 4


@pytest.mark.parametrize(
    "name, value",
    [
        ("ADMIN_IDS", "abc"),
        ("ADMIN_IDS", "12,bob"),
        ("ALLOWED_CHAT_IDS", "@channel"),
        ("QUESTIONS_PER_MINUTE", "x"),
        ("QUESTIONS_PER_MINUTE", "2.5"),
        ("QUESTIONS_PER_MINUTE", "0"),
        ("TOP_K", "-3"),
        ("WEBHOOK_PORT", "port"),
        ("MAX_UPLOAD_BYTES", "2MB"),
        ("LOG_QUESTIONS", "maybe"),
    ],
)
def test_malformed_values_raise_an_error_naming_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.load(env={name: value}, dotenv=None)
    # the same from .env
    with pytest.raises(SettingsError, match=name):
        Settings.load(env={}, dotenv=_dotenv(tmp_path, f"{name}={value}\n"))


def test_empty_values_mean_the_default():
    settings = Settings.from_values({"TOP_K": "", "CORPUS_DIR": "  ", "ADMIN_IDS": ""})
    assert settings == Settings()


def test_the_token_never_appears_in_repr_or_describe():
    settings = Settings.from_values({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": SECRET})
    assert settings.telegram_enabled
    for text in (repr(settings), str(settings), settings.describe()):
        assert TOKEN not in text and "AAF" not in text
        assert SECRET not in text
    described = settings.describe()
    assert "TELEGRAM_BOT_TOKEN=<set>" in described
    assert "CORPUS_DIR=seeds" in described
    assert "TELEGRAM_BOT_TOKEN=<empty>" in Settings().describe()


def test_check_token():
    assert Settings.from_values({"TELEGRAM_BOT_TOKEN": TOKEN}).check_token() == TOKEN
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        Settings().check_token()
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN") as caught:
        Settings.from_values({"TELEGRAM_BOT_TOKEN": "not-a-token"}).check_token()
    assert "not-a-token" not in str(caught.value)


@pytest.mark.parametrize(
    "base, file_url",
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
    ],
)
def test_base_file_url_is_derived_from_the_base_url(base, file_url):
    settings = Settings.from_values({"TELEGRAM_BASE_URL": base})
    assert settings.telegram_base_url == base
    assert settings.telegram_base_file_url == file_url


def test_an_explicit_base_file_url_wins():
    settings = Settings.from_values(
        {
            "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "TELEGRAM_BASE_FILE_URL": "http://files.example/file/bot",
        }
    )
    assert settings.telegram_base_file_url == "http://files.example/file/bot"
