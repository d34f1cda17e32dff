"""Audit findings (审校) of documents: the reference disclosure has no 错误 (its 尾差 are 提示
with exact amounts); the doctored 决算 differs from the original by findings that are all real
differences between the two files (computed here from their texts); a 决算 written from events
and broken in one place is found by the right rule at the right place."""

from __future__ import annotations

import difflib
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from ledger.audit import audit_document
from ledger.devtools.audit_cases import FINAL_CASES
from ledger.application.documents import final_text
from ledger.ingest.printed import normal, read
from ledger.ingest.source import read_source

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ORIGINAL = CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
DOCTORED = CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts-doctored.pdf"
DEPARTMENT, YEAR = "上海市普陀区财政局", 2024


def test_the_reference_document_has_no_error_and_its_rounding_is_explained(seed_bytes):
    report = audit_document(seed_bytes, "changzhi-hpf-2024-budget.txt")
    assert report.counts["错误"] == 0, [f.message for f in report.findings if f.severity == "错误"]
    assert report.department == "长治市住房公积金管理中心" and report.fiscal_year == 2024
    leaves = [f for f in report.findings if f.rule == "table.rounding" and f.expected]
    assert leaves and all(f.severity == "提示" and f.rounding for f in leaves)
    for f in leaves:  # each exact amount (元) rounds to what the table prints (万元)
        exact = Decimal(f.expected.removesuffix("元").replace(",", ""))
        assert (exact / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == Decimal(f.stated), f.message
        assert f.place.table and f.place.line


def _audit(path: Path):
    data = path.read_bytes()
    return audit_document(data, path.name), read_source(data, path.name)


def _key(f) -> tuple:
    return (f.rule, f.stated, f.expected, f.place.table, normal(f.place.sentence or ""))


def _tables(document) -> dict[str, list[list[str]]]:
    problems: list = []
    got = read(document, problems)
    return {t.definition.name: [r.cells for r in t.rows] for t in got.tables.values()}


@pytest.fixture(scope="module")
def audited():
    return _audit(ORIGINAL), _audit(DOCTORED)


def test_what_the_doctored_copy_adds_are_real_differences_between_the_files(audited):
    (original, original_doc), (doctored, doctored_doc) = audited
    old_lines = original_doc.flow().text.split("\n")
    new_flow = doctored_doc.flow()
    new_lines = new_flow.text.split("\n")
    unchanged = set(old_lines)
    old_tables, new_tables = _tables(original_doc), _tables(doctored_doc)
    before = {_key(f) for f in original.findings}
    added = [f for f in doctored.findings if _key(f) not in before]
    assert len([f for f in added if f.severity == "错误"]) >= 8
    for f in added:
        if f.place.span is not None:
            line = new_lines[new_flow.text.count("\n", 0, f.place.span[0])]
            assert line not in unchanged, f"{f.rule} at an unchanged line: {line}"
            assert f.place.page is not None and f.place.x is not None
        else:
            assert f.place.table, f.message
            assert old_tables.get(f.place.table) != new_tables.get(f.place.table), f"{f.rule}: {f.place.table} is the same"


def test_every_change_of_the_doctored_copy_is_found_or_fixes_a_finding_of_the_original(audited):
    (original, original_doc), (doctored, doctored_doc) = audited
    old_flow, new_flow = original_doc.flow(), doctored_doc.flow()
    old_lines, new_lines = old_flow.text.split("\n"), new_flow.text.split("\n")

    def lines_of(report, flow) -> set[int]:
        return {flow.text.count("\n", 0, f.place.span[0]) for f in report.findings if f.place.span is not None}

    found_new, found_old = lines_of(doctored, new_flow), lines_of(original, old_flow)
    missing_tables = {f.place.table for f in doctored.findings if f.rule == "table.missing"}
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        covered = bool(found_new & set(range(j1, j2))) or bool(found_old & set(range(i1, i2)))
        if j1 == j2:  # lines only the original has: a table's title and unit line taken out
            covered = covered or bool(missing_tables)
        assert covered, f"a change no finding covers: {old_lines[i1:i2]} → {new_lines[j1:j2]}"
    old_tables, new_tables = _tables(original_doc), _tables(doctored_doc)
    on_tables = {f.place.table for f in doctored.findings if f.place.table}
    for name, rows in new_tables.items():
        if rows != old_tables.get(name):
            assert name in on_tables, f"{name} changed but no finding names it"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> str:
    """The corpus 决算 written from its events (a store of its own)."""
    from support import new_database_url

    from ledger.application import Ledger

    url, drop = new_database_url(tmp_path_factory.mktemp("audit"))
    try:
        with Ledger(url) as ledger:
            ledger.import_document(ORIGINAL.read_bytes(), ORIGINAL.name)
            return final_text(ledger, DEPARTMENT, YEAR)
    finally:
        drop()


def test_the_document_written_from_events_has_no_error(written):
    report = audit_document(written.encode(), "written.txt")
    assert report.counts["错误"] == 0 and report.counts["疑似"] == 0, [f.message for f in report.findings
                                                                    if f.severity != "提示"]
    assert report.layout == "final-accounts"


def test_there_are_at_least_thirty_kinds_of_error_covering_every_rule():
    from ledger.audit import rule_set

    assert len(FINAL_CASES) >= 30
    covered = {c.rule for c in FINAL_CASES}
    # history.prior_year needs the ledger to hold last year: tests/test_consecutive_years.py
    assert set(rule_set().rules) - covered <= {"table.rounding", "history.prior_year"}, "rules without a broken document"


@pytest.mark.parametrize("case", FINAL_CASES, ids=[c.kind for c in FINAL_CASES])
def test_a_document_broken_in_one_place_is_found_by_its_rule_at_its_place(written, case):
    broken, line = case.apply(written)
    report = audit_document(broken.encode(), "broken.txt")
    hits = [f for f in report.findings if f.rule == case.rule]
    assert hits, f"{case.kind}: no {case.rule} finding; found {[(f.rule, f.message) for f in report.findings if f.severity != '提示']}"
    if case.table:
        assert any(f.place.table == case.table for f in hits), [(f.place.table, f.message) for f in hits]
    else:
        assert any(f.place.line == line for f in hits), [(f.place.line, f.message) for f in hits]
        hit = next(f for f in hits if f.place.line == line)
        flow = read_source(broken.encode(), "broken.txt").flow().text  # spans are of the running text
        assert hit.place.span is not None and flow[hit.place.span[0]:hit.place.span[1]] == hit.place.text


def test_the_cli_audits_a_pdf_in_every_format(cli):
    text = cli("audit", str(DOCTORED), check=False)
    assert text.returncode == 1 and "错误 [narrative.comparison] 第19页" in text.stdout
    as_json = json.loads(cli("audit", str(DOCTORED), "--format", "json", check=False).stdout)
    assert as_json["counts"]["错误"] == sum(1 for f in as_json["findings"] if f["severity"] == "错误") > 0
    csv_out = cli("audit", str(DOCTORED), "--format", "csv", check=False).stdout.splitlines()
    assert csv_out[0].startswith("严重程度,规则,规则名称,页") and len(csv_out) == len(as_json["findings"]) + 1
    clean = cli("audit", str(Path(__file__).resolve().parents[2] / "examples" / "changzhi-hpf-2024-budget.txt"))
    assert clean.returncode == 0 and "错误 0" in clean.stdout
    missing = cli("audit", "/nonexistent/file.pdf", check=False)
    assert missing.returncode == 2 and "无法读取" in missing.stderr


HOSTILE = sorted((Path(__file__).resolve().parents[1] / "hostile" / "pdf").glob("*.pdf"))


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name for p in HOSTILE])
def test_a_file_that_cannot_be_read_gets_findings_naming_why(path):
    report = audit_document(path.read_bytes(), path.name)
    assert report.findings, "no finding for a hostile file"
    first = report.findings[0]
    assert first.severity == "错误" and first.message


@pytest.mark.parametrize("data", [b"", b"\x00\x01binary" * 100, "2024年度部门预算\n".encode(), "没有年度的文字\n".encode()])
def test_what_is_no_disclosure_is_a_finding_not_a_crash(data):
    report = audit_document(data, "x.txt")
    assert report.counts["错误"] >= 1 and report.findings[0].rule == "document.unreadable"
