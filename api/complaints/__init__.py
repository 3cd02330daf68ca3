"""Complaints (投诉) over HTTP: router and request and response bodies."""
