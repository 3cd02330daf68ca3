"""Staff's side of a customer's notice channels: `GET`/`PUT
/v1/customers/{customer_id}/notice-preferences` (the customer's side, the opt-out page, is
driven end to end in tests/activities/notify/test_customer_notices.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api_harness import Api, error_code

pytestmark = [pytest.mark.one_engine]
PATH = "/v1/customers/C-77/notice-preferences"


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"worker": False}


async def test_a_customer_who_never_chose_hears_on_both_and_staff_can_change_it(
        api: Api) -> None:
    fresh = await api.get(PATH, role="auditor")
    assert fresh.status_code == 200
    assert fresh.json() == {"customer_id": "C-77", "email": True, "sms": True,
                            "choice": "both", "updated_at": None, "updated_by": None}
    put = await api.http.put(PATH, headers=api.auth("operator"),
                             json={"email": True, "sms": False})
    assert put.status_code == 200 and put.json()["choice"] == "email"
    assert put.json()["updated_by"] == "test-operator"
    none = await api.http.put(PATH, headers=api.auth("supervisor"),
                              json={"email": False, "sms": False})
    assert none.json()["choice"] == "none"
    assert (await api.get(PATH)).json()["choice"] == "none"


@pytest.mark.parametrize("body", [{"email": True}, {"email": "maybe", "sms": True},
                                  {"email": True, "sms": True, "fax": True}, []])
async def test_a_bad_body_is_422_and_changes_nothing(api: Api, body: Any) -> None:
    resp = await api.http.put("/v1/customers/C-78/notice-preferences",
                              headers=api.auth("operator"), json=body)
    assert resp.status_code == 422 and error_code(resp) == "validation_error"
    assert (await api.get("/v1/customers/C-78/notice-preferences")).json()["choice"] == "both"


async def test_who_may_read_and_set(api: Api) -> None:
    for role in ("auditor", "integration"):
        resp = await api.http.put(PATH, headers=api.auth(role), json={"email": 1, "sms": 1})
        assert resp.status_code == 403, role
    assert (await api.get(PATH, role="integration")).status_code == 403
    assert (await api.http.get(PATH)).status_code == 401
    for bad in ("x" * 65, "-C1", "C 1", "客户"):
        resp = await api.get(f"/v1/customers/{bad}/notice-preferences")
        assert resp.status_code == 422 and error_code(resp) == "validation_error", bad
