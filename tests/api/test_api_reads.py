"""Reading the ledger over HTTP: tables (JSON, CSV, XLSX), explanation, narrative, lineage,
diff, the event feed, budgets and health; every read at a point in history."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import httpx
import openpyxl
from disclosure import amount_rows, trim
from fastapi.testclient import TestClient
from header_layout import header_spans

from ledger.http.app import create_app
from ledger.http.deps import Settings

from .api_support import BUDGET, DEPARTMENT, SEED, YEAR, Server, bearer

TABLE_THREE = "2024年预算支出总表"
LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}


def document_text() -> str:
    return SEED.read_text(encoding="utf-8")


def printed_rows(table: dict) -> list[list[str]]:
    """The rows of a table from the API that carry an amount, trimmed as the document prints them."""
    return [trim(row["cells"]) for row in table["rows"] if any(row["cells"][a["cell"]] for a in row["amounts"])]


def document_rows(client) -> dict[str, list[list[str]]]:
    """Each table's rows with amounts, as the document prints them (titles delimit the tables)."""
    titles = [t["title"] for t in client.get(f"{BUDGET}/tables").json()["tables"]]
    return amount_rows(document_text(), titles)


def document_header(title: str) -> list[list[str]]:
    """The two header lines that follow a table's title, its department and unit lines."""
    lines = document_text().split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().lstrip("#").strip() == title)
    body = [line for line in lines[start + 1:] if line.strip() and not line.startswith(("部门名称", "单位"))]
    return [trim(line.split("\t")) for line in body[:2]]


def cell(client, table: int, row: str, column: str, **params) -> Decimal:
    data = client.get(f"{BUDGET}/tables/{table}", params=params).json()
    return next((Decimal(a["yuan"]) for r in data["tables"][0]["rows"] for a in r["amounts"]
                 if (a["row"], a["column"]) == (row, column)), Decimal(0))  # a tree prints only rows with money


def test_table_three_as_json_is_exactly_the_documents_cells(loaded):
    response = loaded.get(f"{BUDGET}/tables/3")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert (data["department"], data["fiscal_year"], data["unit"], data["point"]) == (DEPARTMENT, YEAR, "万元", "最新")
    [table] = data["tables"]
    assert (table["number"], table["name"], table["title"]) == (3, "表三", TABLE_THREE)
    assert printed_rows(table) == document_rows(loaded)[TABLE_THREE]
    assert [trim(h) for h in table["header"]] == document_header(TABLE_THREE)
    for row in table["rows"]:
        for amount in row["amounts"]:
            # Each amount is a decimal string in 元, printed in 万元 at its cell (blank for zero).
            assert isinstance(amount["yuan"], str) and isinstance(amount["wan"], str)
            printed = row["cells"][amount["cell"]]
            assert printed == ("" if Decimal(amount["yuan"]) == 0 else amount["wan"])
    assert response.headers["etag"] == f'"{loaded.imported["version"]}"'


def test_all_thirteen_tables_reproduce_every_printed_row(loaded):
    data = loaded.get(f"{BUDGET}/tables").json()
    tables = {t["title"]: t for t in data["tables"]}
    assert [t["name"] for t in data["tables"]] == ["表一", "表二", "表三", "表四", "表五", "表六", "表七", "表八", "表九",
                                                   "表十", "表十一", "表十二", "表十三"]
    expected = amount_rows(document_text(), list(tables))
    for title, rows in expected.items():
        produced = printed_rows(tables[title])
        position = 0
        for row in rows:
            assert row in produced[position:], f"{title}: {row} missing or out of order"
            position = produced.index(row, position) + 1
    assert {t["name"] for t in data["tables"] if t["empty"]} == {"表七", "表八", "表九", "表十三"}


def test_csv_download_holds_the_same_cells(loaded):
    tables = loaded.get(f"{BUDGET}/tables").json()["tables"]
    response = loaded.get(f"{BUDGET}/tables/3", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    three = tables[2]
    assert rows[0] == [f"# {TABLE_THREE}"]
    assert rows[1:1 + len(three["header"])] == three["header"]
    assert rows[1 + len(three["header"]):] == [r["cells"] for r in three["rows"]]
    assert [trim(r) for r in rows if any(c.replace(".", "").isdigit() and "." in c for c in r)] == \
        document_rows(loaded)[TABLE_THREE]

    whole = loaded.get(f"{BUDGET}/tables", params={"format": "csv"}).content.decode("utf-8-sig")
    titles = [r[0][2:] for r in csv.reader(io.StringIO(whole)) if r and r[0].startswith("# ")]
    assert titles == [t["title"] for t in tables]


def _sheet_rows(sheet) -> list[list[str]]:
    out = []
    for values in sheet.iter_rows(values_only=True):
        cells = ["" if v is None else f"{v:.2f}" if isinstance(v, (int, float, Decimal)) else str(v) for v in values]
        out.append(trim(cells))
    return out


def test_xlsx_download_holds_the_same_cells(loaded):
    tables = loaded.get(f"{BUDGET}/tables").json()["tables"]
    response = loaded.get(f"{BUDGET}/tables/3", params={"format": "xlsx"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["表三"]
    rows = _sheet_rows(book["表三"])
    three = tables[2]
    assert rows[0] == [TABLE_THREE]
    assert rows[1] == [f"部门名称：{DEPARTMENT}", "", "", "单位：万元"]
    assert rows[2:2 + len(three["header"])] == [trim(h) for h in three["header"]]
    assert rows[2 + len(three["header"]):] == [trim(r["cells"]) for r in three["rows"]]
    # Amounts are numbers in the sheet, so a spreadsheet can add them up.
    total = next(r for r in book["表三"].iter_rows(values_only=True) if r[0] == "合计")
    assert isinstance(total[2], (int, float)) and f"{total[2]:.2f}" == three["rows"][0]["cells"][2]

    whole = openpyxl.load_workbook(io.BytesIO(loaded.get(f"{BUDGET}/tables", params={"format": "xlsx"}).content))
    assert whole.sheetnames == [t["name"] for t in tables]
    for table in tables:
        sheet_rows = _sheet_rows(whole[table["name"]])
        expected_rows = [trim(r["cells"]) for r in table["rows"]] + ([["注：本表无数据"]] if table["empty"] else [])
        assert sheet_rows[2 + len(table["header"]):] == expected_rows, table["name"]


def test_xlsx_headers_are_merged_as_printed(loaded):
    expected = header_spans()
    book = openpyxl.load_workbook(io.BytesIO(loaded.get(f"{BUDGET}/tables", params={"format": "xlsx"}).content))
    tables = loaded.get(f"{BUDGET}/tables").json()["tables"]
    for table in tables:
        sheet, cells = book[table["name"]], expected[table["number"]]
        first = 3  # after the title and the 部门名称 / 单位 row
        merged = sorted((m.min_row - first, m.min_col - 1, m.max_row - m.min_row + 1, m.max_col - m.min_col + 1)
                        for m in sheet.merged_cells.ranges)
        assert merged == sorted((r, c, rowspan, colspan) for r, c, rowspan, colspan, _ in cells
                                if rowspan > 1 or colspan > 1), table["name"]
        for r, c, _rowspan, _colspan, text in cells:  # each label in its merged cell's top-left place
            assert (sheet.cell(first + r, c + 1).value or "") == text, (table["name"], r, c)
        # The API gives the same cells, and its text rows are the document's (empty where merged).
        assert [(h["row"], h["column"], h["rowspan"], h["colspan"], h["text"]) for h in table["header_cells"]] == cells


def test_budgets_and_the_version_as_etag(loaded):
    budgets = loaded.get("/api/budgets").json()
    assert [(b["department"], b["fiscal_year"]) for b in budgets] == [(DEPARTMENT, YEAR)]
    response = loaded.get(BUDGET)
    assert response.status_code == 200
    detail = response.json()
    feed = loaded.get(f"{BUDGET}/events", params={"limit": 1000}).json()["items"]
    assert detail["version"] == len(feed) == loaded.imported["recorded"]
    assert response.headers["etag"] == f'"{detail["version"]}"'
    assert [p["name"] for p in detail["publications"]] == ["年初预算"]
    assert [d["name"] for d in detail["documents"]] == [SEED.name]
    assert detail["units"] == [{"name": DEPARTMENT, "category": "参公事业单位"}]

    # As of a point: the budget as it was then (no ETag: not a version to write against). The
    # import is one point: before its publication the budget was never seen (issue 20.5).
    published = detail["publications"][0]["position"]
    then = loaded.get(BUDGET, params={"as_of": published})
    assert "etag" not in then.headers
    assert (then.json()["version"], [p["name"] for p in then.json()["publications"]]) == (published, ["年初预算"])
    assert loaded.get(BUDGET, params={"as_of": published - 1}).status_code == 422
    assert loaded.get("/api/budgets", params={"as_of": 0}).json() == []
    assert loaded.get("/api/budgets", params={"publication": "年初预算"}).json() == budgets
    assert loaded.get("/api/budgets", params={"publication": "调整预算"}).json() == []


def test_event_feed_is_read_in_pages_with_a_cursor(loaded):
    positions, after, pages = [], 0, 0
    while after is not None:
        page = loaded.get("/api/events", params={"after": after, "limit": 40}).json()
        positions += [e["position"] for e in page["items"]]
        after = page["next_after"]
        pages += 1
        assert pages < 10
    first, last = loaded.imported["positions"]
    assert positions == list(range(first, last + 1))
    assert pages == -(-len(positions) // 40)
    assert page["last_position"] == last
    kinds = [e["kind"] for e in loaded.get("/api/events", params={"limit": 1000}).json()["items"]]
    assert kinds[0] == "budget_opened" and kinds[-1] == "publication"
    opened = loaded.get("/api/events", params={"limit": 1}).json()["items"][0]
    assert opened["kind_label"] == "预算开立" and opened["detail"]["department"] == DEPARTMENT


def test_every_read_takes_a_point_in_history(loaded, tokens):
    before = cell(loaded, 3, "0/code:2210399", "basic")
    recorded = loaded.post(f"{BUDGET}/adjustments", headers=bearer(tokens["officer"]), json={
        "line": LINE, "amount": "-20000.00", "reason": "社保缴费基数调整", "effective": "2024-06-30"}).json()
    assert cell(loaded, 3, "0/code:2210399", "basic") == before - Decimal("20000.00")
    earlier = {"as_of": str(recorded["position"] - 1)}
    assert cell(loaded, 3, "0/code:2210399", "basic", **earlier) == before
    assert cell(loaded, 3, "0/code:2210399", "basic", publication="年初预算") == before
    assert cell(loaded, 3, "0/code:2210399", "basic", effective="2024-06-29") == before
    assert cell(loaded, 3, "0/code:2210399", "basic", effective="2024-06-30") == before - Decimal("20000.00")
    feed = loaded.get("/api/events", params={"after": recorded["position"] - 1}).json()
    recorded_at = feed["items"][0]["recorded_at"]
    opened_at = loaded.get("/api/events", params={"limit": 1}).json()["items"][0]["recorded_at"]
    assert cell(loaded, 3, "0/code:2210399", "basic", as_of=recorded_at) == before - Decimal("20000.00")
    assert cell(loaded, 3, "0/code:2210399", "basic", as_of=opened_at) == 0

    def read(path: str, **params: str) -> dict:
        path, _, query = path.partition("?")
        params.update(dict(part.split("=") for part in query.split("&") if part))
        data = loaded.get(f"{BUDGET}/{path}", params=params).json()
        data.pop("point", None)  # names the point as asked
        return data

    for path in ("tables", "tables/3", "explanation", "narrative", "events", "tables/3/lineage?row=合计&column=合计"):
        then = read(path, **earlier)
        assert read(path) != then, path
        assert then == read(path, publication="年初预算"), path
    events_then = loaded.get(f"{BUDGET}/events", params={**earlier, "limit": 1000}).json()["items"]
    assert events_then[-1]["position"] == recorded["position"] - 1


def test_explanation_and_narrative_follow_the_tables(loaded):
    explanation = loaded.get(f"{BUDGET}/explanation").json()
    tables = {t["name"]: t for t in loaded.get(f"{BUDGET}/tables").json()["tables"]}
    total = next(a for a in tables["表三"]["rows"][0]["amounts"] if a["column"] == "total")
    assert explanation["totals"]["expenditure_total"]["yuan"] == total["yuan"]
    three_public = next(a for r in tables["表十"]["rows"] for a in r["amounts"]
                        if (a["row"], a["column"]) == ("0/total", "total"))
    assert sum(Decimal(i["amount"]["yuan"]) for i in explanation["three_public"]) == Decimal(three_public["yuan"])
    narrative = loaded.get(f"{BUDGET}/narrative").json()
    document = document_text().split("\n")
    heading = next(i for i, line in enumerate(document) if line.endswith("一、部门预算收支数据变动情况及原因")
                   and line.startswith("#"))
    first_paragraph = next(line for line in document[heading + 1:] if line.strip())
    assert first_paragraph in narrative["paragraphs"]
    assert narrative["text"].startswith("第三部分")
    text = loaded.get(f"{BUDGET}/narrative", params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain") and text.text == narrative["text"]


def test_lineage_of_a_cell_adds_up_to_it(loaded):
    response = loaded.get(f"{BUDGET}/tables/3/lineage", params={"row": "2210399", "column": "基本支出"})
    assert response.status_code == 200
    lineage = response.json()
    assert (lineage["table_name"], lineage["row"], lineage["column"]) == ("表三", "0/code:2210399", "basic")
    assert lineage["amount"]["yuan"] == str(cell(loaded, 3, "0/code:2210399", "basic"))
    assert sum(Decimal(c["amount"]["yuan"]) for c in lineage["contributions"]) == Decimal(lineage["amount"]["yuan"])
    assert all(c["provenance"]["document"] == SEED.name for c in lineage["contributions"])


def test_diff_names_the_cells_and_the_event_that_changed_them(loaded, tokens):
    recorded = loaded.post(f"{BUDGET}/adjustments", headers=bearer(tokens["officer"]), json={
        "line": LINE, "amount": "-20000.00", "reason": "社保缴费基数调整"}).json()
    diff = loaded.get(f"{BUDGET}/diff", params={"from_publication": "年初预算"}).json()
    assert (diff["from_point"], diff["to_point"]) == ("发布节点 年初预算", "最新")
    change = next(c for c in diff["changes"]
                  if (c["table_name"], c["row"], c["column"]) == ("表三", "0/code:2210399", "basic"))
    assert Decimal(change["delta"]["yuan"]) == Decimal("-20000.00")
    assert [e["position"] for e in change["events"]] == [recorded["position"]]
    same = loaded.get(f"{BUDGET}/diff", params={"from_as_of": "90", "to_as_of": "90"}).json()
    assert same["changes"] == []


def test_health_reports_the_store_and_positions(loaded):
    health = loaded.get("/api/health").json()
    last = loaded.imported["positions"][1]
    assert health["status"] == "ok" and health["budgets"] == 1
    assert health["position"] == health["projected"] == last


def test_unknown_budget_table_publication_or_cell_is_404(loaded):
    cases = {
        "/api/budgets/不存在的部门/2024": "没有预算",
        f"{BUDGET}/tables/14": "没有表 14",
        f"{BUDGET}/tables/3?publication=调整预算": "没有名为「调整预算」的发布节点",
        f"{BUDGET}/tables/3/lineage?row=9999999&column=合计": "没有行「9999999」",
        f"{BUDGET}/tables/3/lineage?row=合计&column=不存在": "没有列「不存在」",
        "/api/budgets/不存在的部门/2024/explanation": "没有预算",
        "/api/budgets/不存在的部门/2024/events": "没有预算",
    }
    for path, message in cases.items():
        response = loaded.get(path)
        assert response.status_code == 404, path
        assert response.json()["status"] == 404 and response.json()["title"] == "未找到"
        assert message in response.json()["detail"], (path, response.json())


def test_bad_read_parameters_are_422_naming_the_parameter(loaded):
    cases = {
        f"{BUDGET}/tables/3?as_of=昨天": "query.as_of",
        f"{BUDGET}/tables/3?as_of=-1": "query.as_of",
        f"{BUDGET}/tables/3?effective=2024-13-01": "query.effective",
        f"{BUDGET}/tables/3?format=pdf": "query.format",
        f"{BUDGET}/diff?to_as_of=later": "query.to_as_of",
        "/api/events?limit=0": "query.limit",
        f"/api/budgets/{DEPARTMENT}/99999/tables": "path.fiscal_year",
    }
    for path, location in cases.items():
        response = loaded.get(path)
        assert response.status_code == 422, path
        problem = response.json()
        assert location in [e["location"] for e in problem["errors"]], (path, problem)
        assert location in problem["detail"]


def test_reads_can_require_a_token(database_url, tokens):
    settings = Settings(database_url=database_url, tokens=tuple((r, t.encode()) for r, t in tokens.items()),
                        read_token_required=True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/budgets").status_code == 401
        assert client.get("/api/budgets", headers=bearer("not-a-token-of-ours")).status_code == 401
        assert client.get("/api/budgets", headers=bearer(tokens["reader"])).json() == []
        assert client.get("/", headers={}).status_code == 200  # the page itself is static; its data needs the token


def test_openapi_and_docs(loaded):
    docs = loaded.get("/docs")
    assert docs.status_code == 200 and "/static/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    schema = loaded.get("/openapi.json").json()
    paths = schema["paths"]
    assert f"/api/budgets/{{department}}/{{fiscal_year}}/tables/{{number}}" in paths
    department = next(p for p in paths["/api/budgets/{department}/{fiscal_year}"]["get"]["parameters"]
                      if p["name"] == "department")
    assert department["schema"]["examples"] == [DEPARTMENT]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_diff_without_points_is_400(loaded):
    response = loaded.get(f"{BUDGET}/diff")
    assert response.status_code == 400
    problem = response.json()
    assert problem["title"] == "请求错误"
    assert "from_publication" in problem["detail"] and "to_as_of" in problem["detail"]
    # One side given is enough: the other is now.
    assert loaded.get(f"{BUDGET}/diff", params={"to_publication": "年初预算"}).status_code == 200


def test_an_ambiguous_row_name_is_refused_listing_the_candidates(loaded):
    lineage = f"{BUDGET}/tables/6/lineage"
    ambiguous = loaded.get(lineage, params={"row": "基本工资", "column": "合计"})
    assert ambiguous.status_code == 422, ambiguous.text
    problem = ambiguous.json()
    assert "表六中有 2 行都叫「基本工资」" in problem["detail"]
    keys = [e["location"].removeprefix("query.row=") for e in problem["errors"][1:]]
    assert keys == ["0/econ:30101/50101", "0/econ:30101/50501"]
    assert [e["message"] for e in problem["errors"][1:]] == ["基本工资 工资奖金津补贴", "基本工资 工资福利支出"]
    for key in keys:  # each candidate, named by its key, is one cell
        named = loaded.get(lineage, params={"row": key, "column": "合计"})
        assert named.status_code == 200 and named.json()["row"] == key
    # The whole label is exact; a label that is one row's and another's word is that row.
    assert loaded.get(lineage, params={"row": "基本工资 工资福利支出", "column": "合计"}).json()["row"] == keys[1]
    assert loaded.get(lineage, params={"row": "工资福利支出", "column": "合计"}).json()["row"] == "0/econ:301"
    # 表四 prints 一、一般公共预算 twice: this year's and last year's carryover.
    four = loaded.get(f"{BUDGET}/tables/4/lineage", params={"row": "一、一般公共预算", "column": "2024年预算数"})
    assert four.status_code == 422, four.text
    assert "0/general (一、一般公共预算)" in four.json()["detail"]
    assert "0/carryover_general (一、一般公共预算)" in four.json()["detail"]


def test_the_openapi_document_advertises_no_float_amounts(loaded):
    schema = loaded.get("/openapi.json").json()
    numbers = []

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("type") == "number":
                numbers.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(schema, "")
    # Positions on a PDF page (points) are numbers; no amount is.
    coordinates = {"/components/schemas/Place/properties/x/anyOf/0", "/components/schemas/Place/properties/y/anyOf/0"}
    coordinates |= {f"/components/schemas/PrintedCellOut/properties/box/anyOf/0/prefixItems/{i}" for i in range(4)}
    assert [n for n in numbers if n not in coordinates] == []
    components = schema["components"]["schemas"]
    for command in ("Appropriate", "Adjust", "Transfer"):
        amount = components[command]["properties"]["amount"]
        assert amount["type"] == "string" and "万元" in amount["pattern"], amount
    event = components["Correct"]["properties"]["event"]
    assert {option["type"] for option in event["anyOf"]} == {"string", "integer"}


def test_health_in_read_token_mode_tells_only_whether_the_service_is_up(server, database_url, tokens, tmp_path):
    open_health = httpx.get(f"{server.url}/api/health").json()
    assert open_health["budgets"] == 1 and open_health["position"] > 0
    guarded = Server(database_url, tokens, tmp_path / "guarded.log", env={"LEDGER_READ_TOKEN_REQUIRED": "1"})
    try:
        anonymous = httpx.get(f"{guarded.url}/api/health")
        assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
        wrong = httpx.get(f"{guarded.url}/api/health", headers=bearer("x" * 32))
        assert wrong.status_code == 200 and wrong.json() == {"status": "ok"}
        reader = httpx.get(f"{guarded.url}/api/health", headers=bearer(tokens["reader"])).json()
        assert reader == open_health
        assert httpx.get(f"{guarded.url}/api/budgets").status_code == 401
    finally:
        guarded.stop()


def test_diff_and_lineage_answer_in_pages(loaded, tokens):
    officer = bearer(tokens["officer"])
    recorded = [loaded.post(f"{BUDGET}/adjustments", headers=officer, json={
        "line": LINE, "amount": "-1000.00", "reason": f"第{i}次调整"}).json()["position"] for i in range(3)]
    whole = loaded.get(f"{BUDGET}/diff", params={"from_publication": "年初预算", "limit": 1000}).json()
    assert whole["total"] == len(whole["changes"]) > 4 and whole["next_offset"] is None
    pages, offset = [], 0
    while offset is not None:
        page = loaded.get(f"{BUDGET}/diff", params={"from_publication": "年初预算", "limit": 4, "offset": offset,
                                                    "events_limit": 2}).json()
        assert len(page["changes"]) <= 4 and page["total"] == whole["total"]
        pages += page["changes"]
        offset = page["next_offset"]
    assert [(c["table"], c["row"], c["column"]) for c in pages] == \
        [(c["table"], c["row"], c["column"]) for c in whole["changes"]]
    assert all(c["events_count"] == 3 and [e["position"] for e in c["events"]] == recorded[:2] for c in pages)
    assert loaded.get(f"{BUDGET}/diff", params={"from_publication": "年初预算", "limit": 1001}).status_code == 422

    path = f"{BUDGET}/tables/3/lineage"
    first = loaded.get(path, params={"row": "2210399", "column": "基本支出", "limit": 1}).json()
    count, total = first["count"], first["total"]
    seen, after = [c["position"] for c in first["contributions"]], first["next_after"]
    while after is not None:
        page = loaded.get(path, params={"row": "2210399", "column": "基本支出", "limit": 1, "after": after}).json()
        assert (page["count"], page["total"], len(page["contributions"])) == (count, total, 1)
        seen.append(page["contributions"][0]["position"])
        after = page["next_after"]
    assert seen[-3:] == recorded and len(seen) == count == len(set(seen))
    assert Decimal(total["yuan"]) == cell(loaded, 3, "0/code:2210399", "basic")


def test_health_reports_the_chain_as_the_last_verify_found_it(server, database_url):
    """Against the real server (issue 20.4): health does not verify (a full verify replays every
    event); it reports the last run's result: unverified, ok up to a position, then broken
    (since when, and the findings) once a verify or a rebuild has found a tampered event."""
    from support import CLI
    from test_integrity import edit_amount

    from ledger.application import Ledger

    cli = CLI(database_url)
    health = httpx.get(f"{server.url}/api/health").json()
    assert health["chain"] == "unverified" and "chain_verified_at" not in health
    cli("verify")
    health = httpx.get(f"{server.url}/api/health").json()
    assert (health["chain"], health["chain_verified_position"]) == ("ok", health["position"])
    assert "chain_problems" not in health and "chain_broken_since" not in health
    with Ledger(database_url) as led:
        expected = edit_amount(led)
    assert cli("rebuild", check=False).returncode == 1  # refused: and the run is kept
    broken = httpx.get(f"{server.url}/api/health").json()
    assert broken["status"] == "ok" and broken["chain"] == "broken"
    assert any(expected in problem for problem in broken["chain_problems"]), broken
    assert broken["chain_broken_since"] == broken["chain_verified_at"] > health["chain_verified_at"]
    cli("rebuild", "--force")
    again = httpx.get(f"{server.url}/api/health").json()
    assert again["chain"] == "broken" and again["chain_broken_since"] == broken["chain_broken_since"]
    assert again["chain_verified_at"] > broken["chain_verified_at"]


def test_an_import_is_one_point_of_the_timeline(server):
    """Against the real server (issue 20.5): a budget's feed gives every event of the import the
    import's last position as its point, the documents their spans, and an as-of position
    strictly inside the import is a 422 naming the import and the positions to use."""
    url = f"{server.url}{BUDGET}"
    detail = httpx.get(url).json()
    [document] = detail["documents"]
    first, last = document["first_position"], document["last_position"]
    assert (first, last) == (1, detail["position"])
    feed = httpx.get(f"{url}/events", params={"limit": 1000}).json()["items"]
    assert {e["point"] for e in feed} == {last} and len(feed) == last
    assert all(e["point"] is None for e in httpx.get(f"{server.url}/api/events").json()["items"])
    for path in ("/tables/1", "/explanation", "/events"):
        refused = httpx.get(f"{url}{path}", params={"as_of": last - 1})
        assert refused.status_code == 422, (path, refused.text)
        problem = refused.json()
        assert [e["location"] for e in problem["errors"]] == ["query.as_of"]
        assert f"位置 {last - 1} 在导入《{SEED.name}》之中 (位置 {first}–{last}" in problem["detail"]
        assert f"请用位置 {last} (导入之后)" in problem["detail"]
    assert httpx.get(f"{url}/tables/1", params={"as_of": last}).status_code == 200
