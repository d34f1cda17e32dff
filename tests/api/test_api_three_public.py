"""“三公”经费 and 政府采购 commands over HTTP (issue 19 item 4): the same routes as the spending
commands, the line telling which kind it is; the change shows in 表十, the explanation, the
cell's lineage and the diff; refusals are 422 naming the field or the rule and record nothing."""

from __future__ import annotations

from decimal import Decimal

from .api_support import BUDGET, bearer

RECEPTION = {"three_public": "reception", "source": "general"}
SPENDING = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}


def last_position(client) -> int:
    return client.get("/api/health").json()["position"]


def table_10(client, **params) -> dict[tuple[str, str], Decimal]:
    [table] = client.get(f"{BUDGET}/tables/10", params=params).json()["tables"]
    return {(a["row"], a["column"]): Decimal(a["yuan"]) for r in table["rows"] for a in r["amounts"]}


def figures(client, key: str, **params) -> dict[str, Decimal]:
    explanation = client.get(f"{BUDGET}/explanation", params=params).json()
    return {i["key"]: Decimal(i["amount"]["yuan"]) for i in explanation[key]}


def test_a_three_public_adjustment_over_http(loaded, tokens):
    officer = bearer(tokens["officer"])
    before = table_10(loaded)
    done = loaded.post(f"{BUDGET}/adjustments", headers=officer, json={
        "line": RECEPTION, "amount": "2000", "reason": "接待任务增加", "effective": "2024-05-01"})
    assert done.status_code == 201, done.text
    recorded = done.json()
    assert recorded["kind"] == "adjustment"
    after = table_10(loaded)
    assert after[("0/reception", "general")] == before[("0/reception", "general")] + 2000
    assert after[("0/total", "total")] == before[("0/total", "total")] + 2000
    assert table_10(loaded, publication="年初预算") == before
    assert figures(loaded, "three_public")["reception"] == after[("0/reception", "total")]
    lineage = loaded.get(f"{BUDGET}/tables/10/lineage", params={"row": "公务接待费", "column": "一般公共预算"}).json()
    assert [c["kind"] for c in lineage["contributions"]] == ["appropriation", "adjustment"]
    assert lineage["contributions"][-1]["position"] == recorded["position"]
    assert Decimal(lineage["total"]["yuan"]) == after[("0/reception", "general")]
    diff = loaded.get(f"{BUDGET}/diff", params={"from_publication": "年初预算"}).json()
    assert {(c["table_name"], c["row"], c["column"]) for c in diff["changes"]} == {
        ("表十", "0/reception", "general"), ("表十", "0/reception", "total"), ("表十", "0/total", "general"),
        ("表十", "0/total", "total")}
    assert all([e["position"] for e in c["events"]] == [recorded["position"]] for c in diff["changes"])
    # Corrected, 表十 is as published again and the feed holds all three events.
    corrected = loaded.post(f"{BUDGET}/corrections", headers=officer, json={"event": recorded["position"],
                                                                             "reason": "录入错误"})
    assert corrected.status_code == 201 and corrected.json()["effective"] == "2024-05-01"
    assert table_10(loaded) == before
    kinds = [e["kind"] for e in loaded.get(f"{BUDGET}/events", params={"after": recorded["position"] - 1}).json()["items"]]
    assert kinds == ["adjustment", "correction"]


def test_procurement_and_three_public_transfers_over_http(loaded, tokens):
    officer = bearer(tokens["officer"])
    start = figures(loaded, "procurement")
    up = loaded.post(f"{BUDGET}/appropriations", headers=officer, json={
        "line": {"procurement": "works"}, "amount": "3万元", "reason": "办公楼修缮"})
    assert up.status_code == 201, up.text
    moved = loaded.post(f"{BUDGET}/transfers", headers=officer, json={
        "from_line": {"three_public": "vehicle_operation"}, "to_line": RECEPTION, "amount": "1000", "reason": "调剂"})
    assert moved.status_code == 201, moved.text
    assert figures(loaded, "procurement") == {**start, "works": start["works"] + 30000}
    assert figures(loaded, "procurement", publication="年初预算") == start
    tp = figures(loaded, "three_public")
    assert (tp["vehicle_operation"], tp["reception"]) == (Decimal("19000.00"), Decimal("4000.00"))
    narrative = loaded.get(f"{BUDGET}/narrative").json()["text"]
    assert "政府采购工程预算3.00万元" in narrative


def test_refusals_are_422_naming_the_field_or_rule_and_record_nothing(loaded, tokens):
    officer = bearer(tokens["officer"])
    before = last_position(loaded)
    fields = [
        ({"line": {"three_public": "reception", "source": "unit_funds"}, "amount": "1", "reason": "x"},
         "body.line.source", "“三公”经费按财政拨款公开"),
        ({"line": {"three_public": "taxi"}, "amount": "1", "reason": "x"}, "body.line.three_public", "应为以下之一"),
        ({"line": {**RECEPTION, "code": "2210399"}, "amount": "1", "reason": "x"}, "body.line.code",
         "不允许的字段: “三公”经费行只写 three_public 与 source"),
        ({"line": {"procurement": "food"}, "amount": "1", "reason": "x"}, "body.line.procurement", "应为以下之一"),
        ({"line": {"procurement": "goods", "source": "general"}, "amount": "1", "reason": "x"},
         "body.line.source", "不允许的字段: 政府采购行只写 procurement"),
    ]
    for body, location, words in fields:
        response = loaded.post(f"{BUDGET}/adjustments", headers=officer, json=body)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert location in [e["location"] for e in problem["errors"]], problem
        assert words in problem["detail"] and "未记录任何事件" in problem["detail"], problem
    rules = [
        ("adjustments", {"line": RECEPTION, "amount": "-3001", "reason": "x"}, "non-negative", "预算数不能为负"),
        ("adjustments", {"line": {"procurement": "goods"}, "amount": "2000万元", "reason": "x"},
         "procurement-within-expenditure", "超过支出合计"),
        ("appropriations", {"line": {"three_public": "overseas", "source": "state_capital"}, "amount": "1",
                            "reason": "x"}, "three-public-within-expenditure", "超过国有资本经营预算支出"),
        ("transfers", {"from_line": RECEPTION, "to_line": SPENDING, "amount": "100", "reason": "x"},
         "same-kind-transfer", "须同类"),
    ]
    for resource, body, rule, words in rules:
        response = loaded.post(f"{BUDGET}/{resource}", headers=officer, json=body)
        assert response.status_code == 422, (body, response.text)
        assert [e["location"] for e in response.json()["errors"]] == [rule]
        assert words in response.json()["detail"]
    assert last_position(loaded) == before


def test_the_openapi_document_names_each_kind_of_line_with_examples_that_work(loaded, tokens):
    schema = loaded.get("/openapi.json").json()
    adjust = schema["components"]["schemas"]["Adjust"]["properties"]["line"]
    refs = {ref["$ref"].rsplit("/", 1)[1] for ref in adjust["oneOf"]}
    assert refs == {"LineSpec", "ThreePublicLine", "ProcurementLine"}
    three = schema["components"]["schemas"]["ThreePublicLine"]
    assert set(three["properties"]) == {"three_public", "source"} and three["additionalProperties"] is False
    assert three["properties"]["source"]["enum"] == ["general", "government_fund", "state_capital"]
    base = "/api/budgets/{department}/{fiscal_year}"
    tried = 0
    for resource in ("appropriations", "adjustments", "transfers"):
        examples = schema["paths"][f"{base}/{resource}"]["post"]["requestBody"]["content"]["application/json"]["examples"]
        for name, example in examples.items():
            if name == "seed":
                continue
            response = loaded.post(f"{BUDGET}/{resource}", headers=bearer(tokens["officer"]), json=example["value"])
            assert response.status_code == 201, (resource, name, response.json())
            tried += 1
    assert tried == 4


def test_an_idempotent_retry_of_a_procurement_command_records_once(loaded, tokens):
    headers = {**bearer(tokens["officer"]), "Idempotency-Key": "procurement-goods-1"}
    body = {"line": {"procurement": "goods"}, "amount": "-1000", "reason": "少购一台"}
    first = loaded.post(f"{BUDGET}/adjustments", headers=headers, json=body)
    position = last_position(loaded)
    again = loaded.post(f"{BUDGET}/adjustments", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert last_position(loaded) == position
    other = loaded.post(f"{BUDGET}/adjustments", headers=headers, json={**body, "line": {"procurement": "services"}})
    assert other.status_code == 422 and last_position(loaded) == position


def test_a_procurement_change_has_its_lineage_and_diff_over_http(loaded, tokens):
    done = loaded.post(f"{BUDGET}/adjustments", headers=bearer(tokens["officer"]), json={
        "line": {"procurement": "services"}, "amount": "3000", "reason": "购买服务"})
    assert done.status_code == 201, done.text
    lineage = loaded.get(f"{BUDGET}/explanation/lineage", params={"figure": "procurement:services"}).json()
    assert lineage["contributions"][-1]["position"] == done.json()["position"]
    assert Decimal(lineage["amount"]["yuan"]) == figures(loaded, "procurement")["services"]
    assert loaded.get(f"{BUDGET}/explanation/lineage", params={"figure": "nonsense"}).status_code == 404
    diff = loaded.get(f"{BUDGET}/diff", params={"from_publication": "年初预算"}).json()
    changed = {f["figure"]: f for f in diff["figures"]}
    assert Decimal(changed["procurement:services"]["delta"]["yuan"]) == 3000
    assert [e["position"] for e in changed["procurement"]["events"]] == [done.json()["position"]]
