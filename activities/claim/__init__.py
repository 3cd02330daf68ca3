"""A claim's activities: its read model and the notices its changes give rise to."""
