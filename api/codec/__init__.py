"""The codec endpoint the Temporal Web UI and CLI call to read (and write) encrypted payloads."""
