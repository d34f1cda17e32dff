"""Writing over HTTP: imports (admin) and commands (officer), with every refusal a client can
meet (401, 403, 404, 409, 413, 422) recording nothing, and Idempotency-Key retries recording once."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from fastapi.testclient import TestClient

from ledger.http.app import create_app
from ledger.http.deps import Settings, TokenConfigError

from .api_support import BUDGET, DEPARTMENT, SEED, YEAR, bearer, upload

LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}
ADJUST = {"line": LINE, "amount": "-20000.00", "reason": "社保缴费基数调整", "effective": "2024-06-30"}
ENGLISH = re.compile(r"\b(Input|Field|String|Value|should|required|valid|Extra)\b")


def last_position(client) -> int:
    return client.get("/api/health").json()["position"]


def version(client) -> int:
    return client.get(BUDGET).json()["version"]


def basic_of_2210399(client) -> Decimal:
    rows = client.get(f"{BUDGET}/tables/3").json()["tables"][0]["rows"]
    return next(Decimal(a["yuan"]) for r in rows for a in r["amounts"]
                if (a["row"], a["column"]) == ("0/code:2210399", "basic"))


# ------------------------------------------------------------------ import


def test_import_needs_an_admin_token(client, tokens, seed_bytes):
    missing = upload(client, None, seed_bytes)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert upload(client, "x" * 32, seed_bytes).status_code == 401
    assert upload(client, tokens["officer"], seed_bytes).status_code == 403
    assert upload(client, tokens["reader"], seed_bytes).status_code == 403
    assert last_position(client) == 0 and client.get("/api/budgets").json() == []

    done = upload(client, tokens["admin"], seed_bytes)
    assert done.status_code == 201
    body = done.json()
    assert (body["department"], body["fiscal_year"], body["already_imported"]) == (DEPARTMENT, YEAR, False)
    assert body["positions"] == [1, body["recorded"]] and last_position(client) == body["recorded"]
    assert body["tables"]["表七"] == "empty" and len(body["tables"]) == 13
    assert done.headers["etag"] == f'"{body["version"]}"'

    again = upload(client, tokens["admin"], seed_bytes)
    assert again.status_code == 200
    assert again.json()["already_imported"] is True and again.json()["recorded"] == 0
    assert last_position(client) == body["recorded"]


def test_a_broken_document_is_422_naming_the_line(client, tokens, seed_bytes):
    text = seed_bytes.decode("utf-8")
    cut = text.index("\n2024年一般公共预算安排基本支出分经济科目表")
    last_line = text[:cut].rstrip("\n").count("\n") + 1
    response = upload(client, tokens["admin"], text[:cut].encode("utf-8"), name="truncated.txt")
    assert response.status_code == 422
    problem = response.json()
    assert f"[第{last_line}行] 缺少表六" in problem["detail"] and "未记录任何事件" in problem["detail"]
    assert f"第{last_line}行" in [e["location"] for e in problem["errors"]]
    assert last_position(client) == 0


def test_a_document_over_the_size_limit_is_413(database_url, tokens, seed_bytes):
    limit = len(seed_bytes) - 1
    settings = Settings(database_url=database_url, tokens=(("admin", tokens["admin"].encode()),),
                        max_upload_bytes=limit)
    with TestClient(create_app(settings)) as client:
        response = upload(client, tokens["admin"], seed_bytes)
        assert response.status_code == 413
        assert str(limit) in response.json()["detail"]
        too_long = upload(client, tokens["admin"], seed_bytes + b"x" * (70 * 1024))  # refused by its length alone
        assert too_long.status_code == 413
        assert last_position(client) == 0


def test_an_upload_without_a_file_is_422_naming_the_field(client, tokens):
    response = client.post("/api/documents", headers=bearer(tokens["admin"]))
    assert response.status_code == 422
    assert "body.file" in [e["location"] for e in response.json()["errors"]]


# ------------------------------------------------------------------ commands


def test_commands_need_an_officer_token(loaded, tokens):
    before = last_position(loaded)
    path = f"{BUDGET}/adjustments"
    assert loaded.post(path, json=ADJUST).status_code == 401
    assert loaded.post(path, json=ADJUST, headers={"Authorization": "Basic b2ZmaWNlcg=="}).status_code == 401
    assert loaded.post(path, json=ADJUST, headers=bearer(tokens["officer"] + "x")).status_code == 401
    forbidden = loaded.post(path, json=ADJUST, headers=bearer(tokens["reader"]))
    assert forbidden.status_code == 403 and "officer" in forbidden.json()["detail"]
    assert last_position(loaded) == before
    assert loaded.post(path, json=ADJUST, headers=bearer(tokens["officer"])).status_code == 201
    assert loaded.post(path, json=ADJUST, headers=bearer(tokens["admin"])).status_code == 201  # admin may do more
    assert last_position(loaded) == before + 2


def test_each_command_is_recorded_and_shows_in_the_tables(loaded, tokens):
    officer = bearer(tokens["officer"])
    start = basic_of_2210399(loaded)
    appropriated = loaded.post(f"{BUDGET}/appropriations", headers=officer, json={
        "line": LINE, "amount": "10万元", "reason": "人员增资", "document_no": "长财预〔2024〕12号"})
    assert appropriated.status_code == 201
    body = appropriated.json()
    assert body["kind"] == "appropriation" and appropriated.headers["etag"] == f'"{body["version"]}"'
    assert basic_of_2210399(loaded) == start + Decimal("100000.00")

    adjusted = loaded.post(f"{BUDGET}/adjustments", headers=officer, json=ADJUST).json()
    assert adjusted["kind"] == "adjustment" and adjusted["version"] == body["version"] + 1
    assert basic_of_2210399(loaded) == start + Decimal("80000.00")

    total = loaded.get(f"{BUDGET}/tables/3").json()["tables"][0]["rows"][0]["cells"][2]
    transferred = loaded.post(f"{BUDGET}/transfers", headers=officer, json={
        "from_line": LINE, "to_line": {**LINE, "economic": "津贴补贴/工资奖金津补贴"}, "amount": "5000",
        "reason": "调剂用于津贴补贴"})
    assert transferred.status_code == 201, transferred.text
    assert transferred.json()["kind"] == "transfer"
    assert loaded.get(f"{BUDGET}/tables/3").json()["tables"][0]["rows"][0]["cells"][2] == total  # totals unchanged

    corrected = loaded.post(f"{BUDGET}/corrections", headers=officer, json={
        "event": str(appropriated.json()["position"]), "reason": "文号有误, 冲销"})
    assert corrected.status_code == 201 and corrected.json()["kind"] == "correction"
    assert basic_of_2210399(loaded) == start - Decimal("20000.00")

    published = loaded.post(f"{BUDGET}/publications", headers=officer, json={"name": "调整预算", "reason": "年中公开"})
    assert published.status_code == 201 and published.json()["kind"] == "publication"
    assert [p["name"] for p in loaded.get(BUDGET).json()["publications"]] == ["年初预算", "调整预算"]
    kinds = [e["kind"] for e in loaded.get("/api/events", params={"after": body["position"] - 1}).json()["items"]]
    assert kinds == ["appropriation", "adjustment", "transfer", "correction", "publication"]


def test_an_invalid_body_is_422_naming_the_field_and_records_nothing(loaded, tokens):
    officer = bearer(tokens["officer"])
    before = last_position(loaded)
    cases = [
        ("adjustments", {**ADJUST, "line": {**LINE, "code": "22103"}}, "body.line.code", "7位数字"),
        ("adjustments", {**ADJUST, "amount": "0"}, "body.amount", "不能为零"),
        ("appropriations", {**ADJUST, "amount": "-5"}, "body.amount", "必须为正数"),
        ("appropriations", {"line": LINE, "amount": "100"}, "body.reason", "缺少此项"),
        ("adjustments", {**ADJUST, "line": {**LINE, "economic": "不存在的科目"}}, "body.line.economic", ""),
        ("adjustments", {**ADJUST, "reason": "原因\x00"}, "body.reason", "控制字符"),
        ("adjustments", {**ADJUST, "reason": ""}, "body.reason", "至少 1 个字符"),
        ("adjustments", {**ADJUST, "document_no": "号" * 201}, "body.document_no", "最多 200 个字符"),
        ("publications", {"name": "节点" * 101, "reason": "x"}, "body.name", "最多 200 个字符"),
        ("adjustments", {**ADJUST, "effective": "2024-02-30"}, "body.effective", "应为日期 YYYY-MM-DD"),
        ("adjustments", {**ADJUST, "surprise": 1}, "body.surprise", "不允许的字段"),
        ("adjustments", {**ADJUST, "line": "2210399"}, "body.line", "应为 JSON 对象"),
        ("adjustments", {**ADJUST, "line": {**LINE, "kind": "other"}}, "body.line.kind", "应为以下之一: 'basic', 'project'"),
        ("adjustments", {**ADJUST, "amount": True}, "body.amount", "金额应为字符串"),
        ("corrections", {"event": 1.5, "reason": "x"}, "body.event", "通知位置 (整数)"),
        ("corrections", {"event": 0, "reason": "x"}, "body.event", "通知位置应在 1–"),
    ]
    for resource, body, location, words in cases:
        response = loaded.post(f"{BUDGET}/{resource}", headers=officer, json=body)
        assert response.status_code == 422, (resource, body, response.text)
        problem = response.json()
        assert location in [e["location"] for e in problem["errors"]], (location, problem)
        assert location in problem["detail"] and words in problem["detail"], problem
        assert "未记录任何事件" in problem["detail"]
        # pydantic's English never reaches a budget officer.
        assert not ENGLISH.search(problem["detail"]), problem
    not_json = loaded.post(f"{BUDGET}/adjustments", headers={**officer, "Content-Type": "application/json"},
                           content=b'{"line": ')
    assert not_json.status_code == 422 and "请求体不是有效的 JSON" in not_json.json()["detail"]
    assert last_position(loaded) == before


def test_a_command_the_rules_refuse_is_422_naming_the_rule(loaded, tokens):
    officer = bearer(tokens["officer"])
    before = last_position(loaded)
    same = loaded.post(f"{BUDGET}/transfers", headers=officer,
                       json={"from_line": LINE, "to_line": LINE, "amount": "100", "reason": "x"})
    assert same.status_code == 422
    assert [e["location"] for e in same.json()["errors"]] == ["distinct-lines"]
    unknown = loaded.post(f"{BUDGET}/appropriations", headers=officer, json={
        "line": {"code": "2210399", "kind": "project", "project": "未登记的项目"}, "amount": "100", "reason": "x"})
    assert unknown.status_code == 422 and "未登记的项目" in unknown.json()["detail"]
    twice = loaded.post(f"{BUDGET}/publications", headers=officer, json={"name": "年初预算", "reason": "x"})
    assert twice.status_code == 422 and "已存在" in twice.json()["detail"]
    assert last_position(loaded) == before


def test_a_command_on_an_unknown_budget_is_404(loaded, tokens):
    response = loaded.post("/api/budgets/不存在的部门/2024/adjustments", headers=bearer(tokens["officer"]), json=ADJUST)
    assert response.status_code == 404 and "没有预算" in response.json()["detail"]
    wrong_year = loaded.post(f"/api/budgets/{DEPARTMENT}/2023/publications", headers=bearer(tokens["officer"]),
                             json={"name": "调整预算", "reason": "x"})
    assert wrong_year.status_code == 404


def test_a_stale_if_match_is_409_and_records_nothing(loaded, tokens):
    officer = bearer(tokens["officer"])
    etag = loaded.get(BUDGET).headers["etag"]
    first = loaded.post(f"{BUDGET}/adjustments", headers={**officer, "If-Match": etag}, json=ADJUST)
    assert first.status_code == 201
    assert first.headers["etag"] == f'"{int(etag.strip(chr(34))) + 1}"' == loaded.get(BUDGET).headers["etag"]
    before = last_position(loaded)
    stale = loaded.post(f"{BUDGET}/adjustments", headers={**officer, "If-Match": etag}, json=ADJUST)
    assert stale.status_code == 409
    assert f"不是 If-Match 所指的版本 {etag.strip(chr(34))}" in stale.json()["detail"]
    assert last_position(loaded) == before
    fresh = loaded.post(f"{BUDGET}/adjustments", headers={**officer, "If-Match": first.headers["etag"]}, json=ADJUST)
    assert fresh.status_code == 201
    malformed = loaded.post(f"{BUDGET}/adjustments", headers={**officer, "If-Match": "abc"}, json=ADJUST)
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["location"] == "header.If-Match"
    weak = loaded.post(f"{BUDGET}/adjustments", headers={**officer, "If-Match": f'W/{fresh.headers["etag"]}'},
                       json=ADJUST)
    assert weak.status_code == 201


def test_an_idempotency_key_makes_a_retry_return_the_first_result(loaded, settings, tokens):
    officer = {**bearer(tokens["officer"]), "Idempotency-Key": "adjust-2024-06-30-0001"}
    first = loaded.post(f"{BUDGET}/adjustments", headers=officer, json=ADJUST)
    assert first.status_code == 201
    after_first = last_position(loaded)
    retry = loaded.post(f"{BUDGET}/adjustments", headers=officer, json=ADJUST)
    assert (retry.status_code, retry.json(), retry.headers["etag"]) == (201, first.json(), first.headers["etag"])
    assert retry.headers["idempotent-replayed"] == "true"
    assert last_position(loaded) == after_first

    # Another process over the same store knows the key too.
    with TestClient(create_app(settings)) as other:
        again = other.post(f"{BUDGET}/adjustments", headers=officer, json=ADJUST)
        assert again.json() == first.json()
    assert last_position(loaded) == after_first

    different = loaded.post(f"{BUDGET}/adjustments", headers=officer, json={**ADJUST, "amount": "-1.00"})
    assert different.status_code == 422
    assert different.json()["errors"][0]["location"] == "header.Idempotency-Key"
    assert last_position(loaded) == after_first

    # A refused first attempt records nothing and leaves the key free for the corrected request.
    key = {**bearer(tokens["officer"]), "Idempotency-Key": "publish-0001"}
    refused = loaded.post(f"{BUDGET}/publications", headers=key, json={"name": "年初预算", "reason": "x"})
    assert refused.status_code == 422
    accepted = loaded.post(f"{BUDGET}/publications", headers=key, json={"name": "调整预算", "reason": "x"})
    assert accepted.status_code == 201


def test_an_idempotent_import_retry(client, tokens, seed_bytes):
    key = {"Idempotency-Key": "import-changzhi-2024"}
    first = upload(client, tokens["admin"], seed_bytes, **key)
    retry = upload(client, tokens["admin"], seed_bytes, **key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"


def test_tokens_come_from_a_file_or_the_environment(tmp_path, tokens):
    path = tmp_path / "tokens"
    path.write_text(f"# role token\nofficer {tokens['officer']}\n\nadmin {tokens['admin']}\n", encoding="utf-8")
    settings = Settings.from_env({"LEDGER_TOKENS_FILE": str(path), "LEDGER_TOKENS": f"reader:{tokens['reader']}",
                                  "LEDGER_READ_TOKEN_REQUIRED": "1"})
    assert sorted(role for role, *_ in settings.tokens) == ["admin", "officer", "reader"]
    assert settings.read_token_required
    for bad, where in ((f"chief {tokens['admin']}", "未知角色"), ("admin short", "至少16个字符"), ("admin", "应写作")):
        path.write_text(bad + "\n", encoding="utf-8")
        with pytest.raises(TokenConfigError) as error:
            Settings.from_env({"LEDGER_TOKENS_FILE": str(path)})
        assert where in str(error.value) and tokens["admin"] not in str(error.value)


def test_tokens_are_never_logged(loaded, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    loaded.post(f"{BUDGET}/adjustments", headers=bearer(tokens["officer"]), json=ADJUST)
    loaded.post(f"{BUDGET}/adjustments", headers=bearer(tokens["officer"] + "wrong"), json=ADJUST)
    upload(loaded, tokens["officer"], SEED.read_bytes())
    assert all(token not in caplog.text for token in tokens.values())
    assert version(loaded) == loaded.imported["version"] + 1


def test_concurrent_writes_naming_the_same_version_record_once(server, tokens):
    """Against the real server: of several writes sent at once with the same If-Match, one wins;
    of several sent at once with the same Idempotency-Key, one is recorded."""
    def recorded() -> int:
        # Counted in the feed: on PostgreSQL a refused save still uses up a notification id.
        return len(httpx.get(f"{server.url}/api/events", params={"limit": 1000}).json()["items"])

    url = f"{server.url}{BUDGET}/adjustments"
    etag = httpx.get(f"{server.url}{BUDGET}").headers["etag"]
    before = recorded()
    headers = {**bearer(tokens["officer"]), "If-Match": etag}
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(lambda _: httpx.post(url, headers=headers, json=ADJUST, timeout=60).status_code,
                                   range(6)))
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert recorded() == before + 1

    keyed = {**bearer(tokens["officer"]), "Idempotency-Key": "concurrent-0001"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: httpx.post(url, headers=keyed, json=ADJUST, timeout=60), range(6)))
    # The key is recorded with the events: a request that lost the race answers with the result
    # of the one that won (never 409 "in progress").
    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.json()["event_id"] for r in responses}) == 1
    assert recorded() == before + 2


def test_the_openapi_examples_are_accepted_commands(loaded, tokens):
    """The documented request examples (from the reference document) work as they stand."""
    paths = loaded.get("/openapi.json").json()["paths"]
    base = "/api/budgets/{department}/{fiscal_year}"
    for resource in ("appropriations", "adjustments", "transfers", "corrections", "publications"):
        body = paths[f"{base}/{resource}"]["post"]["requestBody"]["content"]["application/json"]
        example = body["examples"]["seed"]["value"]
        response = loaded.post(f"{BUDGET}/{resource}", headers=bearer(tokens["officer"]), json=example)
        assert response.status_code == 201, (resource, response.json())


def test_amounts_of_27_digits_or_more_are_422_on_every_command(server, tokens):
    """Against the real server: 27 digits exceed the decimal context's precision when rounded to
    分; every amount field of every command, as a JSON string and as a JSON number, is refused
    with a message naming the field, never a server error."""
    officer = bearer(tokens["officer"])
    before = httpx.get(f"{server.url}/api/health").json()["position"]
    other = {**LINE, "economic": "津贴补贴/工资奖金津补贴"}
    commands = {"appropriations": {"line": LINE, "reason": "x"}, "adjustments": {"line": LINE, "reason": "x"},
                "transfers": {"from_line": LINE, "to_line": other, "reason": "x"}}
    amounts = ["1" * 27, "9" * 40, "-" + "9" * 30, "1" * 27 + "万元", "1" * 26 + ".5", 10**27, -(10**40), 10**26]
    for resource, body in commands.items():
        for amount in amounts:
            response = httpx.post(f"{server.url}{BUDGET}/{resource}", headers=officer, json={**body, "amount": amount})
            assert response.status_code == 422, (resource, amount, response.text)
            problem = response.json()
            assert [e["location"] for e in problem["errors"]] == ["body.amount"], problem
            assert "金额超出范围" in problem["detail"] and "未记录任何事件" in problem["detail"], problem
    assert httpx.get(f"{server.url}/api/health").json()["position"] == before
    log = server.output()
    assert '" 500 ' not in log and "Traceback" not in log, log[-3000:]


def test_a_correction_names_its_event_by_a_json_number_too(loaded, tokens):
    officer = bearer(tokens["officer"])
    start = basic_of_2210399(loaded)
    first = loaded.post(f"{BUDGET}/adjustments", headers=officer, json=ADJUST).json()
    second = loaded.post(f"{BUDGET}/adjustments", headers=officer, json=ADJUST).json()
    assert basic_of_2210399(loaded) == start - Decimal("40000.00")
    by_number = loaded.post(f"{BUDGET}/corrections", headers=officer,
                            json={"event": first["position"], "reason": "录入错误"})
    assert by_number.status_code == 201, by_number.text
    by_text = loaded.post(f"{BUDGET}/corrections", headers=officer,
                          json={"event": str(second["position"]), "reason": "录入错误"})
    assert by_text.status_code == 201, by_text.text
    assert basic_of_2210399(loaded) == start
    feed = loaded.get("/api/events", params={"after": second["position"]}).json()["items"]
    assert [e["detail"].get("corrected_event_id") for e in feed] == [first["event_id"], second["event_id"]]


def test_a_command_says_its_effective_date_and_one_outside_the_year_is_422(server, tokens):
    """Against the real server (issue 20.1): without `effective` a 2024 command, recorded after
    2024, is dated 2024-12-31 and says so; a correction takes the date of the event it reverses;
    a date outside the fiscal year is refused naming the field, recording nothing."""
    officer = bearer(tokens["officer"])
    url = f"{server.url}{BUDGET}"
    body = {k: v for k, v in ADJUST.items() if k != "effective"}
    done = httpx.post(f"{url}/adjustments", headers=officer, json=body)
    assert done.status_code == 201, done.text
    assert done.json()["effective"] == f"{YEAR}-12-31"
    assert done.json()["effective_note"] == f"未给生效日期; {YEAR}年度已结束, 取年度最后一天 {YEAR}-12-31"
    dated = httpx.post(f"{url}/adjustments", headers=officer, json=ADJUST).json()
    assert (dated["effective"], dated["effective_note"]) == (ADJUST["effective"], None)
    fixed = httpx.post(f"{url}/corrections", headers=officer, json={"event": dated["position"], "reason": "录入错误"})
    assert fixed.status_code == 201 and fixed.json()["effective"] == ADJUST["effective"]
    before = httpx.get(f"{server.url}/api/health").json()["position"]
    refused = httpx.post(f"{url}/adjustments", headers=officer, json={**ADJUST, "effective": "2025-01-01"})
    assert refused.status_code == 422
    problem = refused.json()
    assert [e["location"] for e in problem["errors"]] == ["body.effective"]
    assert "生效日期 (effective) 2025-01-01 不在 2024 预算年度内" in problem["detail"]
    assert "未记录任何事件" in problem["detail"]
    assert httpx.get(f"{server.url}/api/health").json()["position"] == before
