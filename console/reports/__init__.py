"""The console's monthly follow-up report page (回访月报)."""
