"""The claims (理赔) pages: the queue and one claim with its step actions."""
