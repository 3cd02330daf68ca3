"""Customer notices (issue 19 §3): the customer's opt-out page and staff's channel choice."""
