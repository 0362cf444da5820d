"""Every setting comes from the environment (the TaskFlow app contract).

A missing or malformed variable stops startup with one line that names the
variable and says what is expected: `load_settings` turns pydantic's
validation error into `ConfigError`, whose message is that line.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What each variable must look like, quoted in the one-line startup error.
EXPECTED = {
    "DATABASE_URL": "a URL like postgresql://user:password@host:5432/dbname (postgresql:// or postgresql+asyncpg://)",
    "BETTER_AUTH_URL": (
        "the frontend's base URL, like http://todo-frontend:3000 (JWKS is read from {BETTER_AUTH_URL}/api/auth/jwks)"
    ),
    "JWT_ISSUER": "a non-empty string equal to the `iss` claim the frontend signs (default taskflow)",
    "JWT_AUDIENCE": "a non-empty string equal to the `aud` claim the frontend signs (default taskflow-api)",
    "OPENAI_API_KEY": "an API key string, or unset to disable the assistant",
    "OPENAI_BASE_URL": "an http(s) URL of an OpenAI-compatible API, like https://api.openai.com/v1",
    "OPENAI_MODEL": "a non-empty model name, like gpt-4o-mini",
    "CHAT_TIMEOUT_SECONDS": "a number of seconds > 0 and <= 600",
    "DRAIN_SECONDS": "a number of seconds >= 0 and <= 300",
    "LOG_LEVEL": "one of debug, info, warning, error",
    "PORT": "a TCP port number 1-65535",
}


class ConfigError(Exception):
    """The environment is unusable; `str(err)` is the single line to print."""


def _http_url(value: str) -> str:
    """Validate an http(s) base URL and drop a trailing slash so paths can be appended."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL with a host")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), parts.query, ""))


class DatabaseSettings(BaseSettings):
    """The part of the environment that `python -m app.migrate` needs."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    database_url: str

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("postgresql", "postgresql+asyncpg"):
            raise ValueError(f"scheme {parts.scheme or '(none)'!r} is not postgresql")
        if not parts.hostname:
            raise ValueError("it names no host")
        if not parts.path.strip("/"):
            raise ValueError("it names no database")
        # libpq's (and node-postgres') `sslmode` is asyncpg's `ssl`, with the same values,
        # so one URL works for the frontend and the backend.
        query = urlencode([("ssl" if key == "sslmode" else key, value) for key, value in parse_qsl(parts.query)])
        return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, query, ""))


class Settings(DatabaseSettings):
    """The whole runtime configuration of the API server."""

    better_auth_url: str
    jwt_issuer: str = Field(default="taskflow", min_length=1)
    jwt_audience: str = Field(default="taskflow-api", min_length=1)
    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = Field(default="gpt-4o-mini", min_length=1)
    chat_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    drain_seconds: float = Field(default=5.0, ge=0, le=300)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    port: int = Field(default=8000, ge=1, le=65535)

    @field_validator("better_auth_url")
    @classmethod
    def _auth_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("openai_base_url")
    @classmethod
    def _openai_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("openai_api_key", mode="before")
    @classmethod
    def _empty_key_is_unset(cls, value: object) -> object:
        # Kubernetes renders an optional secret as an empty variable.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @cached_property
    def jwks_url(self) -> str:
        return f"{self.better_auth_url}/api/auth/jwks"

    @property
    def assistant_configured(self) -> bool:
        return self.openai_api_key is not None


def describe(error: ValidationError) -> str:
    """One line naming every bad variable, why, and what is expected."""
    problems = []
    for item in error.errors():
        variable = str(item["loc"][0]).upper() if item["loc"] else "environment"
        expected = EXPECTED.get(variable, "a valid value")
        if item["type"] == "missing":
            problems.append(f"{variable} is not set; expected {expected}")
        else:
            reason = str(item["msg"]).removeprefix("Value error, ")
            problems.append(f"{variable} is invalid ({reason}); expected {expected}")
    return "configuration error: " + "; ".join(problems)


def load_settings() -> Settings:
    """Read the server's environment, raising ConfigError with a one-line message."""
    return _load(Settings)


def load_database_settings() -> DatabaseSettings:
    """Read only what migrations need, raising ConfigError with a one-line message."""
    return _load(DatabaseSettings)


SettingsT = TypeVar("SettingsT", bound=DatabaseSettings)


def _load(kind: type[SettingsT]) -> SettingsT:
    try:
        return kind()
    except ValidationError as error:
        raise ConfigError(describe(error)) from None
