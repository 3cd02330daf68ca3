"""Documents over HTTP: reading uploads, archiving them, serving them back, table downloads."""
