"""Audit findings (审校): check a published disclosure and report every inconsistency with
its place. Rules are data (projections/audit/rules.yaml) plus one function each (checks.py)."""

from .engine import Audited, PriorCheck, audit_document, audit_narrative
from .model import AuditReport, Finding, Place, rule_set

__all__ = ["Audited", "AuditReport", "PriorCheck", "Finding", "Place", "audit_document", "audit_narrative", "rule_set"]
