"""The console's escalation queue and ladder pages."""
