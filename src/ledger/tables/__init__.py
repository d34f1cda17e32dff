"""The published tables as data and the engine shared by import, read model and rounding:
the definitions loaded from projections/ (which cells a posting feeds), the layout of a
table as printed (render), and its text, TSV, CSV and JSON forms (formats)."""
