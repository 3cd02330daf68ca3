"""What every event endpoint shares: idempotency, event times, workflow refusals as errors."""
