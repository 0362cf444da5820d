"""Settings come from the environment; bad ones stop startup with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import ConfigError, load_settings

BACKEND = Path(__file__).resolve().parent.parent
GOOD = {"DATABASE_URL": "postgresql://app:secret@db:5432/taskflow", "BETTER_AUTH_URL": "http://frontend:3000/"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.split("_")[0] in {"DATABASE", "BETTER", "JWT", "OPENAI", "CHAT", "DRAIN", "LOG", "PORT"}:
            monkeypatch.delenv(name)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_and_normalisation(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://app:secret@db:5432/taskflow"
    assert settings.jwks_url == "http://frontend:3000/api/auth/jwks"
    assert (settings.jwt_issuer, settings.jwt_audience) == ("taskflow", "taskflow-api")
    assert settings.openai_api_key is None and not settings.assistant_configured
    assert settings.openai_base_url == "https://api.openai.com/v1"
    assert settings.openai_model == "gpt-4o-mini"
    assert (settings.chat_timeout_seconds, settings.drain_seconds, settings.port) == (30, 5, 8000)
    assert settings.log_level == "info"


def test_everything_overridable(env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "DATABASE_URL": "postgresql+asyncpg://u@h/d",
        "JWT_ISSUER": "iss",
        "JWT_AUDIENCE": "aud",
        "OPENAI_API_KEY": "sk-x",
        "OPENAI_BASE_URL": "http://llm:8080/v1/",
        "OPENAI_MODEL": "m",
        "CHAT_TIMEOUT_SECONDS": "12.5",
        "DRAIN_SECONDS": "0",
        "LOG_LEVEL": "DEBUG",
        "PORT": "9000",
    }.items():
        env.setenv(name, value)
    settings = load_settings()
    assert settings.assistant_configured
    assert settings.openai_base_url == "http://llm:8080/v1"
    assert (settings.chat_timeout_seconds, settings.drain_seconds, settings.port) == (12.5, 0, 9000)
    assert settings.log_level == "debug"
    # The key is a secret: it never shows up in reprs or logs.
    assert "sk-x" not in repr(settings)


def test_sslmode_is_translated_for_asyncpg(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", "postgresql://u:p%40ss@db/app?sslmode=require&application_name=taskflow")
    assert load_settings().database_url == "postgresql+asyncpg://u:p%40ss@db/app?ssl=require&application_name=taskflow"


def test_empty_api_key_means_not_configured(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_API_KEY", "")
    assert not load_settings().assistant_configured


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", None, "DATABASE_URL is not set; expected a URL like postgresql://"),
        ("DATABASE_URL", "sqlite:///x.db", "DATABASE_URL is invalid (scheme 'sqlite' is not postgresql)"),
        ("DATABASE_URL", "postgresql:///taskflow", "DATABASE_URL is invalid (it names no host)"),
        ("DATABASE_URL", "postgresql://db:5432", "DATABASE_URL is invalid (it names no database)"),
        ("BETTER_AUTH_URL", None, "BETTER_AUTH_URL is not set; expected the frontend's base URL"),
        ("BETTER_AUTH_URL", "frontend:3000", "BETTER_AUTH_URL is invalid ('frontend:3000' is not an http(s) URL"),
        ("OPENAI_BASE_URL", "ftp://x", "OPENAI_BASE_URL is invalid"),
        ("CHAT_TIMEOUT_SECONDS", "0", "CHAT_TIMEOUT_SECONDS is invalid"),
        ("DRAIN_SECONDS", "soon", "DRAIN_SECONDS is invalid"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL is invalid"),
        ("PORT", "70000", "PORT is invalid"),
        ("JWT_AUDIENCE", "", "JWT_AUDIENCE is invalid"),
    ],
)
def test_bad_values_name_the_variable(env: pytest.MonkeyPatch, name: str, value: str | None, message: str) -> None:
    if value is None:
        env.delenv(name)
    else:
        env.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    line = str(caught.value)
    assert line.startswith("configuration error: ")
    assert message in line
    assert "\n" not in line


def test_server_refuses_to_start_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=BACKEND,
        env={"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1", "DATABASE_URL": "postgresql://db/x"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "configuration error: BETTER_AUTH_URL is not set; expected the frontend's base URL, like "
        "http://todo-frontend:3000 (JWKS is read from {BETTER_AUTH_URL}/api/auth/jwks)\n"
    )
