"""How much a worker runs at once: its activity slots and the threads that run them, and how
its workflow task polls are shared.

An order's projections run as local activities (workflows/read_model.py) in slots of their
own, so a long import batch or report never holds an order's update back; the executor has a
thread for every slot, within the database pool's 5 + 10 connections. The bench's skeleton
worker takes the same figures, so only the work differs.
"""

ACTIVITY_SLOTS = 8
PROJECTION_SLOTS = 6
EXECUTOR_THREADS = ACTIVITY_SLOTS + PROJECTION_SLOTS
# The share of the worker's workflow task polls on the task queue itself rather than on its
# sticky queue (the SDK's default is 0.2: one poll in five). A new order's first workflow task
# (and an order's next one after its worker died) comes only through the task queue, and its
# first event waits for it; with one poll in five, under load that task waited seconds while
# running orders' tasks went at once (bench.throughput, c=50: the first event's p99 7.2 s,
# every other event's 1.2 s). Half the polls: 3.6 s and 1.5 s.
NEW_TASK_POLL_SHARE = 0.5
