"""Receipts (回单): what the API and the console do with an order's signed receipt."""
