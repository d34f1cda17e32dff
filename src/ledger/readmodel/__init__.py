"""The read side: the fold of the event log into SQL tables (projector, leaves, tracking), the
hash chain over the log (chain), and the reads of the read model and of the log up to a point
(queries, lineage)."""
