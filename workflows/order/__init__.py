"""OrderWorkflow: the order's run (workflow.py), its rules (deadlines, exceptions, follow-up), its
types.
"""
