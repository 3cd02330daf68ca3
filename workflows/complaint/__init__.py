"""ComplaintWorkflow (投诉) and its payload types."""
