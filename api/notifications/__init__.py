"""Webhook subscriptions and the in-app inbox over HTTP."""
