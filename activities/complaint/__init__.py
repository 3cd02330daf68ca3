"""A complaint's activities: its read model and the notices its steps give rise to."""
