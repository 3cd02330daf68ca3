"""Search attributes Waybill sets on order workflows, so Temporal's own tools can filter orders."""

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("WaybillStage")
CUSTOMER_ID = SearchAttributeKey.for_keyword("WaybillCustomerId")
CUSTOMER_TIER = SearchAttributeKey.for_keyword("WaybillCustomerTier")
SLA_BREACHED = SearchAttributeKey.for_bool("WaybillSlaBreached")

ALL = (STAGE, CUSTOMER_ID, CUSTOMER_TIER, SLA_BREACHED)
