"""Receipt (回单) upload and download over HTTP: API -> archive -> Temporal -> worker -> DB."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select, update

from db.documents import queries as documents
from db.documents.models import Document
from db.engine import make_engine, session_factory, transaction
from db.orders.models import Order
from tests.support.api_harness import Api, StackFactory, created, error_code
from tests.support.builders import FULL_PICK, POD, SHIP, minimal_pdf, minimal_png
from tests.support.moto_s3 import moto_server, new_bucket, raw_client, s3_settings
from tests.support.polling import eventually
from tests.support.receipts_harness import SMALL_LIMIT, delivered, upload


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"receipt_max_bytes": SMALL_LIMIT}

async def order(api: Api, order_id: str) -> dict[str, Any]:
    return (await api.get(f"/v1/orders/{order_id}")).json()


def document_rows(api: Api) -> list[Document]:
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        rows = list(session.scalars(select(Document)))
    engine.dispose()
    return rows


def archived_files(api: Api) -> list[Path]:
    root = api.settings.data_dir / "archive"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.one_engine
async def test_bad_uploads_are_refused_and_nothing_is_stored(api: Api) -> None:
    order_id = await delivered(api)
    cases = [
        (await upload(api, order_id, b""), 422, "empty_file"),
        (await upload(api, order_id, b"%PDF-" + b"x" * SMALL_LIMIT), 413, "file_too_large"),
        (await upload(api, order_id, b"this is only text, whatever its name says\n"),
         415, "unsupported_media_type"),
        (await upload(api, order_id, b"GIF89a\x01\x00", "receipt.png", "image/png"),
         415, "unsupported_media_type"),
        (await upload(api, order_id, None, note="no file here"), 422, "missing_file"),
        (await api.http.post(f"/v1/orders/{order_id}/receipt", json={"file": "x"},
                             headers=api.auth("operator")), 422, "missing_file"),
    ]
    for resp, status, code in cases:
        assert resp.status_code == status, resp.text
        assert error_code(resp) == code
    wrong_type = cases[2][0].json()["error"]["details"]
    assert wrong_type["claimed_type"] == "application/pdf"
    assert wrong_type["allowed"] == ["application/pdf", "image/jpeg", "image/png"]
    assert cases[1][0].json()["error"]["details"]["max_bytes"] == SMALL_LIMIT

    assert archived_files(api) == [] and document_rows(api) == []
    view = await order(api, order_id)
    assert view["stage"] == "delivered" and view["receipt"] is None
    assert view["next_deadline"]["kind"] == "receipt_late"


@pytest.mark.one_engine
async def test_a_huge_upload_is_refused_from_its_declared_length(api: Api) -> None:
    order_id = await delivered(api)
    big = b"%PDF-" + os.urandom(SMALL_LIMIT * 64)
    resp = await upload(api, order_id, big)
    assert resp.status_code == 413 and error_code(resp) == "file_too_large"
    assert archived_files(api) == []


@pytest.mark.one_engine
async def test_a_streamed_upload_is_read_only_up_to_the_limit(api: Api) -> None:
    """Without a Content-Length the body is read as it comes, and reading stops at the limit."""
    order_id = await delivered(api)
    boundary = "receipt-boundary"
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-").encode()
        for _ in range(200):
            pulled += 1
            yield b"0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    resp = await api.http.post(
        f"/v1/orders/{order_id}/receipt", content=body(),
        headers={**api.auth("operator"),
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert resp.status_code == 413 and error_code(resp) == "file_too_large"
    assert pulled <= 3  # of 200 chunks (12.5 MiB): the rest was never read
    assert archived_files(api) == [] and document_rows(api) == []


async def test_the_same_file_sent_twice_at_once_is_one_receipt(api: Api) -> None:
    order_id = await delivered(api)
    pdf = minimal_pdf()
    first, second = await asyncio.gather(upload(api, order_id, pdf), upload(api, order_id, pdf))
    assert {first.status_code, second.status_code} <= {200, 201}, (first.text, second.text)
    assert first.json()["version"] == second.json()["version"] == 1
    versions = (await api.get(f"/v1/orders/{order_id}/receipt/versions")).json()["items"]
    assert [v["sha256"] for v in versions] == [sha(pdf)]
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    assert [e["type"] for e in timeline].count("receipt_returned") == 1
    assert [r.sha256 for r in document_rows(api)] == [sha(pdf)]


@pytest.mark.one_engine
async def test_order_must_exist_be_delivered_and_be_open(api: Api) -> None:
    pdf = minimal_pdf()
    resp = await upload(api, "SO-nope", pdf)
    assert resp.status_code == 404 and error_code(resp) == "order_not_found"

    order_id = await created(api)
    resp = await upload(api, order_id, pdf)
    assert resp.status_code == 409 and error_code(resp) == "order_not_delivered"
    assert resp.json()["error"]["details"]["current_stage"] == "received"

    await api.event(order_id, "cancelled", {"reason": "customer withdrew"})
    await eventually(lambda: _stage_is(api, order_id, "cancelled"))
    resp = await upload(api, order_id, pdf)
    assert resp.status_code == 409 and error_code(resp) == "order_closed"
    assert archived_files(api) == [] and document_rows(api) == []


async def _stage_is(api: Api, order_id: str, stage: str) -> bool:
    return (await order(api, order_id))["stage"] == stage


@pytest.mark.one_engine
async def test_roles_who_may_upload_and_read(api: Api) -> None:
    order_id = await delivered(api)
    resp = await upload(api, order_id, minimal_pdf(), role="auditor")
    assert resp.status_code == 403 and error_code(resp) == "forbidden"
    resp = await api.http.post(f"/v1/orders/{order_id}/receipt",
                               files={"file": ("r.pdf", minimal_pdf(), "application/pdf")})
    assert resp.status_code == 401
    resp = await upload(api, order_id, minimal_pdf(), role="integration")
    assert resp.status_code == 201, resp.text
    for role in ("operator", "supervisor", "integration", "auditor", "admin"):
        got = await api.get(f"/v1/orders/{order_id}/receipt", role=role)
        assert got.status_code == 200 and got.content == minimal_pdf()


async def test_workflow_rejection_keeps_the_document_record_and_names_it_in_no_event(
        api: Api) -> None:
    """The read model says delivered but the workflow is still in transit (a stale read).

    The `documents` row stays (issue 17: the table is append-only, and the archive does hold
    the bytes); no event names the document until the upload goes through."""
    order_id = await created(api)
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP)):
        assert (await api.event(order_id, type_, data)).status_code == 200
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        session.execute(update(Order).where(Order.order_id == order_id)
                        .values(stage="delivered"))
    pdf = minimal_pdf()
    resp = await upload(api, order_id, pdf)
    assert resp.status_code == 409 and error_code(resp) == "invalid_transition"
    assert [r.sha256 for r in document_rows(api)] == [sha(pdf)]
    with transaction(session_factory(engine)) as session:
        assert documents.is_archived(session, sha(pdf))
    engine.dispose()
    assert (await order(api, order_id))["receipt"] is None

    # Once the order is really delivered the same bytes go through.
    assert (await api.event(order_id, "delivered", POD)).status_code == 200
    resp = await upload(api, order_id, pdf)
    assert resp.status_code == 201, resp.text
    assert [r.sha256 for r in document_rows(api)] == [sha(pdf)]


# -- the happy path --------------------------------------------------------------------------


async def test_pdf_receipt_is_archived_and_clears_the_receipt_deadline(api: Api) -> None:
    order_id = await delivered(api)
    pdf = minimal_pdf()
    resp = await upload(api, order_id, pdf, "回单-SO.pdf")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body == {
        "order_id": order_id, "version": 1, "sha256": sha(pdf), "content_type": "application/pdf",
        "size": len(pdf), "filename": "回单-SO.pdf", "ref": f"archive:sha256:{sha(pdf)}",
        "returned_at": body["returned_at"], "actor": body["actor"], "previous_sha256": None,
        "duplicate": False, "stage": "receipt_archived"}

    view = await order(api, order_id)
    assert view["stage"] == "receipt_archived" and view["stage_times"]["receipt_archived"]
    assert (view["next_deadline"] or {}).get("kind") != "receipt_late"
    assert view["receipt"]["document"]["sha256"] == sha(pdf)
    assert view["receipt"]["document"]["ref"] == f"archive:sha256:{sha(pdf)}"

    got = await api.get(f"/v1/orders/{order_id}/receipt", role="auditor")
    assert got.status_code == 200
    assert got.content == pdf and sha(got.content) == got.headers["x-content-sha256"] == sha(pdf)
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["etag"] == f'"{sha(pdf)}"'
    assert f"filename*=UTF-8''{quote('回单-SO.pdf')}" in got.headers["content-disposition"]
    assert got.headers["content-disposition"].startswith("attachment;")
    revalidate = {**api.auth("auditor"), "If-None-Match": got.headers["etag"]}
    cached = await api.http.get(f"/v1/orders/{order_id}/receipt", headers=revalidate)
    assert cached.status_code == 304 and cached.content == b""

    stored = archived_files(api)
    assert [p.name for p in stored] == [sha(pdf)]
    assert stored[0].relative_to(api.settings.data_dir / "archive").parts[:3] == (
        "sha256", sha(pdf)[:2], sha(pdf)[2:4])
    [row] = document_rows(api)
    assert (row.sha256, row.content_type, row.size) == (sha(pdf), "application/pdf", len(pdf))
    assert row.created_by == "test-operator"

    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    [event] = [e for e in timeline if e["type"] == "receipt_returned"]
    assert event["event_id"] == f"receipt-{sha(pdf)[:32]}"
    assert event["data"]["document"]["sha256"] == sha(pdf)


async def test_a_receipt_scanned_in_later_keeps_when_it_came_back(api: Api) -> None:
    back = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    # The order was received before the receipt came back: nothing is dated before its order.
    order_id = await delivered(api, received_at=(back - timedelta(hours=1)).isoformat())
    future = await api.http.post(
        f"/v1/orders/{order_id}/receipt", params={"returned_at": (back + timedelta(days=1)
                                                                  ).isoformat()},
        files={"file": ("r.pdf", minimal_pdf(), "application/pdf")}, headers=api.auth("operator"))
    assert future.status_code == 422 and error_code(future) == "validation_error"
    assert (await order(api, order_id))["stage"] == "delivered"

    resp = await api.http.post(
        f"/v1/orders/{order_id}/receipt", params={"returned_at": back.isoformat()},
        files={"file": ("r.pdf", minimal_pdf(), "application/pdf")}, headers=api.auth("operator"))
    assert resp.status_code == 201, resp.text
    assert datetime.fromisoformat(resp.json()["returned_at"]) == back
    view = await order(api, order_id)
    assert datetime.fromisoformat(view["stage_times"]["receipt_archived"]) == back


async def test_the_same_bytes_again_are_the_same_receipt(api: Api) -> None:
    order_id = await delivered(api)
    png = minimal_png()
    first = await upload(api, order_id, png, "scan.png", "image/png")
    assert first.status_code == 201, first.text
    again = await upload(api, order_id, png, "renamed.png", "application/octet-stream")
    assert again.status_code == 200, again.text
    assert again.json() == {**first.json(), "duplicate": True}
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    assert [e["type"] for e in timeline].count("receipt_returned") == 1
    versions = (await api.get(f"/v1/orders/{order_id}/receipt/versions")).json()["items"]
    assert len(versions) == 1 and versions[0]["filename"] == "scan.png"
    got = await api.get(f"/v1/orders/{order_id}/receipt")
    assert got.content == png and got.headers["content-type"] == "image/png"
    assert len(document_rows(api)) == 1 and len(archived_files(api)) == 1


async def test_a_later_receipt_is_a_new_version_chained_to_the_first(api: Api) -> None:
    order_id = await delivered(api)
    pdf, png = minimal_pdf(), minimal_png()
    assert (await upload(api, order_id, pdf)).status_code == 201
    second = await upload(api, order_id, png, "better-scan.png", "image/png")
    assert second.status_code == 201, second.text  # needs the lead's receipt versions
    assert second.json()["version"] == 2 and second.json()["previous_sha256"] == sha(pdf)

    versions = (await api.get(f"/v1/orders/{order_id}/receipt/versions", role="auditor")).json()
    assert [(v["version"], v["sha256"], v["previous_sha256"]) for v in versions["items"]] == [
        (1, sha(pdf), None), (2, sha(png), sha(pdf))]
    latest = await api.get(f"/v1/orders/{order_id}/receipt")
    assert latest.content == png and latest.headers["x-receipt-version"] == "2"
    first = await api.get(f"/v1/orders/{order_id}/receipt", version=1)
    assert first.content == pdf and first.headers["content-type"] == "application/pdf"
    view = await order(api, order_id)
    assert view["receipt"]["document"]["sha256"] == sha(png)
    assert datetime.fromisoformat(view["receipt"]["returned_at"]) == \
        datetime.fromisoformat(versions["items"][0]["returned_at"])

    # Re-sending version 1's bytes names version 1 again; it does not add a version.
    again = await upload(api, order_id, pdf)
    assert again.status_code == 200 and again.json()["version"] == 1
    assert again.json()["duplicate"] is True


@pytest.mark.one_engine
async def test_reading_a_receipt_that_does_not_exist(api: Api) -> None:
    order_id = await delivered(api)
    resp = await api.get(f"/v1/orders/{order_id}/receipt")
    assert resp.status_code == 404 and error_code(resp) == "receipt_not_found"
    versions = await api.get(f"/v1/orders/{order_id}/receipt/versions")
    assert versions.status_code == 200 and versions.json()["items"] == []
    resp = await api.get("/v1/orders/SO-nope/receipt")
    assert resp.status_code == 404 and error_code(resp) == "order_not_found"
    assert (await upload(api, order_id, minimal_pdf())).status_code == 201
    resp = await api.get(f"/v1/orders/{order_id}/receipt", version=7)
    assert resp.status_code == 404 and error_code(resp) == "receipt_version_not_found"
    resp = await api.get(f"/v1/orders/{order_id}/receipt", version=0)
    assert resp.status_code == 422


# -- integrity -------------------------------------------------------------------------------


async def test_archive_integrity_a_changed_blob_is_refused_not_served(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    order_id = await delivered(api)
    pdf = minimal_pdf()
    assert (await upload(api, order_id, pdf)).status_code == 201
    [path] = archived_files(api)
    os.chmod(path, 0o644)
    tampered = pdf.replace(b"Li Lei", b"Nobody")
    path.write_bytes(tampered)

    with caplog.at_level(logging.ERROR, logger="waybill.api.receipts"):
        resp = await api.get(f"/v1/orders/{order_id}/receipt", role="auditor")
    assert resp.status_code == 500
    assert error_code(resp) == "document_corrupt"
    assert resp.json()["error"]["details"]["sha256"] == sha(pdf)
    assert b"Nobody" not in resp.content
    [record] = [r for r in caplog.records if r.getMessage() == "archived receipt is corrupt"]
    assert record.levelno == logging.ERROR
    assert (record.order_id, record.sha256, record.version) == (order_id, sha(pdf), 1)

    # A new upload of the genuine bytes cannot overwrite the evidence of tampering either.
    again = await upload(api, order_id, pdf)
    assert again.status_code == 200 and path.read_bytes() == tampered


# -- S3 --------------------------------------------------------------------------------------


async def test_receipts_on_an_s3_compatible_archive(
        make_stack: StackFactory, db_url: str) -> None:
    with moto_server() as endpoint:
        bucket = new_bucket(endpoint)
        async with make_stack(db_url,
                              **s3_settings(endpoint, bucket)) as api:
            order_id = await delivered(api)
            pdf = minimal_pdf()
            assert (await upload(api, order_id, pdf)).status_code == 201
            raw = raw_client(endpoint)
            stored = raw.get_object(Bucket=bucket, Key=f"sha256/{sha(pdf)}")["Body"].read()
            assert stored == pdf and archived_files(api) == []
            got = await api.get(f"/v1/orders/{order_id}/receipt")
            assert got.content == pdf

            raw.put_object(Bucket=bucket, Key=f"sha256/{sha(pdf)}", Body=b"%PDF-forged")
            resp = await api.get(f"/v1/orders/{order_id}/receipt")
            assert resp.status_code == 500 and error_code(resp) == "document_corrupt"
