"""Carrier feeds (issue 19 §1): carriers' and aggregators' pushes turned into order events."""
