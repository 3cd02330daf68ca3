"""Escalations over HTTP: the queue, one ladder, and acting on it."""
