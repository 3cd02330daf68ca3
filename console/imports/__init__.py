"""Bulk order import (issue 19 §4): CSV and XLSX files of orders, created in the background."""
