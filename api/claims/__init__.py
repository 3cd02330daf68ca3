"""Claims (理赔) over HTTP: router, request and response bodies, views, and the service paths."""
