"""Building import files and driving an import over HTTP until it is done."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.api_harness import Api
from tests.support.polling import eventually

HEADER = ["order_id", "customer_id", "customer_name", "customer_tier", "sku", "qty", "address",
          "city", "contact", "promised_ship_by", "promised_delivery_by"]


def order_rows(order_id: str, lines: int = 1, customer: str = "C-88",
               ship_in_h: float = 48) -> list[list[str]]:
    """One order as rows of the file: its lines, the order's fields repeated."""
    ship = (datetime.now(UTC) + timedelta(hours=ship_in_h)).replace(microsecond=0)
    deliver = ship + timedelta(hours=48)
    return [[order_id, customer, "Sanghong Apparel", "standard", f"SKU-{n + 1}", str(n + 2),
             "88 Century Ave", "Shanghai", "Li Lei", ship.isoformat(), deliver.isoformat()]
            for n in range(lines)]


def csv_file(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


async def upload(api: Api, data: bytes, filename: str = "orders.csv",
                 role: str = "operator") -> httpx.Response:
    return await api.http.post("/v1/orders/imports", headers=api.auth(role),
                               files={"file": (filename, data, "text/csv")})


async def finished(api: Api, import_id: str, timeout: float = 60) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = (await api.get(f"/v1/orders/imports/{import_id}")).json()
        return view if view["status"] in ("done", "failed") else None
    return await eventually(probe, timeout=timeout)


async def report(api: Api, import_id: str, lang: str = "en") -> list[list[str]]:
    resp = await api.get(f"/v1/orders/imports/{import_id}/report.csv", lang=lang)
    assert resp.status_code == 200, resp.text
    assert resp.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
