"""Delivering notifications apart from their order: one DeliveryWorkflow per outbox row, the sweep.
"""
