"""The console's webhook subscription pages (admins)."""
