"""ClaimWorkflow (理赔) and its payload types."""
