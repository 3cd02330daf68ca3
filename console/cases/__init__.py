"""What the claims and complaints pages share: filters, forms, refusals and the timeline."""
