"""Worker deployment versioning from settings: off unless both are set; on, the worker polls
as that version and the workflows it runs record it."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError
from temporalio.api.enums.v1 import VersioningBehavior as VersioningBehaviorProto
from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from config import Settings
from tests.support.api_harness import StackFactory, created
from tests.support.polling import eventually
from worker import deployment_config


def test_unversioned_when_unset() -> None:
    assert deployment_config(Settings()) is None


def test_name_and_build_id_make_the_version() -> None:
    config = deployment_config(Settings(deployment_name="waybill", build_id="2026-12-05.3"))
    assert config is not None and config.use_worker_versioning
    assert config.version == WorkerDeploymentVersion("waybill", "2026-12-05.3")
    assert config.default_versioning_behavior == VersioningBehavior.AUTO_UPGRADE


@pytest.mark.parametrize("given", [{"deployment_name": "waybill"}, {"build_id": "b1"}])
def test_one_without_the_other_is_refused(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="set together"):
        Settings(**given)


@pytest.mark.parametrize("given", [{"deployment_name": "way.bill", "build_id": "b1"},
                                   {"deployment_name": "", "build_id": "b1"},
                                   {"deployment_name": "waybill", "build_id": ""}])
def test_a_name_with_a_dot_or_an_empty_value_is_refused(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(**given)


@pytest.mark.one_engine  # no SQL under test: the version is Temporal's record
async def test_a_versioned_worker_runs_orders_once_its_version_is_current(
        make_stack: StackFactory, dev_env: WorkflowEnvironment, db_url: str) -> None:
    async with make_stack(db_url) as api:  # before versioning: an unversioned worker
        earlier = await created(api)
    name = f"waybill-{uuid.uuid4().hex[:8]}"
    async with make_stack(db_url, deployment_name=name, build_id="build-1") as api:

        async def made_current() -> bool:
            # What an operator does with `temporal worker deployment set-current-version`;
            # refused until the server has seen the new worker poll.
            try:
                await dev_env.client.workflow_service.set_worker_deployment_current_version(
                    SetWorkerDeploymentCurrentVersionRequest(
                        namespace=dev_env.client.namespace, deployment_name=name,
                        build_id="build-1", identity="test"))
            except RPCError:
                return False
            return True

        await eventually(made_current)
        order_id = await created(api)
        for each in (order_id, earlier):  # the order started unversioned moves over too
            resp = await api.event(each, "confirmed", {})
            assert resp.status_code == 200 and resp.json()["stage"] == "confirmed"

            described = await dev_env.client.get_workflow_handle(f"order-{each}").describe()
            info = described.raw_description.workflow_execution_info.versioning_info
            assert info.deployment_version.deployment_name == name
            assert info.deployment_version.build_id == "build-1"
            assert info.behavior == VersioningBehaviorProto.VERSIONING_BEHAVIOR_AUTO_UPGRADE
