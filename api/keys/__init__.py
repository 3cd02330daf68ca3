"""API keys over HTTP: the admin router, its bodies, key rules and key scopes."""
