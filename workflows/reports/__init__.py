"""The scheduled report workflows and their payload types."""
