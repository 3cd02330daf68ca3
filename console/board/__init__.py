"""The console's board: orders by stage."""
