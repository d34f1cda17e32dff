"""Event-sourced budget ledger (部门预算公开)."""

__version__ = "0.1.0"
