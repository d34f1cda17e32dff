"""Explanations computed from the history: year-over-year changes, structure shares, the
composition of basic expenditure, 三公经费, 机关运行经费, procurement and projects, and the
regenerated narrative (第三部分 情况说明). Nothing here is copied from a document's text:
every figure is a sum of postings up to a point in the history."""
