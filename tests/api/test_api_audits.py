"""POST /api/audits: a document in, its findings out, nothing recorded."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ledger.application import Ledger

DOCTORED = Path(__file__).resolve().parents[1] / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts-doctored.pdf"


def test_an_audit_over_http_gives_findings_with_pages_and_records_nothing(client, database_url):
    data = DOCTORED.read_bytes()
    response = client.post("/api/audits", files={"file": (DOCTORED.name, data, "application/pdf")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["document"] == DOCTORED.name and report["layout"] == "final-accounts"
    errors = [f for f in report["findings"] if f["severity"] == "错误"]
    assert errors and all(f["place"]["page"] for f in errors if f["place"]["span"])
    assert report["counts"]["错误"] == len(errors)
    assert {"table.missing", "narrative.comparison", "text.year"} <= {f["rule"] for f in errors}
    as_csv = client.post("/api/audits?format=csv", files={"file": (DOCTORED.name, data, "application/pdf")})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert len(rows) == len(report["findings"]) + 1
    as_xlsx = client.post("/api/audits?format=xlsx", files={"file": (DOCTORED.name, data, "application/pdf")})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet.max_row == len(report["findings"]) + 2  # a title row, the headings, a row a finding
    assert [c.value for c in sheet[3]][:2] == [report["findings"][0]["severity"], report["findings"][0]["rule"]]
    with Ledger(database_url) as ledger:  # nothing recorded
        assert ledger.last_position() == 0 and ledger.budgets() == []


def test_an_audit_of_something_that_is_no_document_says_so(client):
    response = client.post("/api/audits", files={"file": ("x.pdf", b"%PDF-1.7\nnot really", "application/pdf")})
    assert response.status_code == 200
    findings = response.json()["findings"]
    assert findings and findings[0]["rule"] == "document.unreadable" and findings[0]["severity"] == "错误"


def test_an_audit_larger_than_the_upload_limit_is_413(database_url, tokens):
    from fastapi.testclient import TestClient

    from ledger.http.app import create_app
    from ledger.http.deps import Settings

    settings = Settings(database_url=database_url, tokens=tuple((r, t.encode()) for r, t in tokens.items()),
                        max_upload_bytes=1000)
    with TestClient(create_app(settings)) as small:
        response = small.post("/api/audits", files={"file": ("big.txt", b"x" * 5000, "text/plain")})
    assert response.status_code == 413


def test_an_officer_records_an_audit_of_a_budget_and_anyone_reads_it(loaded, tokens):
    from .api_support import BUDGET, bearer

    anonymous = loaded.post(f"{BUDGET}/audits", json={"reason": "年度审校"})
    assert anonymous.status_code == 401
    response = loaded.post(f"{BUDGET}/audits", json={"reason": "年度审校"}, headers=bearer(tokens["officer"]))
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["kind"] == "audit"
    audits = loaded.get(f"{BUDGET}/audits").json()
    assert [a["event_id"] for a in audits] == [recorded["event_id"]]
    assert audits[0]["reason"] == "年度审校" and audits[0]["counts"]["错误"] == 0
    assert len(audits[0]["findings"]) == sum(audits[0]["counts"].values())
    feed = loaded.get(f"{BUDGET}/events", params={"after": recorded["position"] - 1}).json()["items"]
    assert feed[0]["kind"] == "audit" and feed[0]["kind_label"] == "审校"
