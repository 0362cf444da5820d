"""Alembic migrations, runnable without a shell: `python -m app.migrate`.

Configuration is built in code (no alembic.ini), so the image needs only the
`app` package. Reads DATABASE_URL only.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.config import ConfigError, load_database_settings
from app.core.logging import configure_logging
from app.db import DATABASE_UNAVAILABLE

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

log = logging.getLogger("app.migrate")


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: configparser would treat a
    # '%' in a URL-encoded password as interpolation syntax.
    config.attributes["database_url"] = database_url
    return config


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def known_revisions() -> frozenset[str]:
    """Every migration this code ships, head included."""
    return frozenset(script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions())


async def database_revision(connection: AsyncConnection) -> str | None:
    """The migration the database is at, or None for an empty database."""
    exists = await connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    return await connection.scalar(text("SELECT version_num FROM alembic_version"))


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def main() -> int:
    try:
        settings = load_database_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging("info")
    log.info("migrating database", extra={"target": head_revision()})
    try:
        upgrade(settings.database_url)
    except DATABASE_UNAVAILABLE as error:
        url = make_url(settings.database_url)
        log.error(
            "migration failed: cannot reach the database; check DATABASE_URL and that Postgres is up",
            extra={"host": url.host, "port": url.port, "database": url.database, "error": str(error) or repr(error)},
        )
        return 1
    log.info("database is at head", extra={"revision": head_revision()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
