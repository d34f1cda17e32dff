"""Read-model tables (SQLAlchemy Core). Amounts are integers in 分, so sums in SQL are exact
on SQLite and PostgreSQL alike; they become Decimal 元 when read."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

from ..domain.postings import DIMENSIONS

metadata = MetaData()

tracking = Table(
    "ledger_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

budgets = Table(
    "ledger_budgets",
    metadata,
    Column("budget_id", String(36), primary_key=True),
    Column("department", String(200), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("units", JSON, nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("ix_ledger_budgets_name", "department", "fiscal_year", unique=True),
)

events = Table(
    "ledger_events",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("budget_id", String(36), nullable=False),
    Column("event_id", String(80), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("effective", Date, nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("document_no", String(200), nullable=True),
    Column("detail", JSON, nullable=False),
    Index("ix_ledger_events_budget", "budget_id", "position"),
)

postings = Table(
    "ledger_postings",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("position", BigInteger, nullable=False),
    Column("budget_id", String(36), nullable=False),
    Column("event_id", String(80), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("effective", Date, nullable=True),
    *[Column(name, String(300), nullable=True) for name in DIMENSIONS],
    Column("amount_fen", BigInteger, nullable=False),
    Index("ix_ledger_postings_budget", "budget_id", "position"),
    Index("ix_ledger_postings_event", "event_id"),
)

cells = Table(
    "ledger_cells",
    metadata,
    Column("budget_id", String(36), primary_key=True),
    Column("table_no", SmallInteger, primary_key=True, autoincrement=False),
    Column("row_key", String(400), primary_key=True),
    Column("col_key", String(64), primary_key=True),
    Column("amount_fen", BigInteger, nullable=False),
)

projects = Table(
    "ledger_projects",
    metadata,
    Column("budget_id", String(36), primary_key=True),
    Column("name", String(300), primary_key=True),
    Column("unit", String(200), nullable=False),
    Column("category", String(100), nullable=False),
    Column("annual_amount_fen", BigInteger, nullable=True),
    Column("targets", JSON, nullable=False),
    Column("position", BigInteger, nullable=False),
)

publications = Table(
    "ledger_publications",
    metadata,
    Column("budget_id", String(36), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("effective", Date, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

documents = Table(
    "ledger_documents",
    metadata,
    Column("budget_id", String(36), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("tables", JSON, nullable=False),
    Column("rounding", JSON, nullable=False),
)

# Everything a rebuild clears (tracking is reset, not dropped).
PROJECTED = (budgets, events, postings, cells, projects, publications, documents)


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_fen(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
