"""CPU seconds (user + sys) of the same work by whichever code is first on sys.path: for
comparing two versions side by side on a loaded machine, where wall-clock figures move with
the neighbours. Run each version in turn, e.g. from a worktree of the older commit:

    PYTHONPATH=/tmp/old/src python benchmarks/cpu_compare.py rebuild sqlite:////tmp/cmp.sqlite
    PYTHONPATH=src          python benchmarks/cpu_compare.py rebuild sqlite:////tmp/cmp.sqlite
    PYTHONPATH=src          python benchmarks/cpu_compare.py writes examples/changzhi-hpf-2024-budget.txt

`rebuild URL`: a full rebuild of one store (write it with the older code, which every newer
version reads). `writes SEED`: the import of a document into a fresh SQLite store, then 100
adjustments. Figures of issue 22 in RESULTS.md."""

from __future__ import annotations

import resource
import sys
import tempfile
import time


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> None:
    from ledger.application import Ledger

    what, arg = argv[1], argv[2]
    if what == "rebuild":
        with Ledger(arg) as ledger:
            c0, t0 = cpu(), time.perf_counter()
            count = ledger.rebuild()
            print(f"{count} events: cpu {cpu() - c0:.2f} s, wall {time.perf_counter() - t0:.2f} s")
        return
    try:
        from ledger.application.commands import Adjust, LineSpec
    except ImportError:  # code from before the package layout (issue 22)
        from ledger.commands import Adjust, LineSpec
    seed = open(arg, "rb").read()
    with tempfile.TemporaryDirectory() as tmp, Ledger(f"sqlite:///{tmp}/w.sqlite") as ledger:
        c0 = cpu()
        result = ledger.import_document(seed, "seed.txt")
        c1 = cpu()
        line = LineSpec(code="2210399", kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel")
        for _ in range(100):
            ledger.adjust(result.department, result.fiscal_year,
                          Adjust(line=line, amount="100.00", reason="基准", effective=f"{result.fiscal_year}-06-30"))
        print(f"import {c1 - c0:.2f} s cpu, 100 adjustments {cpu() - c1:.2f} s cpu")


if __name__ == "__main__":
    main(sys.argv)
