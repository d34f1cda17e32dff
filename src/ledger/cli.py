"""The `ledger` command line (Typer). Thin: parses options, calls the application, prints."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from .domain.budget import RuleViolation
from .ingest.errors import DocumentRejected
from .readmodel import formats
from .readmodel.queries import NotFound, Point
from .storage import StorageError

app = typer.Typer(help="预算账本: 部门预算的事件溯源账本 (event-sourced budget ledger).", no_args_is_help=True,
                  pretty_exceptions_enable=False)

Department = Annotated[str, typer.Option("--department", "-d", help="部门名称, 如 长治市住房公积金管理中心")]
Year = Annotated[int, typer.Option("--year", "-y", help="预算年度, 如 2024")]
Format = Annotated[str, typer.Option("--format", "-f", help="text | tsv | csv | json")]
AsOf = Annotated[Optional[str], typer.Option("--as-of", help="通知位置 (整数) 或记录时间 (ISO 8601)")]
Effective = Annotated[Optional[str], typer.Option("--effective", help="生效日期 YYYY-MM-DD: 只计此日及以前生效的事件")]
Publication = Annotated[Optional[str], typer.Option("--publication", help="发布节点名称, 如 年初预算")]


class State:
    database: str | None = None


state = State()


@app.callback()
def main_options(
    database: Annotated[Optional[str], typer.Option("--database", envvar="LEDGER_DATABASE_URL",
                                                    help="sqlite:///PATH 或 postgresql://USER@HOST:PORT/DB")] = None,
) -> None:
    state.database = database


def open_ledger():
    from .application import Ledger

    return Ledger(state.database)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"错误: {message}", err=True)
    raise typer.Exit(code)


def parse_point(as_of: str | None, effective: str | None, publication: str | None) -> Point:
    position = recorded = None
    if as_of:
        if as_of.strip().isdigit():
            position = int(as_of)
        else:
            try:
                recorded = datetime.fromisoformat(as_of)
            except ValueError:
                fail(f"--as-of 应为通知位置 (整数) 或 ISO 时间, 例如 2024-03-01T12:00:00+00:00: {as_of!r}")
            if recorded.tzinfo is None:
                recorded = recorded.astimezone()
    eff = None
    if effective:
        try:
            eff = date.fromisoformat(effective)
        except ValueError:
            fail(f"--effective 应为日期 YYYY-MM-DD: {effective!r}")
    return Point(position=position, recorded=recorded, effective=eff, publication=publication)


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="部门预算公开文本 (UTF-8, 表格以制表符分隔)")],
    output: Format = "text",
) -> None:
    """Import a published disclosure: every cell of the 13 tables, projects, prior-year figures."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"无法读取 {path}: {exc.strerror}")
    try:
        with open_ledger() as ledger:
            result = ledger.import_document(data, path.name)
    except DocumentRejected as exc:
        fail(f"{path.name} 未导入, 未记录任何事件:\n" + "\n".join(f"  {p}" for p in exc.problems), 2)
    except RuleViolation as exc:
        fail(f"{path.name} 未导入, 未记录任何事件: {exc}", 2)
    except StorageError as exc:
        fail(str(exc))
    if output == "json":
        plan = result.plan
        typer.echo(json.dumps({
            "department": result.department, "fiscal_year": result.fiscal_year, "recorded": result.recorded,
            "already_imported": result.already_imported, "positions": result.positions,
            "tables": plan.tables if plan else None,
            "rounding_cells": plan.rounding_cells if plan else [],
            "rounding_adjustments": plan.rounding if plan else [],
        }, ensure_ascii=False, indent=2))
        return
    if result.already_imported:
        typer.echo(f"{result.department} {result.fiscal_year}年: {result.notes[0]}")
        return
    plan = result.plan
    assert plan is not None
    typer.echo(f"已导入 {result.department} {result.fiscal_year}年预算: 记录 {result.recorded} 个事件 "
               f"(位置 {result.positions[0]}–{result.positions[1]})")
    empty = [name for name, status in plan.tables.items() if status == "empty"]
    typer.echo(f"  表: {len(plan.tables)} 张, 其中无数据: {'、'.join(empty) or '无'}")
    typer.echo(f"  项目: {len(plan.projects)} 个; 上年数: {len(plan.priors)} 项; 政府采购: {len(plan.procurement)} 项")
    typer.echo(f"  尾差: {len(plan.rounding_cells)} 个印刷格的下级印刷数相加不等于该格; "
               f"为使每一格四舍五入后与文件一致, {len(plan.rounding)} 个末级数取了精确金额:")
    for item in plan.rounding:
        typer.echo(f"    {item['table']} 第{item['line']}行 {item['row']} {item['column']}: "
                   f"印刷 {item['printed']} 万元 → {item['amount']} 元")


@app.command()
def tables(
    department: Department,
    year: Year,
    table: Annotated[Optional[int], typer.Option("--table", "-t", help="表号 1–13; 省略则输出全部")] = None,
    output: Format = "text",
    as_of: AsOf = None,
    effective: Effective = None,
    publication: Publication = None,
) -> None:
    """Print the published tables, rebuilt from the events (now, or as of a point)."""
    point = parse_point(as_of, effective, publication)
    try:
        with open_ledger() as ledger:
            rendered = ledger.tables(department, year, number=table, point=point)
    except NotFound as exc:
        fail(str(exc), 3)
    if output == "tsv":
        sys.stdout.write(formats.to_tsv(rendered))
    elif output == "csv":
        sys.stdout.write(formats.to_csv(rendered))
    elif output == "json":
        sys.stdout.write(formats.to_json(rendered, department=department, fiscal_year=year))
    elif output == "text":
        sys.stdout.write(formats.to_text(rendered, department))
    else:
        fail(f"未知格式 {output!r} (text | tsv | csv | json)")


@app.command()
def rebuild() -> None:
    """Clear the read model and replay every event from position 0."""
    with open_ledger() as ledger:
        count = ledger.rebuild()
    typer.echo(f"已重放 {count} 个事件")


@app.command()
def budgets() -> None:
    """List the budgets in the ledger."""
    with open_ledger() as ledger:
        rows = ledger.budgets()
    for b in rows:
        typer.echo(f"{b.department}\t{b.fiscal_year}\t{b.budget_id}")


def main() -> None:
    app()
