"""Alembic migrations: from an empty database, idempotent, and matching the models."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables)
from app.migrate import head_revision
from tests.conftest import Databases, sql

BACKEND = Path(__file__).resolve().parent.parent


def migrate(url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m app.migrate` exactly as the image runs it: no shell, env only."""
    return subprocess.run(
        [sys.executable, "-m", "app.migrate"],
        cwd=BACKEND,
        env={"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1", "DATABASE_URL": url, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_from_empty_and_again(databases: Databases) -> None:
    url = databases.create("taskflow_migrate")
    # With libpq's sslmode, as a DATABASE_URL shared with the frontend may carry it.
    first = migrate(f"{url}?sslmode=disable")
    assert first.returncode == 0, first.stderr
    tables = {r["tablename"] for r in sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"alembic_version", "tasks", "conversations", "messages"}
    assert sql(url, "SELECT version_num FROM alembic_version")[0]["version_num"] == head_revision()
    # Logs are JSON lines.
    assert '"msg": "database is at head"' in first.stderr

    again = migrate(url)
    assert again.returncode == 0, again.stderr
    assert sql(url, "SELECT count(*) AS n FROM alembic_version")[0]["n"] == 1


def test_migrations_match_the_models(database_url: str) -> None:
    async def differences() -> list[object]:
        engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://"))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts={"compare_type": True}), SQLModel.metadata
                    )
                )
        finally:
            await engine.dispose()

    assert asyncio.run(differences()) == []


def test_migrate_config_errors_are_one_line() -> None:
    result = migrate("mysql://root@localhost/db")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("configuration error: DATABASE_URL is invalid (scheme 'mysql' is not postgresql)")


def test_migrate_reports_an_unreachable_database() -> None:
    result = migrate("postgresql://postgres@127.0.0.1:9/none")
    assert result.returncode == 1
    assert "migration failed: cannot reach the database" in result.stderr
    assert '"port": 9' in result.stderr
    assert "Traceback" not in result.stderr
