"""The read side: table definitions (from projections/), the fold of events into read-model
tables, and rendering of the published tables from those tables."""
