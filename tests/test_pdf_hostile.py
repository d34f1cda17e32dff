"""Hostile PDFs (tests/hostile/pdf/, made by tests/hostile/make_pdf_corpus.py): each is refused
with a message that names its page where it has one, or read with the warning or the facts
cases.yaml states. A table missing and a row shifted are faults only the layout can judge:
the reader must report what the layout needs to refuse them (the titles printed, a cell past
the last headed column).

Limits and the deadline are checked on real documents with tightened settings."""

from __future__ import annotations

import hashlib
import time

import pytest
import yaml
from pdf_support import DOCTORED, HOSTILE, ORIGINAL, contents_titles, printed_titles, read

from ledger.ingest.errors import DocumentRejected
from ledger.ingest.pdf import PdfLimits, read_pdf

CASES = yaml.safe_load((HOSTILE / "cases.yaml").read_text(encoding="utf-8"))["cases"]
REFUSED = [c for c in CASES if c["outcome"] == "refused"]
READS = {c["id"]: c for c in CASES if c["outcome"] == "reads"}


def data(case: dict) -> bytes:
    return (HOSTILE / case["file"]).read_bytes()


def test_the_corpus_is_what_its_cases_say():
    assert len(CASES) >= 15
    for case in CASES:
        content = data(case)
        assert len(content) == case["bytes"] and hashlib.sha256(content).hexdigest() == case["sha256"], case["id"]


@pytest.mark.parametrize("case", REFUSED, ids=[c["id"] for c in REFUSED])
def test_refused_with_the_place_named(case):
    started = time.monotonic()
    with pytest.raises(DocumentRejected) as refused:
        read_pdf(data(case), case["file"])
    assert time.monotonic() - started < 30, "a hostile file must not hold the reader"
    message = str(refused.value)
    for text in case["expect"]:
        assert text in message, f"{case['id']} ({case['breaks']}): {text!r} not in {message}"
    if case["page"] is not None:
        assert f"第{case['page']}页" in message
        assert case["page"] in [p.page for p in refused.value.problems]


def test_a_lone_scanned_page_in_running_text_is_a_warning():
    case = READS["scanned-narrative-page"]
    document = read_pdf(data(case), case["file"])
    warnings = " ".join(str(w) for w in document.warnings)
    for text in case["expect"]:
        assert text in warnings
    assert case["page"] in [w.page for w in document.warnings]
    assert not [b for b in document.blocks if b.location.page == case["page"]]
    assert document.page_count == read(DOCTORED).page_count


def test_an_owner_password_alone_does_not_stop_reading():
    case = READS["owner-password-only"]
    document = read_pdf(data(case), case["file"])
    assert document.page_count == case["facts"]["pages"]
    plain = read(DOCTORED)
    assert [t.texts() for t in document.tables()] == [t.texts() for t in plain.tables()]
    assert document.flow().text == plain.flow().text


def test_a_missing_table_shows_as_a_title_listed_but_not_printed():
    case = READS["table-missing"]
    document = read_pdf(data(case), case["file"])
    assert document.page_count == case["facts"]["pages"]
    listed = contents_titles(document)
    printed = [title for title, _ in printed_titles(document, listed)]
    complete = [title for title, _ in printed_titles(read(DOCTORED), listed)]
    assert [t for t in complete if t not in printed] == [case["facts"]["missing_title"]]


def test_a_shifted_row_shows_as_a_cell_past_the_last_headed_column():
    case = READS["column-shifted"]
    facts = case["facts"]
    document = read_pdf(data(case), case["file"])
    (table,) = document.tables()
    head = table.rows[:facts["header_rows"]]
    headed = {k for row in head for cell in row.cells if cell.text for k in cell.columns}
    extra = facts["extra_column"]
    assert extra not in headed and table.column_count == extra + 1
    grid = table.grid()
    shifted = [i for i, row in enumerate(grid) if i >= facts["header_rows"] and row[extra] is not None and row[extra].text]
    assert len(shifted) == 1
    row = grid[shifted[0]]
    assert row[0].text == ""  # its code moved out of the first column
    assert any(c is not None and c.text == facts["row_label"] for c in row)
    assert row[extra].location.page == facts["page"]


def test_the_pdf_size_limit_is_a_setting_of_its_own():
    limits = PdfLimits.from_env({"LEDGER_MAX_PDF_BYTES": "100000"})
    assert limits.max_bytes == 100000
    with pytest.raises(DocumentRejected) as refused:
        read_pdf(DOCTORED.read_bytes(), DOCTORED.name, limits)
    assert "文件过大" in str(refused.value) and "100000" in str(refused.value)
    assert PdfLimits.from_env({}).max_bytes == 20 * 1024 * 1024 >= ORIGINAL.stat().st_size


def test_the_page_limit_is_a_setting():
    with pytest.raises(DocumentRejected) as refused:
        read_pdf(DOCTORED.read_bytes(), DOCTORED.name, PdfLimits.from_env({"LEDGER_MAX_PDF_PAGES": "20"}))
    assert "26 页" in str(refused.value) and "20 页" in str(refused.value)


def test_a_page_that_takes_too_long_is_refused_by_its_deadline():
    started = time.monotonic()
    with pytest.raises(DocumentRejected) as refused:
        read_pdf(ORIGINAL.read_bytes(), ORIGINAL.name, PdfLimits(page_seconds=0.0))
    assert time.monotonic() - started < 20
    # Checked as soon as PDFium has parsed a page (its parse runs in C, bounded by the content
    # cap): with no time at all, every page is over.
    assert "读取超时: 页面内容在 0 秒内没有解释完" in str(refused.value)
    assert {p.page for p in refused.value.problems} == set(range(1, 26))


def test_the_document_has_a_deadline_too():
    with pytest.raises(DocumentRejected) as refused:
        read_pdf(ORIGINAL.read_bytes(), ORIGINAL.name, PdfLimits(document_seconds=0.0))
    assert "检查其数据流超过 0 秒" in str(refused.value)  # the first thing it checks: the streams
    # Less than half the time a whole read takes here is enough to check the streams (a tenth of
    # it), not to read 26 pages: it stops between two.
    data = DOCTORED.read_bytes()
    read_pdf(data, DOCTORED.name)
    started = time.monotonic()
    read_pdf(data, DOCTORED.name)
    budget = 0.4 * (time.monotonic() - started)
    with pytest.raises(DocumentRejected) as refused:
        read_pdf(data, DOCTORED.name, PdfLimits(document_seconds=budget))
    stop = refused.value.problems[-1]
    assert f"读取超过 {budget:g} 秒仍未完成" in stop.message and 1 < stop.page < 26


def test_damaged_copies_are_refused_or_read_never_crash():
    """Bytes flipped, cut out or slipped in anywhere in a small PDF (a fixed seed, so each run
    damages the same way): each copy reads or is refused with a message, nothing else."""
    import random

    original = data(READS["column-shifted"])
    rng = random.Random(20240)
    outcomes = {"read": 0, "refused": 0}
    for _ in range(60):
        damaged = bytearray(original)
        for _ in range(rng.choice([1, 2, 5, 20])):
            at = rng.randrange(len(damaged))
            kind = rng.random()
            if kind < 0.5:
                damaged[at] = rng.randrange(256)
            elif kind < 0.75:
                del damaged[at:at + rng.randrange(1, 50)]
            else:
                damaged[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
        try:
            read_pdf(bytes(damaged), "damaged.pdf")
            outcomes["read"] += 1
        except DocumentRejected as refused:
            assert refused.problems and all(p.message for p in refused.problems)
            outcomes["refused"] += 1
    assert outcomes["refused"] >= 10


@pytest.mark.parametrize(("limits", "message"), [
    (PdfLimits(max_page_chars=200), "页面字符超过 200 个"),
    (PdfLimits(max_page_edges=20), "页面线条超过 20 条"),
    (PdfLimits(max_page_objects=40), "页面对象超过 40 个"),
], ids=["characters", "lines", "objects"])
def test_what_a_page_draws_is_capped(limits, message):
    """The caps on a page's characters, ruling lines and objects (PDFium's, counted after it
    parsed the page), tightened below what the published document's table pages draw."""
    with pytest.raises(DocumentRejected) as refused:
        read_pdf(ORIGINAL.read_bytes(), ORIGINAL.name, limits)
    problems = [p for p in refused.value.problems if message in p.message]
    assert problems and all(p.page for p in problems)
    assert 8 in [p.page for p in problems]  # 收入决算表, a page of figures


def test_two_documents_read_at_once_take_turns_with_pdfium():
    """PDFium is not thread-safe: a read waits while another holds it (the service reads
    uploads in worker threads), and reads as it would alone."""
    import threading

    from ledger.ingest import pdf as reader

    results = []
    with reader._PDFIUM:  # another read, mid-way
        worker = threading.Thread(target=lambda: results.append(read_pdf(ORIGINAL.read_bytes(), ORIGINAL.name)))
        worker.start()
        worker.join(1.0)  # a whole read takes a third of that here
        assert worker.is_alive() and not results
    worker.join(30)
    assert not worker.is_alive()
    (document,) = results
    assert document.flow().text == read(ORIGINAL).flow().text
    assert [t.texts() for t in document.tables()] == [t.texts() for t in read(ORIGINAL).tables()]
