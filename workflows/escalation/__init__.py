"""EscalationWorkflow, one ladder per breach, and how parents start and clear ladders."""
