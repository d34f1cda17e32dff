"""Split a disclosure text into its parts: the heading, the 13 tables as printed rows, the
project performance-target tables, and the narrative (第三部分 情况说明).

The layout is the seed's: one line per printed row, cells separated by tabs, Markdown-ish
headings; page breaks leave blank lines inside tables.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ..readmodel.definitions import TableDef, load_tables
from .errors import DocumentRejected, Problem

MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class PrintedRow:
    line: int
    cells: list[str]


@dataclass
class PrintedTable:
    definition: TableDef
    title_line: int
    header: list[PrintedRow] = field(default_factory=list)
    rows: list[PrintedRow] = field(default_factory=list)
    marked_empty: bool = False
    unit_of_amounts: str = "万元"


@dataclass
class Disclosure:
    name: str
    sha256: str
    department: str
    fiscal_year: int
    lines: list[str]
    tables: dict[int, PrintedTable]
    narrative_start: int  # line number of 第三部分 (1-based)


_YEAR = re.compile(r"(\d{4})年度?部门预算公开")
_DEPT = re.compile(r"^部门名称[：:]\s*(.+?)\s*$")
_BOUNDARY = re.compile(r"^(预算公开表|部门公开表)\s*\d+\s*$|^#{1,3}\s*第[一二三四]部分")
_TABLEISH = re.compile(r"^#*\s*(\d{4})年.{2,60}表(（[^）]*）)?\s*$")


def decode(data: bytes, name: str) -> str:
    if len(data) > MAX_BYTES:
        raise DocumentRejected([Problem(None, f"文件过大: {len(data)} 字节, 上限 {MAX_BYTES} 字节")])
    if not data.strip():
        raise DocumentRejected([Problem(None, f"{name} 是空文件")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentRejected([Problem(line, f"不是 UTF-8 文本 (第 {exc.start} 字节起无法解码)")]) from None
    for number, line in enumerate(text.split("\n"), start=1):
        bad = next((ch for ch in line if ch == "\x00" or (ord(ch) < 32 and ch not in "\t\r")), None)
        if bad is not None:
            raise DocumentRejected([Problem(number, f"含有控制字符 U+{ord(bad):04X}, 不是文本文件")])
    return text


def split_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.rstrip("\r\n").split("\t")]


def trimmed(cells: list[str]) -> list[str]:
    out = list(cells)
    while out and out[-1] == "":
        out.pop()
    return out


def parse(data: bytes, name: str) -> Disclosure:
    text = decode(data, name)
    lines = text.split("\n")
    problems: list[Problem] = []

    fiscal_year = None
    for number, line in enumerate(lines[:40], start=1):
        match = _YEAR.search(line)
        if match:
            fiscal_year = int(match.group(1))
            break
    if fiscal_year is None:
        raise DocumentRejected([Problem(1, "找不到预算年度: 文件开头应有「YYYY年度部门预算公开」")])

    department = None
    for number, line in enumerate(lines, start=1):
        match = _DEPT.match(line.strip())
        if match:
            department = match.group(1)
            break
    if not department:
        raise DocumentRejected([Problem(None, "找不到「部门名称：」行, 无法确定部门")])

    narrative_start = next(
        (n for n, line in enumerate(lines, start=1) if re.match(r"^#*\s*第三部分", line.strip())), len(lines) + 1
    )

    definitions = load_tables()
    titles = {d.title_for(fiscal_year): d for d in definitions}
    found: dict[int, int] = {}
    for number, line in enumerate(lines[: narrative_start - 1], start=1):
        bare = line.strip().lstrip("#").strip()
        if bare in titles:
            table = titles[bare]
            if table.number in found:
                problems.append(Problem(number, f"表{table.name}《{bare}》重复出现 (第{found[table.number]}行已有)"))
            else:
                found[table.number] = number
        elif _TABLEISH.match(line.strip()) and "....." not in line:
            problems.append(Problem(number, f"未知的表名《{bare}》: 不是部门预算公开的13张表之一"))
    last = len(lines)
    while last > 1 and not lines[last - 1].strip():
        last -= 1
    for table in definitions:
        if table.number not in found:
            later = [found[n] for n in sorted(found) if n > table.number]
            if later:
                problems.append(Problem(later[0], f"缺少{table.name}《{table.title_for(fiscal_year)}》(应在此行之前)"))
            else:
                problems.append(Problem(last, f"缺少{table.name}《{table.title_for(fiscal_year)}》: 文件在此行结束, 可能被截断"))
    if problems:
        raise DocumentRejected(problems)

    starts = sorted(found.values())
    tables: dict[int, PrintedTable] = {}
    for table in definitions:
        start = found[table.number]
        later = [s for s in starts if s > start]
        end = min(later[0] if later else narrative_start, narrative_start)
        tables[table.number] = _read_table(table, lines, start, end, department, problems)
    if problems:
        raise DocumentRejected(problems)

    return Disclosure(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        department=department,
        fiscal_year=fiscal_year,
        lines=lines,
        tables=tables,
        narrative_start=narrative_start,
    )


def _read_table(table: TableDef, lines: list[str], start: int, end: int, department: str,
                problems: list[Problem]) -> PrintedTable:
    printed = PrintedTable(table, start)
    year_header = [[c for c in row] for row in table.header]
    header_left = len(year_header)
    for number in range(start + 1, end):
        raw = lines[number - 1]
        line = raw.strip()
        if not line or _BOUNDARY.match(line):
            continue
        if line.startswith("注：本表无数据") or line.startswith("注:本表无数据"):
            printed.marked_empty = True
            continue
        match = _DEPT.match(line)
        if match:
            if match.group(1) != department:
                problems.append(Problem(number, f"部门名称「{match.group(1)}」与文件的部门「{department}」不一致", table.name))
            continue
        if line.startswith("单位：") or line.startswith("单位:"):
            unit = line.split("：" if "：" in line else ":", 1)[1].strip()
            if unit != "万元":
                problems.append(Problem(number, f"金额单位应为万元, 文件写的是「{unit}」", table.name))
            continue
        cells = split_cells(raw)
        if header_left:
            printed.header.append(PrintedRow(number, cells))
            header_left -= 1
            continue
        printed.rows.append(PrintedRow(number, cells))
    return printed
