"""Framework-free pieces several layers need: survey links, survey questions, the Temporal
connection.
"""
