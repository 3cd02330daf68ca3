"""Waiting for what trails a step: the read model behind its workflow, a ladder's timer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(probe: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    """Poll until `probe` returns something truthy: the read model trails the workflow a little."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.2)
