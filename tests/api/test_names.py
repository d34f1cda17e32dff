"""Names as the ledger records them (issue 21.7, domain/names.py): NFC, Kangxi radicals folded
to the ideograph, zero-width / bidi / control characters and unfoldable radical look-alikes
refused naming the field, in commands as in imports; a "/" in a department's name works on
every route of the real server."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import httpx
import pytest

from ledger.domain import names
from ledger.ingest.errors import DocumentRejected

from .api_support import BUDGET, DEPARTMENT, SEED, YEAR, bearer, upload

LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}
ADJUST = {"line": LINE, "amount": "-20000.00", "reason": "社保缴费基数调整", "effective": "2024-06-30"}
KANGXI_HEART = "\u2f3c"  # ⼼ KANGXI RADICAL HEART, printed like 心
HIDDEN = {"\u200b": "零宽", "\u2060": "零宽", "\ufeff": "零宽", "\u202e": "双向控制", "\u2067": "双向控制",
          "\x1b": "控制字符", "\x85": "控制字符"}


def test_the_rule_per_character_class():
    assert names.name(DEPARTMENT[:-1] + KANGXI_HEART, "部门名称") == DEPARTMENT
    assert names.name("\u2e9f", "x") == "母"  # CJK Radicals Supplement with a compatibility mapping
    assert names.name("\uf900", "x") == "\u8c48"  # a CJK compatibility ideograph: NFC gives the unified one
    assert names.name("e\u0301", "x") == "\u00e9"  # NFC
    assert names.name("单位（本级）１号", "x") == "单位（本级）１号"  # full-width forms stay as written
    for ch, word in HIDDEN.items():
        with pytest.raises(names.TextRefused) as refused:
            names.name(f"长治{ch}中心", "单位名称")
        assert str(refused.value).startswith("单位名称含有") and word in str(refused.value)
        assert f"U+{ord(ch):04X}" in str(refused.value)
    with pytest.raises(names.TextRefused, match="部首字符 ⺌"):
        names.name("\u2e8c", "项目名称")
    assert names.text("第一行\n\t第二行", "原因") == "第一行\n\t第二行"
    with pytest.raises(names.TextRefused, match="原因含有改变显示顺序的双向控制字符 U\\+202E"):
        names.text("abc\u202edef", "原因")


def test_commands_normalise_and_refuse_names_naming_the_field(loaded, tokens):
    officer = bearer(tokens["officer"])
    cases = {
        ("line", "project"): {**ADJUST, "line": {**LINE, "kind": "project", "economic": None, "cost": None,
                                                 "project": "住房\u200b公积金"}},
        ("line", "unit"): {**ADJUST, "line": {**LINE, "unit": "长治\u202e中心"}},
        ("reason",): {**ADJUST, "reason": "调整\u2066说明"},
        ("document_no",): {**ADJUST, "document_no": "长财预\ufeff〔2024〕12号"},
        ("line", "economic"): {**ADJUST, "line": {**LINE, "economic": "基本工资\u200d/工资奖金津补贴"}},
    }
    before = loaded.get("/api/health").json()["position"]
    for where, body in cases.items():
        response = loaded.post(f"{BUDGET}/adjustments", headers=officer, json=body)
        assert response.status_code == 422, (where, response.text)
        locations = {e["location"]: e["message"] for e in response.json()["errors"]}
        location = "body." + ".".join(where)
        assert location in locations, (where, locations)
        assert "含有" in locations[location] and "U+" in locations[location]
    published = loaded.post(f"{BUDGET}/publications", headers=officer,
                            json={"name": "调整\u200b预算", "reason": "x"})
    assert published.status_code == 422 and "发布节点名称含有不可见的零宽字符" in published.text
    assert loaded.get("/api/health").json()["position"] == before

    # NFC, and a radical folded, before use: the publication is recorded under the name as written.
    decomposed = unicodedata.normalize("NFD", "调整预算é")
    assert decomposed != "调整预算é"
    published = loaded.post(f"{BUDGET}/publications", headers=officer, json={"name": decomposed, "reason": "年中"})
    assert published.status_code == 201, published.text
    names_recorded = [p["name"] for p in loaded.get(BUDGET).json()["publications"]]
    assert "调整预算é" in names_recorded and decomposed not in names_recorded


def test_a_department_written_with_a_radical_is_the_same_budget(loaded, tokens):
    look_alike = f"/api/budgets/{quote(DEPARTMENT[:-1] + KANGXI_HEART)}/{YEAR}"
    assert loaded.get(look_alike).json()["version"] == loaded.get(BUDGET).json()["version"]
    recorded = loaded.post(f"{look_alike}/adjustments", headers=bearer(tokens["officer"]), json=ADJUST)
    assert recorded.status_code == 201, recorded.text
    assert loaded.get(BUDGET).json()["version"] == recorded.json()["version"]
    assert [b["department"] for b in loaded.get("/api/budgets").json()] == [DEPARTMENT]


def _seed_as(department: str) -> bytes:
    return SEED.read_text(encoding="utf-8").replace(DEPARTMENT, department).encode("utf-8")


def test_imports_fold_and_refuse_as_commands_do(client, tokens, ledger):
    written = DEPARTMENT[:-1] + KANGXI_HEART
    imported = upload(client, tokens["admin"], _seed_as(written), name="radical.txt")
    assert imported.status_code == 201, imported.text
    assert imported.json()["department"] == DEPARTMENT
    assert [b["department"] for b in client.get("/api/budgets").json()] == [DEPARTMENT]
    for ch in ("\u200b", "\u2060", "\u202d"):
        with pytest.raises(DocumentRejected) as refused:
            ledger.import_document(_seed_as(DEPARTMENT[:2] + ch + DEPARTMENT[2:]), "hidden.txt")
        assert f"U+{ord(ch):04X}" in str(refused.value) and "第3行" in str(refused.value)
    with pytest.raises(DocumentRejected) as refused:
        ledger.import_document(_seed_as("长治市\u2e8c中心"), "radical-supplement.txt")
    assert "部首字符" in str(refused.value) and "第3行" in str(refused.value)
    with pytest.raises(DocumentRejected) as refused:
        ledger.import_document(_seed_as("长治市财政局/2024"), "slash-year.txt")
    assert "「/」后面是纯数字" in str(refused.value)


def test_a_slash_in_a_department_works_on_every_route(server, tokens):
    """Against the real server: a department 「…中心/本级」 imported, then every route of a budget,
    with the "/" sent as it is and encoded as %2F."""
    department = f"{DEPARTMENT}/本级"
    seed_version = httpx.get(f"{server.url}{BUDGET}").json()["version"]
    response = httpx.post(f"{server.url}/api/documents", headers=bearer(tokens["admin"]), timeout=120,
                          files={"file": ("slash.txt", _seed_as(department), "text/plain")})
    assert response.status_code == 201, response.text
    assert response.json()["department"] == department
    version = response.json()["version"]
    for base in (f"/api/budgets/{quote(department)}/{YEAR}", f"/api/budgets/{quote(department, safe='')}/{YEAR}"):
        assert base.count("/") == 5 or "%2F" in base  # the "/" as it is, or encoded
        url = server.url + base
        budget = httpx.get(url)
        assert budget.status_code == 200 and budget.json()["department"] == department
        for path in ("tables", "tables/3", "explanation", "narrative", "events",
                     "tables/3/lineage?row=合计&column=合计", "diff?from_as_of=1", "audits"):
            got = httpx.get(f"{url}/{path}", timeout=60)
            assert got.status_code == 200, (base, path, got.text[:300])
        assert httpx.get(f"{url}/tables/3", params={"format": "csv"}).status_code == 200
        feed = httpx.get(f"{server.url}/api/events", params={"department": department, "fiscal_year": YEAR})
        assert feed.status_code == 200 and feed.json()["items"]
        recorded = httpx.post(f"{url}/adjustments", headers=bearer(tokens["officer"]), json=ADJUST, timeout=60)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["department"] == department and recorded.json()["version"] == version + 1
        version += 1
    # The seed's department (without "/本级") is another budget, untouched.
    assert httpx.get(f"{server.url}{BUDGET}").json()["version"] == seed_version
