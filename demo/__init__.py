"""Demo traffic: made-up orders driven through the public API so the console has work to show."""
