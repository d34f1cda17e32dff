"""The budget domain: money, classifications, postings, rules and the Budget aggregate.

Nothing in here does I/O except reading the packaged reference catalogues.
"""
