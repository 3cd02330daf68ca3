"""HTTP requests counted by route template, never by raw path, and by a bounded method."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from api.edge.metrics import HttpMetricsMiddleware
from observability.metrics import HTTP_REQUESTS


def app() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app.add_middleware(HttpMetricsMiddleware)
    return app


def count(method: str, route: str, status: str) -> float:
    return HTTP_REQUESTS.labels(method=method, route=route, status=status)._value.get()


async def test_requests_are_counted_by_template_and_status() -> None:
    before = (count("GET", "/v1/things/{thing_id}", "200"), count("GET", "unmatched", "404"),
              count("other", "unmatched", "404"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()),
                                 base_url="http://t") as http:
        assert (await http.get("/v1/things/a-1")).status_code == 200
        assert (await http.get("/v1/things/b-2")).status_code == 200
        assert (await http.get("/nowhere/c-3")).status_code == 404
        await http.request("BREW", "/nowhere")
    assert count("GET", "/v1/things/{thing_id}", "200") == before[0] + 2
    assert count("GET", "unmatched", "404") == before[1] + 1
    assert count("other", "unmatched", "404") == before[2] + 1
    families = {s.labels.get("route") for f in HTTP_REQUESTS.collect() for s in f.samples}
    assert not {"/v1/things/a-1", "/nowhere/c-3"} & families
