"""Notifications leaving Waybill: delivery by webhook, e-mail or inbox, signed, to allowed targets.
"""
