"""The customer's tracking page `/t/{token}` and its lookup `/t` (issue 19 §2)."""
