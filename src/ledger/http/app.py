"""The application: `create_app()` is what `ledger serve` runs (uvicorn --factory)."""

from __future__ import annotations

import gc
import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from . import errors
from ..application import Ledger
from .deps import ReadAccess, Settings
from .idempotency import IdempotencyStore
from .limits import ENVELOPE, BodyLimit, HeaderLimit
from .routers import audit, audits, budgets, checkpoints, commands, documents, explanations, health, series, tables
from .security import SecurityHeaders
from .tablecache import TableCache

STATIC = Path(__file__).parent / "static"
REPO = Path(__file__).resolve().parents[3]


def rules_page() -> str:
    """Render the cucumber JSON of the last `make test` (LEDGER_RULES_REPORT to choose another)."""
    import json
    import os

    from ..devtools.rulesreport import render_html

    candidates = [os.environ.get("LEDGER_RULES_REPORT", ""), REPO / "reports" / "cucumber-sqlite.json",
                  REPO / "reports" / "cucumber-postgresql.json", REPO / "reports" / "cucumber.json"]
    report = next((Path(c) for c in candidates if c and Path(c).is_file()), None)
    features = REPO / "features"
    if report is None:
        return scenarios_page(features)
    data = json.loads(report.read_text(encoding="utf-8"))
    return render_html(data, features_dir=features if features.is_dir() else None)


def scenarios_page(features: Path) -> str:
    """Before any test run (a fresh clone): the rules as the scenarios state them, without results."""
    parts = ["<!doctype html><html lang='zh-CN'><meta charset=utf-8><title>预算规则</title>",
             "<h1>预算规则：可执行的场景</h1>",
             "<p>尚无运行结果: 运行 <code>make test</code> 后, 本页显示每个场景及其结果 (或以 LEDGER_RULES_REPORT 指定"
             " cucumber JSON 文件)。以下是 features/ 中的规则原文。</p>"]
    files = sorted(features.glob("*.feature")) if features.is_dir() else []
    for path in files:
        text = path.read_text(encoding="utf-8")
        title = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("功能:")), path.stem)
        parts.append(f"<h2>{html.escape(title)}</h2><pre>{html.escape(text)}</pre>")
    if not files:
        parts.append("<p>(没有找到 features/ 目录)</p>")
    return "".join(parts)

# Swagger UI from static/swagger-ui, started by static/swagger-init.js: no inline script, so
# /docs keeps the Content-Security-Policy of every other page (FastAPI's own docs page inlines it).
DOCS_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>预算账本 API 文档</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="/static/swagger-ui/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""

DESCRIPTION = """预算账本的 HTTP 接口: 由事件重建的部门预算公开报表 (表一…表十三)、情况说明、单元格来历、
时点比较与事件日志; 预算人员以令牌记录拨款、调整、调剂、更正与发布.

* 金额: `yuan` 为精确的元 (字符串), `wan` 为印刷的万元 (两位小数, 四舍五入).
* 时点: 预算的每个读取接口都接受 `as_of` (通知位置或 ISO 时间)、`effective` (生效日期)、`publication` (发布节点).
* 写入: `Authorization: Bearer 令牌` (officer 记录命令, admin 导入文件;
  设置 LEDGER_READ_TOKEN_REQUIRED 时读取也需 reader 令牌); `If-Match` 为读取时的 ETag;
  `Idempotency-Key` 使重试返回首次结果而不重复记录 (键与事件在同一事务中记录, 属于首次使用它的令牌, 24 小时后过期).
"""

TAGS = [
    {"name": "预算报表", "description": "十三张公开报表, JSON 或 CSV / XLSX 下载"},
    {"name": "情况说明", "description": "由事件重新生成的第三部分 情况说明及其数据"},
    {"name": "审计", "description": "事件日志、单元格来历、两个时点的比较"},
    {"name": "记录命令", "description": "拨款、调整、调剂、更正、发布 (officer)"},
    {"name": "导入", "description": "导入部门预算公开文件 (admin)"},
    {"name": "审校", "description": "审校一份公开文件: 每处不一致及其位置, 不记录任何事件"},
    {"name": "预算", "description": "账本中的预算"},
    {"name": "健康检查", "description": "服务状态"},
]


def prepare_store(settings: Settings) -> None:
    """Create every table of a new store once, before `ledger serve --workers N` starts its
    workers: each worker opening a new SQLite file at once raced to create the same tables
    ("table ledger_tracking already exists") and died."""
    ledger = Ledger(settings.database_url)
    try:
        IdempotencyStore(ledger.engine)
    finally:
        ledger.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = Ledger(settings.database_url)
        app.state.ledger = ledger
        app.state.idempotency = IdempotencyStore(ledger.engine)
        if gc.get_freeze_count() == 0:
            # What exists now (modules, schemas, the ledger) lives as long as the process: keep it
            # out of the cyclic collector, whose full passes over it stalled every request in
            # flight for ~100 ms (issue 7, the p99 of the table GET). Once per process.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            ledger.close()

    # The docs page is served from static/swagger-ui (no CDN), like the web page: it works offline.
    app = FastAPI(title="预算账本 API", version="0.1.0", description=DESCRIPTION, openapi_tags=TAGS,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.table_cache = TableCache(settings.table_cache_size) if settings.table_cache_size else None
    errors.install(app)
    reads = [ReadAccess] if settings.read_token_required else []
    for module in (budgets, tables, explanations, series, audit, audits, checkpoints):
        app.include_router(module.router, dependencies=reads)
    app.include_router(commands.router)
    app.include_router(documents.router)
    app.include_router(health.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/audit", include_in_schema=False)
    def audit_page() -> FileResponse:
        """The audit page: a document in, its findings listed and marked in its text."""
        return FileResponse(STATIC / "audit.html", media_type="text/html; charset=utf-8")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        # Pages without an icon of their own (/rules) make the browser ask for this: no icon, no 404.
        return Response(status_code=204)

    @app.get("/rules", include_in_schema=False)
    def rules() -> HTMLResponse:
        """The budget rules (features/) with their results from the last test run."""
        return HTMLResponse(rules_page())

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE.format(openapi_url=html.escape(app.openapi_url or "/openapi.json")))

    # Every request body is limited (commands are small JSON); the upload has its own limit.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       paths={"/api/documents": settings.max_upload_bytes + ENVELOPE,
                              "/api/audits": settings.max_upload_bytes + ENVELOPE})
    app.add_middleware(HeaderLimit, max_bytes=settings.max_header_bytes)
    app.add_middleware(SecurityHeaders)  # added last: the outermost, so every response carries the headers
    return app
