"""The console's order pages: one order, its actions, its receipt, a new order."""
