"""`python -m ops.migrate`: apply the Alembic migrations to ERRAND_DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from providers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def upgrade(database_url: str, revision: str = "head") -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    url = Settings(database_url=database_url).sqlalchemy_url()
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    command.upgrade(config, revision)


def main() -> None:
    upgrade(Settings().database_url)


if __name__ == "__main__":
    main()
