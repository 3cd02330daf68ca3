"""Search attributes Waybill sets on order workflows, so Temporal's own tools can filter orders."""

from temporalio import workflow
from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("WaybillStage")
CUSTOMER_ID = SearchAttributeKey.for_keyword("WaybillCustomerId")
CUSTOMER_TIER = SearchAttributeKey.for_keyword("WaybillCustomerTier")
SLA_BREACHED = SearchAttributeKey.for_bool("WaybillSlaBreached")

ALL = (STAGE, CUSTOMER_ID, CUSTOMER_TIER, SLA_BREACHED)


def show_stage(shown: str | None, stage: str) -> str:
    """Write the stage search attribute if it differs from what was last written (`shown`);
    returns what it shows now. Called in workflow code only."""
    if shown != stage:
        workflow.upsert_search_attributes([STAGE.value_set(stage)])
    return stage
