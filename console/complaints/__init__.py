"""The complaints (投诉) pages: the queue and one complaint with its step actions."""
