"""Read-model tables (SQLAlchemy Core). Amounts are integers in 分, so sums in SQL are exact
on SQLite and PostgreSQL alike; they become Decimal 元 when read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import repeat
from typing import Any

from sqlalchemy import (
    Connection,
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    delete,
    insert,
    select,
    text,
)

metadata = MetaData()


class JSONBytes(TypeDecorator):
    """JSON kept as its UTF-8 bytes: a BLOB on SQLite, written from bytes and read as bytes
    (never decoded to str and encoded again: a rebuild writes ~100 MB of leaves per million
    events); text on PostgreSQL. orjson reads either."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(Text() if dialect.name == "postgresql" else LargeBinary())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return value.decode() if isinstance(value, bytes) else value
        return value.encode() if isinstance(value, str) else value


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
    Column("position", BigInteger, nullable=False),  # of the opening event
    Column("opened_at", DateTime(timezone=True), nullable=False),  # when it was recorded
    Column("effective", Date, nullable=True),  # the opening event's
    Column("version", Integer, nullable=False),  # the budget's version: its number of events
    Column("last_position", BigInteger, nullable=False),  # of its last event
    Index("ix_ledger_budgets_name", "department", "fiscal_year", unique=True),
)

# Each budget's leaves (a leaf: a distinct set of dimensions some line posted to) and their
# balances now, as one JSON object {"dimensions": [names], "leaves": [[[values], 分], ...]}:
# each leaf's dimension values in the order of the names, null where absent (trailing nulls
# left off: eventlog.leaf_text), sorted by that text. Today's tables are sums of these
# (definitions.cells_for); the history of a leaf is not copied here but read from the event
# log (eventstore/eventlog.py). One row per budget: a rebuild writes a few thousand rows, not a row per
# leaf or per event.
leaves = Table(
    "ledger_leaves",
    metadata,
    Column("budget_id", String(36), primary_key=True),
    Column("balances", JSONBytes, nullable=False),  # JSON, as above
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
    Column("layout", String(64), nullable=True),  # the layout it was read by (None: the 13-table 部门预算)
    Column("phase", String(16), nullable=True),  # budget | final (None: budget)
)

# Everything a rebuild clears (tracking is reset, not dropped).
PROJECTED = (budgets, leaves, projects, publications, documents)

# The layout of the tables above. A database whose read model was made with another layout
# gets them dropped and made again when it is opened; the next catch-up refills them from the
# events (the hash chain, ledger_chain, is kept).
LAYOUT = 4
# Tables of earlier layouts (1: a copy of every event and line, and every table cell; 2 kept
# the leaves as text; 3 had no layout and phase of a document).
RETIRED = ("ledger_events", "ledger_postings", "ledger_cells")
LAYOUT_ROW = "layout"  # a row of ledger_tracking that holds LAYOUT, not a position


def migrate(conn: Connection) -> bool:
    """Create the read model, or make it again if another layout made it; True if it was."""
    metadata.create_all(conn)
    stored = conn.execute(select(tracking.c.position).where(tracking.c.name == LAYOUT_ROW)).scalar()
    if stored == LAYOUT:
        return False
    for name in RETIRED:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    metadata.drop_all(conn, tables=list(PROJECTED))
    metadata.create_all(conn, tables=list(PROJECTED))
    conn.execute(delete(tracking).where(tracking.c.name.in_(("tables", LAYOUT_ROW))))
    conn.execute(insert(tracking).values(name=LAYOUT_ROW, position=LAYOUT))
    return True


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def to_fens(amounts: Iterable[Decimal]) -> Iterator[int]:
    """to_fen of each (without a Python call per amount: a rebuild converts ~600,000 leaves)."""
    return map(int, map(Decimal.to_integral_exact, map(Decimal.scaleb, amounts, repeat(2))))


def from_fen(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
