"""How much a worker runs at once, and how its workflow task polls are shared.

The worker and the bench's skeleton worker take the same figures, so only the work differs.
"""

# Activities at once, each on a thread of the activity executor (the database pool has 5 + 10).
ACTIVITY_SLOTS = 8
# The share of the worker's workflow task polls on the task queue itself rather than on its
# sticky queue (the SDK's default is 0.2: one poll in five). A new order's first workflow task
# (and an order's next one after its worker died) comes only through the task queue, and its
# first event waits for it. With one poll in five, under load that task waited seconds while
# running orders' tasks went at once: 200 orders at 50 clients, the first event's p99 4.7 s
# against 1.9 s for any other; with half the polls 2.5 s against 2.2 s, at the same orders/s
# (bench/README.md, "The first event's wait").
NEW_TASK_POLL_SHARE = 0.5
