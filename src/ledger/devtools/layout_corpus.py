"""The test documents of the budget layouts in 元 (issue 17), written from events: the reference
budget (examples/changzhi-hpf-2024-budget.txt, imported into a scratch ledger) printed in each
budget layout other than the seed's, as text and as PDF (application/documents.budget_layout_*),
and the 部门 layout once more in whole 元.
Nothing in them is typed by hand, so they reconcile by construction; tests/corpus/ keeps them,
and tests/test_budget_layouts.py checks that the kept files are what this writes today.

    .venv/bin/python -m ledger.devtools.layout_corpus tests/corpus
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..application.documents import budget_layout_pdf, budget_layout_text
from ..application.ledger import Ledger

SEED = Path(__file__).resolve().parents[3] / "examples" / "changzhi-hpf-2024-budget.txt"
DEPARTMENT, YEAR = "长治市住房公积金管理中心", 2024
# layout → the stem of its documents in tests/corpus/
LAYOUTS = {"budget-9-yuan": "changzhi-hpf-2024-budget-9-yuan",
           "budget-9-yuan-unit": "changzhi-hpf-2024-unit-budget-9-yuan"}


# the same 部门 layout printed in whole 元 (no 分), as some documents print it
WHOLE = {"budget-9-yuan": "changzhi-hpf-2024-budget-9-yuan-integer"}


def documents(ledger: Ledger) -> Iterator[tuple[str, str, bytes]]:
    """(layout, file name, bytes) of every document, from a ledger holding the reference budget."""
    for layout_id, stem in LAYOUTS.items():
        yield layout_id, f"{stem}.txt", budget_layout_text(ledger, DEPARTMENT, YEAR, layout_id).encode("utf-8")
        yield layout_id, f"{stem}.pdf", budget_layout_pdf(ledger, DEPARTMENT, YEAR, layout_id)
    for layout_id, stem in WHOLE.items():
        yield layout_id, f"{stem}.txt", budget_layout_text(ledger, DEPARTMENT, YEAR, layout_id,
                                                           decimals=0).encode("utf-8")
        yield layout_id, f"{stem}.pdf", budget_layout_pdf(ledger, DEPARTMENT, YEAR, layout_id, decimals=0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the budget layouts' test documents from the reference budget.")
    parser.add_argument("out", type=Path, help="the directory to write them to (tests/corpus)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, Ledger(f"sqlite:///{tmp}/reference.db") as ledger:
        ledger.import_document(SEED.read_bytes(), SEED.name, actor="cli:layout_corpus")
        for _layout, name, data in documents(ledger):
            (args.out / name).write_bytes(data)
            print(f"{args.out / name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
