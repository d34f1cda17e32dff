"""The `ledger` command line (Typer). Thin: parses options, calls the application, prints."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..domain.budget import RuleViolation
from ..eventstore import StorageError
from ..ingest.errors import DocumentRejected
from ..readmodel.lineage import AmbiguousRow
from ..readmodel.queries import NotFound, Point
from ..tables import formats

app = typer.Typer(help="预算账本: 部门预算的事件溯源账本 (event-sourced budget ledger).", no_args_is_help=True,
                  pretty_exceptions_enable=False)

Department = Annotated[str, typer.Option("--department", "-d", help="部门名称, 如 长治市住房公积金管理中心")]
Year = Annotated[int, typer.Option("--year", "-y", help="预算年度, 如 2024")]
class TableFormat(str, Enum):
    text = "text"
    tsv = "tsv"
    csv = "csv"
    json = "json"


class ReportFormat(str, Enum):
    """What every command other than `tables` can print: text, or the same as JSON."""

    text = "text"
    json = "json"


# Each command offers only the formats it can write (tsv and csv are tables).
TablesFormat = Annotated[TableFormat, typer.Option("--format", "-f", help="text | tsv | csv | json")]
Format = Annotated[ReportFormat, typer.Option("--format", "-f", help="text | json")]
AsOf = Annotated[Optional[str], typer.Option("--as-of", help="通知位置 (整数) 或记录时间 (ISO 8601)")]
Effective = Annotated[Optional[str], typer.Option("--effective", help="生效日期 YYYY-MM-DD: 只计此日及以前生效的事件")]
Publication = Annotated[Optional[str], typer.Option("--publication", help="发布节点名称, 如 年初预算")]


class State:
    database: str | None = None
    actor: str | None = None  # --actor, else the OS user (see actor())


state = State()


@app.callback()
def main_options(
    database: Annotated[Optional[str], typer.Option("--database", envvar="LEDGER_DATABASE_URL",
                                                    help="sqlite:///PATH 或 postgresql://USER@HOST:PORT/DB")] = None,
    actor: Annotated[Optional[str], typer.Option(
        "--actor", help="记录人: 记录的每个事件记为 cli:NAME (默认: 操作系统用户名)")] = None,
) -> None:
    state.database = database
    state.actor = actor


def actor() -> str:
    """Who records from the command line: `cli:` and --actor, or the OS user."""
    name = state.actor
    if name is None:
        import getpass

        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            fail("无法确定操作系统用户名, 请用 --actor NAME 指明记录人; 未记录任何事件", 2)
    if not name.strip():
        fail("--actor: 记录人 (actor) 不能为空; 未记录任何事件", 2)
    return f"cli:{name.strip()}"


def open_ledger():
    from ..application import Ledger

    return Ledger(state.database)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"错误: {message}", err=True)
    raise typer.Exit(code)


def _not_found_code(exc: Exception) -> int:
    """Exit 3 for what does not exist; 2 for a point the timeline does not have (inside an import)."""
    from ..readmodel.queries import PointInsideImport

    return 2 if isinstance(exc, PointInsideImport) else 3


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
    path: Annotated[Path, typer.Argument(help="公开文件: 部门预算公开文本 (UTF-8, 表格以制表符分隔), 或部门决算 (PDF 或文本)")],
    output: Format = ReportFormat.text,
) -> None:
    """Import a published disclosure (部门预算 text; 部门决算 PDF or text): every cell of its
    tables, projects, prior-year figures; the layout is found from the tables' titles."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"无法读取 {path}: {exc.strerror}")
    try:
        from .progress import progress

        who = actor()
        with open_ledger() as ledger, progress("投影事件") as advance:
            result = ledger.import_document(data, path.name, progress=advance, actor=who)
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
            "layout": plan.layout if plan else None, "phase": plan.phase if plan else None,
            "inconsistencies": plan.inconsistencies if plan else [], "notes": plan.notes if plan else [],
        }, ensure_ascii=False, indent=2))
        return
    if result.already_imported:
        typer.echo(f"{result.department} {result.fiscal_year}年: {result.notes[0]}")
        return
    plan = result.plan
    assert plan is not None
    phase = "决算" if plan.phase == "final" else "预算"
    typer.echo(f"已导入 {result.department} {result.fiscal_year}年{phase}: 记录 {result.recorded} 个事件 "
               f"(位置 {result.positions[0]}–{result.positions[1]})")
    for note in plan.notes:
        typer.echo(f"  {note}")
    empty = [name for name, status in plan.tables.items() if status == "empty"]
    typer.echo(f"  表: {len(plan.tables)} 张, 其中无数据: {'、'.join(empty) or '无'}")
    stated = "政府采购及决算所列预算数" if plan.phase == "final" else "政府采购"
    typer.echo(f"  项目: {len(plan.projects)} 个; 上年数: {len(plan.priors)} 项; {stated}: {len(plan.procurement)} 项")
    typer.echo(f"  尾差: {len(plan.rounding_cells)} 个印刷格的下级印刷数相加不等于该格; "
               f"为使每一格四舍五入后与文件一致, {len(plan.rounding)} 个末级数取了精确金额:")
    for item in plan.rounding:
        where = f"第{item['line']}行" if item.get("line") else f"第{item.get('page')}页"
        typer.echo(f"    {item['table']} {where} {item['row']} {item['column']}: "
                   f"印刷 {item['printed']} → {item['amount']} 元")
    if plan.inconsistencies:
        typer.echo(f"  文件自身的不一致 ({len(plan.inconsistencies)} 处, 已记录表中数, 详见 ledger audit):")
        for item in plan.inconsistencies:
            typer.echo(f"    {item}")


@app.command()
def tables(
    department: Department,
    year: Year,
    table: Annotated[Optional[int], typer.Option("--table", "-t", help="表号 (如 1–13); 省略则输出全部")] = None,
    output: TablesFormat = TableFormat.text,
    as_of: AsOf = None,
    effective: Effective = None,
    publication: Publication = None,
    layout: Annotated[Optional[str], typer.Option(
        "--layout", help="布局: department-budget (部门预算13张表, 默认) | final-accounts (部门决算9张表) | …")] = None,
) -> None:
    """Print the published tables, rebuilt from the events (now, or as of a point)."""
    point = parse_point(as_of, effective, publication)
    try:
        with open_ledger() as ledger:
            rendered = ledger.tables(department, year, number=table, point=point, layout_id=layout)
    except NotFound as exc:
        fail(str(exc), _not_found_code(exc))
    if output == "tsv":
        sys.stdout.write(formats.to_tsv(rendered))
    elif output == "csv":
        sys.stdout.write(formats.to_csv(rendered))
    elif output == "json":
        sys.stdout.write(formats.to_json(rendered, department=department, fiscal_year=year))
    else:
        sys.stdout.write(formats.to_text(rendered, department))


Code = Annotated[Optional[str], typer.Option("--code", help="功能分类科目编码 (7位), 如 2210399")]
Kind = Annotated[Optional[str], typer.Option("--kind", help="basic 基本支出 | project 项目支出")]
Economic = Annotated[Optional[str], typer.Option("--economic", help="部门经济科目/政府经济科目, 如 基本工资/工资奖金津补贴")]
Cost = Annotated[Optional[str], typer.Option("--cost", help="personnel 人员经费 | operating 公用经费")]
Source = Annotated[Optional[str], typer.Option("--source", help=(
    "general | government_fund | state_capital | special_account | unit_funds (默认 general; "
    "“三公”经费只能是前三种财政拨款, 政府采购不写)"))]
Period = Annotated[Optional[str], typer.Option("--period", help="current 当年 | carryover 上年结转 (默认 current)")]
ThreePublic = Annotated[Optional[str], typer.Option("--three-public", help=(
    "改“三公”经费 (表十) 而不是支出行: overseas 因公出国（境）费 | reception 公务接待费 | "
    "vehicle_purchase 公务用车购置费 | vehicle_operation 公务用车运行维护费; 与 --source 同用"))]
Procurement = Annotated[Optional[str], typer.Option("--procurement", help=(
    "改政府采购预算 (九、政府采购情况) 而不是支出行: goods 货物 | works 工程 | services 服务"))]
ProjectOpt = Annotated[Optional[str], typer.Option("--project", help="项目名称 (项目支出)")]
UnitOpt = Annotated[Optional[str], typer.Option("--unit", help="单位名称 (只有一个单位时可省略)")]
Amount = Annotated[str, typer.Option("--amount", help="金额: 元 (100000.50) 或 万元 (10万元)")]
Reason = Annotated[str, typer.Option("--reason", help="原因")]
EFFECTIVE_DEFAULT = "须在预算年度内; 默认: 年度进行中为今天, 年度已结束为其最后一天 12-31, 尚未开始为其第一天 01-01"
EffectiveDate = Annotated[Optional[str], typer.Option("--effective", help=f"生效日期 YYYY-MM-DD ({EFFECTIVE_DEFAULT})")]
CorrectionDate = Annotated[Optional[str], typer.Option(
    "--effective", help="生效日期 YYYY-MM-DD (须在预算年度内; 默认: 被更正事件的生效日期)")]
DocumentNo = Annotated[Optional[str], typer.Option("--document-no", help="批准文号")]


def _record(action: str, department: str, year: int, payload: dict, output: str) -> None:
    """Validate a command, record it, print the event id and position."""
    from pydantic import ValidationError

    from ..application import commands
    from ..application import ConcurrentChange

    model = {"appropriate": commands.Appropriate, "adjust": commands.Adjust, "transfer": commands.Transfer,
             "correct": commands.Correct, "publish": commands.Publish}[action]
    payload = {k: v for k, v in payload.items() if v is not None}
    try:
        command = model.model_validate(payload)
    except ValidationError as exc:
        from ..http.errors import message_of  # the API's Chinese messages; imported only on error

        problems = "; ".join(f"{'.'.join(str(p) for p in commands.error_location(e['loc']))}: {message_of(e)}"
                             for e in exc.errors())
        fail(f"命令无效, 未记录任何事件: {problems}", 2)
    who = actor()
    try:
        with open_ledger() as ledger:
            recorded = getattr(ledger, action)(department, year, command, actor=who)
    except RuleViolation as exc:
        fail(f"命令被拒绝, 未记录任何事件: {exc}", 2)
    except NotFound as exc:
        fail(str(exc), _not_found_code(exc))
    except ConcurrentChange as exc:
        fail(str(exc), 4)
    if output == "json":
        typer.echo(json.dumps({"event_id": recorded.event_id, "position": recorded.position, "kind": recorded.kind,
                               "effective": recorded.effective.isoformat() if recorded.effective else None,
                               "effective_note": recorded.effective_note}, ensure_ascii=False))
    else:
        dated = f", 生效日期 {recorded.effective.isoformat()}" if recorded.effective else ""
        typer.echo(f"已记录 {recorded.kind} 事件 {recorded.event_id} (位置 {recorded.position}{dated})")
        if recorded.effective_note:
            typer.echo(f"  {recorded.effective_note}")


def _line(code, kind, economic, cost, source, period, project, unit, three_public=None, procurement=None) -> dict:
    """The command's line from the options given (an option not given is left out, so the line's
    own default applies, and an option that does not belong to its kind of line is refused by name)."""
    line = {"code": code, "kind": kind, "economic": economic, "cost": cost, "source": source, "period": period,
            "project": project, "unit": unit, "three_public": three_public, "procurement": procurement}
    return {k: v for k, v in line.items() if v is not None}


def _parse_line(text: str, option: str, source: str | None, period: str | None) -> dict:
    out: dict[str, str] = {}
    for part in text.split(","):
        if "=" not in part:
            fail(f"{option} 应写作 key=value,...  例如 code=2210399,kind=basic,economic=基本工资/工资奖金津补贴,cost=personnel"
                 " 或 three_public=reception,source=general 或 procurement=goods")
        key, value = part.split("=", 1)
        out[key.strip()] = value.strip()
    # --source and --period apply to the lines that do not name their own.
    if source is not None:
        out.setdefault("source", source)
    if period is not None:
        out.setdefault("period", period)
    return out


def _line_command(action: str, help_text: str) -> None:
    """Register a command that records an amount on one budget line (appropriate, adjust)."""

    def command(department: Department, year: Year, amount: Amount, reason: Reason, code: Code = None,
                kind: Kind = None, economic: Economic = None, cost: Cost = None, source: Source = None,
                period: Period = None, project: ProjectOpt = None, unit: UnitOpt = None,
                three_public: ThreePublic = None, procurement: Procurement = None,
                effective: EffectiveDate = None, document_no: DocumentNo = None,
                output: Format = ReportFormat.text) -> None:
        _record(action, department, year, {
            "line": _line(code, kind, economic, cost, source, period, project, unit, three_public, procurement),
            "amount": amount,
            "reason": reason, "effective": effective, "document_no": document_no}, output)

    command.__doc__ = help_text
    app.command(action)(command)


_line_command("appropriate", "Record a new appropriation on a budget line, a “三公”经费 item (--three-public) "
              "or a 政府采购 category (--procurement).")
_line_command("adjust", "Record a budget adjustment (预算调整) of a line by an amount (negative to reduce): a "
              "spending line (--code --kind ...), a “三公”经费 item of 表十 (--three-public ITEM --source SOURCE) "
              "or a 政府采购 category (--procurement CATEGORY).")


@app.command()
def transfer(
    department: Department, year: Year, amount: Amount, reason: Reason,
    from_line: Annotated[str, typer.Option("--from", help=(
        "调出行: code=...,kind=...,economic=...,cost=... 或 three_public=reception,source=general 或 procurement=goods"))],
    to_line: Annotated[str, typer.Option("--to", help="调入行, 与调出行同类: code=...,kind=... / three_public=... / procurement=...")],
    source: Source = None, period: Period = None, effective: EffectiveDate = None,
    document_no: DocumentNo = None, output: Format = ReportFormat.text,
) -> None:
    """Record a transfer (调剂) of an amount from one line to another of the same kind (spending,
    “三公”经费 items, 政府采购 categories); totals stay unchanged."""
    _record("transfer", department, year, {
        "from_line": _parse_line(from_line, "--from", source, period),
        "to_line": _parse_line(to_line, "--to", source, period), "amount": amount, "reason": reason,
        "effective": effective, "document_no": document_no}, output)


@app.command()
def correct(department: Department, year: Year, reason: Reason,
            event: Annotated[str, typer.Option("--event", help="要冲销的事件 id 或通知位置")],
            effective: CorrectionDate = None, document_no: DocumentNo = None,
            answers: Annotated[Optional[str], typer.Option(
                "--answers", help="这次更正回应的审校发现: 审校事件id#序号 (见 ledger audit --record)")] = None,
            output: Format = ReportFormat.text) -> None:
    """Correct an earlier event by reversing it (nothing is edited or deleted)."""
    _record("correct", department, year, {"event": event, "reason": reason, "effective": effective,
                                          "document_no": document_no, "answers": answers}, output)


@app.command()
def publish(department: Department, year: Year, reason: Reason,
            name: Annotated[str, typer.Option("--name", help="发布节点名称, 如 调整预算")],
            effective: EffectiveDate = None, output: Format = ReportFormat.text) -> None:
    """Record a named, dated checkpoint of the tables (年初预算, 调整预算, ...)."""
    _record("publish", department, year, {"name": name, "reason": reason, "effective": effective}, output)


def _point_of(text: str) -> Point:
    """A point named by a position, an ISO time of recording, or a publication name."""
    text = text.strip()
    if text.isdigit():
        return Point(position=int(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return Point(publication=text)
    return Point(recorded=moment if moment.tzinfo else moment.astimezone())


@app.command()
def explain(department: Department, year: Year, output: Format = ReportFormat.text, as_of: AsOf = None,
            effective: Effective = None, publication: Publication = None,
            phase: Annotated[str, typer.Option("--phase", help="budget 预算 (默认) | final 决算")] = "budget",
            prior_publication: Annotated[str | None, typer.Option(
                "--prior-publication", help="账本中有上年预算时, 上年数取自上年的这个发布节点 (如 年初预算)")] = None,
            ) -> None:
    """The narrative's figures computed from events: year-over-year changes, shares, composition
    (of the budget, or with --phase final of its 决算: against last year and its budget). Where
    the ledger holds last year's budget, last year's figures are its own (the output says which
    point of it), and a figure this year's document states otherwise is shown beside them."""
    point = parse_point(as_of, effective, publication)
    if phase not in ("budget", "final"):
        fail(f"--phase 应为 budget 或 final: {phase!r}", 2)
    try:
        with open_ledger() as ledger:
            prior = {"prior_publication": prior_publication}
            if phase == "final":
                if output == "json":
                    typer.echo(ledger.explain_final(department, year, point, **prior).model_dump_json(indent=2))
                else:
                    sys.stdout.write(ledger.explain_final_text(department, year, point, **prior))
            elif output == "json":
                typer.echo(ledger.explain(department, year, point, **prior).model_dump_json(indent=2))
            else:
                sys.stdout.write(ledger.explain_text(department, year, point, **prior))
    except NotFound as exc:
        fail(str(exc), _not_found_code(exc))


def _read_cells(read):  # type: ignore[no-untyped-def]
    """A read that names cells: exit 3 for what does not exist, 2 for a row named ambiguously."""
    try:
        with open_ledger() as ledger:
            return read(ledger)
    except NotFound as exc:
        fail(str(exc), _not_found_code(exc))
    except AmbiguousRow as exc:
        fail(str(exc), 2)


@app.command()
def series(
    department: Department,
    figure: Annotated[Optional[str], typer.Option("--figure", help=(
        "情况说明的数: income_total, expenditure_total, general_public_current, basic, project, personnel, "
        "operating, three_public, operating_cost, procurement"))] = None,
    table: Annotated[Optional[int], typer.Option("--table", "-t", help="表号 1–13 (与 --row --column 一起)")] = None,
    row: Annotated[Optional[str], typer.Option("--row", help="行: 科目编码或行名称; 编码经科目对照表跟到各年")] = None,
    column: Annotated[Optional[str], typer.Option("--column", help="列名称, 如 合计")] = None,
    anchor: Annotated[Optional[int], typer.Option("--anchor", help="--row 的编码是哪一年的 (默认最后一年)")] = None,
    output: Format = ReportFormat.text,
) -> None:
    """A figure (--figure) or a table cell (--table --row --column) of a department across its
    years and phases: each publication, the latest state, and the 决算 where there is one."""
    found = _read_cells(lambda ledger: ledger.series(department, figure=figure, table=table, row=row,
                                                     column=column, anchor=anchor))
    if output == "json":
        typer.echo(found.model_dump_json(indent=2))
        return
    typer.echo(f"{found.department} {found.label}")
    typer.echo("年度\t节点\t位置\t万元\t元\t说明")
    for p in found.points:
        amount = (p.amount.wan, p.amount.yuan) if p.amount is not None else ("", "")
        typer.echo(f"{p.fiscal_year}\t{p.phase}\t{p.position or ''}\t{amount[0]}\t{amount[1]}\t{p.note or ''}")


@app.command()
def history(
    department: Department, year: Year,
    table: Annotated[Optional[int], typer.Option("--table", "-t", help="表号 1–13")] = None,
    row: Annotated[Optional[str], typer.Option("--row", help="行: 科目编码或行名称, 如 2210399 或 合计")] = None,
    column: Annotated[Optional[str], typer.Option("--column", help="列名称, 如 基本支出")] = None,
    figure: Annotated[Optional[str], typer.Option(
        "--figure", help="或: 情况说明的一个数, 如 procurement (政府采购), three_public:reception")] = None,
    output: Format = ReportFormat.text, as_of: AsOf = None, effective: Effective = None,
    publication: Publication = None,
) -> None:
    """The events behind one cell (--table --row --column), or behind one figure of the
    explanation (--figure: also those no table prints, such as 政府采购); their contributions
    add up to it."""
    point = parse_point(as_of, effective, publication)
    if figure is None and (table is None or row is None or column is None):
        fail("请给出 --table、--row 和 --column, 或 --figure", 2)
    if figure is not None:
        lineage = _read_cells(lambda ledger: ledger.figure_history(department, year, figure, point))
        heading = f"{lineage.label} ({lineage.figure})"
    else:
        lineage = _read_cells(lambda ledger: ledger.history(department, year, table, row, column, point))
        heading = f"{lineage.table_name} {lineage.title} / {lineage.row_label} / {lineage.column_label}"
    if output == "json":
        typer.echo(lineage.model_dump_json(indent=2))
        return
    typer.echo(f"{heading}: {lineage.amount.wan} 万元 ({lineage.amount.yuan} 元)")
    typer.echo("位置\t记录时间\t生效日期\t类型\t金额(元)\t原因\t来源\t记录人")
    for c in lineage.contributions:
        source = c.provenance or {}
        where = " ".join(str(source[k]) for k in ("table", "row", "column") if source.get(k))
        if source.get("line"):
            where += f" 第{source['line']}行"
        typer.echo(f"{c.position}\t{c.recorded_at.isoformat(timespec='seconds')}\t{c.effective or ''}\t{c.kind}\t"
                   f"{c.amount.yuan}\t{c.reason}\t{where.strip()}\t{c.actor or ''}")
    typer.echo(f"合计\t\t\t\t{lineage.total.yuan}")


@app.command()
def diff(
    department: Department, year: Year,
    start: Annotated[str, typer.Option("--from", help="起点: 通知位置、ISO 记录时间或发布节点名称")],
    end: Annotated[str, typer.Option("--to", help="终点: 通知位置、ISO 记录时间或发布节点名称")],
    output: Format = ReportFormat.text,
) -> None:
    """Every cell that changed between two points, with the events that changed it."""
    try:
        with open_ledger() as ledger:
            result = ledger.diff(department, year, _point_of(start), _point_of(end), labels=(start, end))
    except NotFound as exc:
        fail(str(exc), _not_found_code(exc))
    if output == "json":
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(f"{department} {year}年: {start} → {end}, {len(result.changes)} 个单元格变化")
    for c in result.changes:
        events = ", ".join(f"{e.kind}@{e.position}" + (f" ({e.actor})" if e.actor else "") for e in c.events)
        typer.echo(f"{c.table_name}\t{c.row_label}\t{c.column_label}\t{c.before.wan}\t{c.after.wan}\t"
                   f"{c.delta.wan}\t{events}")


class AuditFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"


@app.command()
def audit(
    path: Annotated[Optional[Path], typer.Argument(help="要审校的文件: PDF, 或文本布局 (或用 -d/-y 审校账本中的预算)")] = None,
    department: Annotated[Optional[str], typer.Option("--department", "-d", help="审校账本中这个部门的预算")] = None,
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="预算年度")] = None,
    record: Annotated[bool, typer.Option("--record", help="把这次审校及其发现记入该预算的历史")] = False,
    reason: Annotated[Optional[str], typer.Option("--reason", help="记录审校的原因 (与 --record 一起)")] = None,
    output: Annotated[AuditFormat, typer.Option("--format", "-f", help="text | json | csv")] = AuditFormat.text,
    against_ledger: Annotated[bool, typer.Option(
        "--against-ledger", help="文件所列的上年数也与账本中上一年度自己的事件比较 (需要账本)")] = False,
) -> None:
    """Audit a published disclosure, or a budget in the ledger (审校): every inconsistency
    found, with its place, rule and severity; differences that rounding explains are 提示 with
    the exact amounts. Records nothing unless --record (then an audit event in the budget's
    history: the document's department and year, or -d/-y). With --against-ledger (and always
    for a budget in the ledger), the 上年数 stated are checked against last year's own events
    where the ledger holds last year.

    Exits 1 when there is a finding of severity 错误, 0 otherwise."""
    from ..application import Ledger
    from ..audit import formats as audit_formats

    if path is None and (department is None or year is None):
        fail("请给出要审校的文件, 或用 --department 和 --year 指明账本中的预算", 2)
    if record and not (reason or "").strip():
        fail("--record 需要 --reason (记录审校的原因)", 2)
    if path is not None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            fail(f"无法读取 {path}: {exc.strerror}", 2)
        if against_ledger:
            with open_ledger() as ledger:
                report = ledger.audit_document_in_ledger(data, path.name)
        else:
            report = Ledger.audit_document(data, path.name)
    else:
        try:
            with open_ledger() as ledger:
                report = ledger.audit_budget(department, year)
        except NotFound as exc:
            fail(str(exc), 3)
    if record:
        try:
            with open_ledger() as ledger:
                recorded = ledger.record_audit(report, reason=reason, department=department, fiscal_year=year,
                                               actor=actor())
        except RuleViolation as exc:
            fail(f"审校未记录: {exc}", 2)
        except NotFound as exc:
            fail(f"审校未记录: {exc}", 3)
        typer.echo(f"已记录审校事件 {recorded.event_id} (位置 {recorded.position}); "
                   f"发现写作 {recorded.event_id}#序号", err=True)
    if output == "json":
        typer.echo(report.model_dump_json(indent=2))
    elif output == "csv":
        sys.stdout.write(audit_formats.to_csv(report))
    else:
        sys.stdout.write(audit_formats.to_text(report))
    if report.counts.get("错误"):
        raise typer.Exit(1)


@app.command()
def verify(
    output: Format = ReportFormat.text,
    against: Annotated[Optional[Path], typer.Option(
        "--against", help="检查点 JSON (ledger checkpoint 的输出, 由审计人员保存在事件库之外)")] = None,
    public_key: Annotated[Optional[Path], typer.Option(
        "--public-key", help="签署检查点与发布节点的公钥 (ledger keygen 生成的 .pub 文件); 单独给出时检查每个发布节点的签名")] = None,
) -> None:
    """Recompute the hash chains, publication anchors and read model from the events; with
    --against, also prove that the store still extends a signed checkpoint.

    Exits 1 when anything was tampered with (prints the first problem of each kind), 2 when the
    checkpoint cannot be used (its signature does not verify with the public key)."""
    from ..application.checkpoints import CheckpointError, load, load_public_key

    checkpoint = key = None
    if against is not None and public_key is None:
        fail("--against 须与 --public-key 一同给出 (检查点及签署它的公钥)", 2)
    if public_key is not None:
        try:
            key = load_public_key(public_key)
        except CheckpointError as exc:
            fail(str(exc), 2)
    if against is not None and public_key is not None:
        try:
            document = against.read_bytes()
        except OSError as exc:
            fail(f"无法读取检查点 {against}: {exc.strerror}", 2)
        try:
            checkpoint = load(document, load_public_key(public_key), where=f"检查点 {against.name}")
        except CheckpointError as exc:
            fail(str(exc), 2)
    with open_ledger() as ledger:
        report = ledger.verify(checkpoint, key)
    if output == "json":
        typer.echo(json.dumps({"ok": report.ok, "events": report.events, "publications": report.publications,
                               "leaves": report.leaves, "checkpoint": report.checkpoint, "problems": report.problems,
                               "unsigned_publications": report.unsigned if key is not None else None},
                              ensure_ascii=False, indent=2))
    elif report.ok:
        typer.echo(f"校验通过: {report.events} 个事件的哈希链完整, {report.publications} 个发布节点相符, "
                   f"读模型 {report.leaves} 个明细余额与事件一致")
        if report.checkpoint:
            c = report.checkpoint
            typer.echo(f"事件库延续检查点 (位置 {c['position']}, {c['created_at']} 签署, 密钥 {c['key_id']}): "
                       f"此前的事件未被修改或删除, 其后又记录了 {c['after']} 个事件")
        if key is not None:
            signed = report.publications - len(report.unsigned)
            typer.echo(f"发布节点的签名: {signed} 个由此公钥签名且相符"
                       + (f"; {len(report.unsigned)} 个未签名 (记录时未设 LEDGER_SIGNING_KEY): "
                          + "、".join(report.unsigned) if report.unsigned else ""))
    else:
        typer.echo("校验失败:\n" + "\n".join(f"  {p}" for p in report.problems), err=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def keygen(out: Annotated[Path, typer.Option("--out", help="私钥文件 (公钥写到同名 .pub 文件); 保存在数据库之外")]) -> None:
    """Make an Ed25519 key pair for signing checkpoints (the private key stays outside the store)."""
    from ..application.checkpoints import CheckpointError, generate_key

    try:
        private, public, kid = generate_key(out)
    except CheckpointError as exc:
        fail(str(exc), 2)
    typer.echo(f"已生成签名密钥 {kid}: 私钥 {private} (只有所有者可读, 勿放入数据库), 公钥 {public} (交给审计人员)")


@app.command()
def checkpoint(
    key: Annotated[Path, typer.Option("--key", help="签名私钥 (ledger keygen 生成)")],
    out: Annotated[Optional[Path], typer.Option("--out", help="把检查点 JSON 写到此文件 (省略则打印)")] = None,
) -> None:
    """Sign a checkpoint: the last position, the chain head over all events up to it, each
    budget's chain head, the time. Printed (or written) as JSON, and stored for the API."""
    from ..application.checkpoints import CheckpointError, load_private_key

    try:
        private = load_private_key(key)
        with open_ledger() as ledger:
            body = ledger.checkpoint(private)
    except CheckpointError as exc:
        fail(str(exc), 2)
    text = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"无法写入 {out}: {exc.strerror}")
    typer.echo(f"已签署检查点: 位置 {body['position']}, {body['events']} 个事件, 链头 {body['chain_head'][:16]}…, "
               f"密钥 {body['key_id']}; 写入 {out} (请保存在事件库之外)")


@app.command()
def rebuild(
    force: Annotated[bool, typer.Option("--force", help="哈希链校验失败时仍然重建 (读模型将按被篡改的事件重算)")] = False,
) -> None:
    """Verify the history, then clear the read model and replay every event from position 0.

    Refuses (exit 1, nothing rebuilt) when verify finds the recorded events tampered with,
    listing its findings, unless --force is given."""
    from ..application import BrokenChain
    from .progress import progress

    try:
        with open_ledger() as ledger, progress("重放事件", ledger.last_position()) as advance:
            rebuilt = ledger.checked_rebuild(advance, force=force)
    except BrokenChain as exc:
        fail(f"{exc}\n确认要按现有事件重建, 请加 --force (哈希链不会因此修复, ledger verify 仍将失败)")
    if rebuilt.over_broken_chain:
        typer.echo("警告: 哈希链校验失败, 仍按 --force 重建了读模型; 以下问题依旧存在:\n"
                   + "\n".join(f"  {p}" for p in rebuilt.report.chain_problems), err=True)
        typer.echo(f"已在断开的哈希链上重放 {rebuilt.events} 个事件")
    else:
        typer.echo(f"校验通过, 已重放 {rebuilt.events} 个事件")


@app.command()
def budgets() -> None:
    """List the budgets in the ledger."""
    with open_ledger() as ledger:
        rows = ledger.budgets()
    for b in rows:
        typer.echo(f"{b.department}\t{b.fiscal_year}\t{b.budget_id}")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="进程数")] = 1,
) -> None:
    """Serve the HTTP API and the web page (uvicorn)."""
    import os

    import uvicorn

    from ..http.app import prepare_store
    from ..http.deps import Settings, SettingsError
    from ..http.limits import HeaderLimitedProtocol

    if state.database:
        os.environ["LEDGER_DATABASE_URL"] = state.database
    # Settings are read here, before any worker starts, so that a bad one (a short or non-ASCII
    # token, say) stops the service with its message instead of a traceback in every worker.
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        fail(f"服务未启动: {exc}", 2)
    try:
        prepare_store(settings)  # also reads the idempotency keys' settings (http/idempotency.py)
    except SettingsError as exc:
        fail(f"服务未启动: {exc}", 2)
    except StorageError as exc:
        fail(f"服务未启动: {exc}")
    typer.echo(f"预算账本服务: http://{host}:{port}/  (API 文档: http://{host}:{port}/docs)")
    uvicorn.run("ledger.http.app:create_app", factory=True, host=host, port=port, workers=workers,
                http=HeaderLimitedProtocol, h11_max_incomplete_event_size=settings.max_header_bytes)


def main() -> None:
    app()
