"""The operations console: server-rendered pages under /console for ops staff and auditors."""
