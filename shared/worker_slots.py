"""How much a worker runs at once: its activity slots and the threads that run them.

An order's projections run as local activities (workflows/read_model.py) in slots of their
own, so a long import batch or report never holds an order's update back; the executor has a
thread for every slot, within the database pool's 5 + 10 connections. The bench's skeleton
worker takes the same figures, so only the work differs.
"""

ACTIVITY_SLOTS = 8
PROJECTION_SLOTS = 6
EXECUTOR_THREADS = ACTIVITY_SLOTS + PROJECTION_SLOTS
