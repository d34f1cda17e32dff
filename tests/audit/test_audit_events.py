"""Audits as events: an audit recorded in a budget's history (what was audited, the rules'
version, every finding), a correction that cites the finding it answers, and references to
findings that do not exist refused with nothing recorded. Both stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application.commands import Correct, RecordAudit
from ledger.domain.budget import RuleViolation

PDF = Path(__file__).resolve().parents[1] / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
DEPARTMENT, YEAR = "上海市普陀区财政局", 2024


@pytest.fixture
def final(ledger):
    ledger.import_document(PDF.read_bytes(), PDF.name)
    return ledger


def test_an_audit_of_a_document_is_stored_in_its_budgets_history(final):
    report = final.audit_document(PDF.read_bytes(), PDF.name)
    before = final.last_position()
    recorded = final.record_audit(report, reason="年度审校")
    assert recorded.kind == "audit" and recorded.position == before + 1
    (stored,) = final.audits(DEPARTMENT, YEAR)
    assert stored.event_id == recorded.event_id and stored.reason == "年度审校"
    assert stored.detail["document"] == PDF.name and stored.detail["counts"] == report.counts
    assert stored.detail["rules_version"] == report.rules_version
    assert [(f["rule"], f["severity"], f["message"]) for f in stored.detail["findings"]] == \
        [(f.rule, f.severity, f.message) for f in report.findings]
    assert final.verify().ok


def test_a_correction_cites_the_finding_it_answers(final):
    report = final.audit_document(PDF.read_bytes(), PDF.name)
    audit = final.record_audit(report, reason="年度审校")
    number = next(i for i, f in enumerate(report.findings, 1) if f.rule == "narrative.share")
    feed = final.event_feed(0, 1000, DEPARTMENT, YEAR)
    prior = next(e for e in feed.items if e.kind == "prior_year_figure")
    answer = f"{audit.event_id}#{number}"
    recorded = final.correct(DEPARTMENT, YEAR, Correct(event=str(prior.position), reason="按审校意见更正上年数",
                                                        answers=answer))
    shown = next(e for e in final.event_feed(0, 1000, DEPARTMENT, YEAR).items if e.position == recorded.position)
    assert shown.kind == "correction" and shown.detail["answers"] == answer


@pytest.mark.parametrize("reference, words", [("no-such-audit#1", "没有审校事件"), ("{audit}#999", "没有「999」"),
                                              ("{audit}#first", "没有「first」")])
def test_a_correction_citing_no_finding_is_refused_and_records_nothing(final, reference, words):
    audit = final.record_audit(final.audit_document(PDF.read_bytes(), PDF.name), reason="年度审校")
    prior = next(e for e in final.event_feed(0, 1000, DEPARTMENT, YEAR).items if e.kind == "prior_year_figure")
    before = final.last_position()
    with pytest.raises(RuleViolation, match=words):
        final.correct(DEPARTMENT, YEAR, Correct(event=str(prior.position), reason="更正",
                                                answers=reference.format(audit=audit.event_id)))
    assert final.last_position() == before


def test_an_audit_of_the_recorded_budget_reads_what_the_ledger_writes_from_its_events(final):
    report = final.audit_budget(DEPARTMENT, YEAR)
    assert report.counts["错误"] == 0 and report.layout == "final-accounts"
    recorded = final.audit(DEPARTMENT, YEAR, RecordAudit(reason="账本自查"))
    (stored,) = final.audits(DEPARTMENT, YEAR)
    assert stored.position == recorded.position and stored.detail["counts"] == report.counts


def test_an_audit_of_a_document_of_no_recorded_budget_is_refused(ledger):
    report = ledger.audit_document(PDF.read_bytes(), PDF.name)
    from ledger.readmodel.queries import NotFound

    with pytest.raises((NotFound, RuleViolation)):
        ledger.record_audit(report, reason="年度审校")
    assert ledger.last_position() == 0


def test_the_cli_records_an_audit_and_a_correction_answering_it(cli):
    cli("import", str(PDF))
    ran = cli("audit", str(PDF), "--record", "--reason", "年度审校", check=False)
    assert ran.returncode == 1  # the original prints errors of its own
    audit_id = ran.stderr.split("已记录审校事件 ")[1].split(" ")[0]
    again = cli("audit", "-d", DEPARTMENT, "-y", str(YEAR), "--record", "--reason", "自查")
    assert "错误 0" in again.stdout
    refused = cli("correct", "-d", DEPARTMENT, "-y", str(YEAR), "--event", "5", "--reason", "x",
                  "--answers", f"{audit_id}#0", check=False)
    assert refused.returncode == 2 and "第1–" in refused.stderr
    assert cli("audit", check=False).returncode == 2
