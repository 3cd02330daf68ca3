"""Orders: what the API and the console both do to an order (service.py)."""
