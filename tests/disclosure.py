"""An independent reading of the reference document for tests: the rows of each table that
carry amounts, exactly as printed (cells trimmed, trailing empty cells dropped)."""

from __future__ import annotations

import re

AMOUNT = re.compile(r"^\d+\.\d{2}$")


def trim(cells: list[str]) -> list[str]:
    cells = [c.strip() for c in cells]
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def tsv_sections(tsv: str) -> dict[str, list[list[str]]]:
    """Title → rows (header and data) of `ledger tables --format tsv` output."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in tsv.split("\n"):
        if line.startswith("# "):
            current = sections.setdefault(line[2:], [])
        elif current is not None and line:
            current.append(trim(line.split("\t")))
    return sections


def amount_rows(document: str, titles: list[str]) -> dict[str, list[list[str]]]:
    """For each table title, the document's rows under it that carry at least one amount."""
    lines = document.split("\n")
    starts = []
    for title in titles:
        found = [i for i, line in enumerate(lines) if line.strip().lstrip("#").strip() == title]
        assert len(found) == 1, f"title {title!r} found {len(found)} times in the document"
        starts.append(found[0])
    end = next(i for i, line in enumerate(lines) if "第三部分" in line and line.startswith("#"))
    order = sorted(range(len(titles)), key=lambda k: starts[k])
    out: dict[str, list[list[str]]] = {}
    for n, k in enumerate(order):
        stop = starts[order[n + 1]] if n + 1 < len(order) else end
        out[titles[k]] = [
            trim(line.split("\t"))
            for line in lines[starts[k] + 1: stop]
            if any(AMOUNT.match(c.strip()) for c in line.split("\t"))
        ]
    return out
