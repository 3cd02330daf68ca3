"""Short units of work off the event loop.

An async handler never touches the database on the event loop and never holds a connection
while it awaits Temporal or the network: each piece of database work is a function of a session,
run by `Db.run` in the thread pool inside its own transaction, which commits and returns the
connection to the pool before the handler goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from db.engine import transaction

P = ParamSpec("P")
T = TypeVar("T")


class Db:
    """Runs `fn(session, *args)` in one short transaction: committed if it returns, rolled back
    if it raises. Objects it returns are detached with their loaded attributes."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._engine = sessions.kw["bind"]  # the engine the sessions are bound to

    async def run(self, fn: Callable[Concatenate[Session, P], T], *args: P.args,
                  **kwargs: P.kwargs) -> T:
        # bound first: mypy loses T passing the generic `here` through a second ParamSpec
        return await run_in_threadpool(partial(self.here, fn, *args, **kwargs))

    def here(self, fn: Callable[Concatenate[Session, P], T], *args: P.args,
            **kwargs: P.kwargs) -> T:
        """The same unit on the calling thread (for code already off the event loop)."""
        with transaction(self._sessions) as session:
            return fn(session, *args, **kwargs)

    def read_here(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args,
                  **kwargs: P.kwargs) -> T:
        """A read on a bare connection (no ORM session), on the calling thread: for a lookup
        every request makes, where the session's own work costs more than the query."""
        with self._engine.connect() as connection:
            return fn(connection, *args, **kwargs)


async def get_db(request: Request) -> Db:  # async: no thread-pool hop (api/deps.py)
    db: Db = request.app.state.db
    return db


DbDep = Annotated[Db, Depends(get_db)]
