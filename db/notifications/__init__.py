"""The notification outbox, its templates, webhook subscriptions and the inbox."""
