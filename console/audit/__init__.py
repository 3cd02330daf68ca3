"""The console's audit pages: one order's business timeline and raw history."""
