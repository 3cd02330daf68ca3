"""Alembic environment: the URL comes from the caller's config, else from Waybill's settings."""

from alembic import context

import db.registry  # noqa: F401  (registers every table)
from config import Settings
from db.base import Base
from db.engine import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings().db_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # The engine keeps its own pool: swapping it (for a NullPool) dropped the pool's first-connect
    # hook, so the SQLite dialect never learnt the server version and every batch operation that
    # reflects a table (the downgrade of 0009) failed. dispose() below closes what it opened.
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
