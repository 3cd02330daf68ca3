"""The API's edge: what keeps a request from blocking the process or forgetting a caller.

* `units`: database work in short units of work off the event loop (`Db.run`);
* `deadline`: one deadline for all of a request's Temporal calls;
* `request_id`: every request and its log lines carry an id, echoed in `X-Request-ID`;
* `body_limit`: no body larger than its limit is read, before parsing or authentication;
* `payload_limit`: no workflow input larger than Temporal takes is sent.
"""
