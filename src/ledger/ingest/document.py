"""Split a disclosure text into its parts: the heading, the 13 tables as printed rows, the
project performance-target tables, and the narrative (第三部分 情况说明).

The layout is the seed's: one line per printed row, cells separated by tabs, Markdown-ish
headings; page breaks leave blank lines inside tables.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ..domain import names
from ..tables.definitions import TableDef, load_tables
from .errors import DocumentRejected, Problem
from .source import Location

MAX_BYTES = 5 * 1024 * 1024
# A department's table has at most some hundreds of rows (the functional classification has
# under a thousand items); the cap keeps a hostile file from making the rounding solver run
# for minutes.
MAX_ROWS = 3000
# The longest line of a real disclosure is a paragraph of a few hundred characters; a line of
# tens of thousands is not text to read, and would only feed the line-wise patterns.
MAX_LINE_CHARS = 20_000


@dataclass(frozen=True)
class PrintedRow:
    line: int  # in the text layout (0 in a PDF: see location)
    cells: list[str]
    location: Location | None = None  # the row's place (a PDF's page and box)
    cell_locations: tuple[Location | None, ...] = ()  # each cell's, where known

    def where(self, column: int | None = None) -> Location:
        """The place of the row, or of one of its cells."""
        if column is not None and column < len(self.cell_locations) and self.cell_locations[column] is not None:
            return self.cell_locations[column]
        return self.location or Location(line=self.line)


@dataclass
class PrintedTable:
    definition: TableDef
    title_line: int
    header: list[PrintedRow] = field(default_factory=list)
    rows: list[PrintedRow] = field(default_factory=list)
    empty_note_line: int | None = None  # where 「注：本表无数据」 stands, if it does
    title_location: Location | None = None
    empty_note_location: Location | None = None
    # Whether the header rows were taken off already (the text layout: as many as the
    # definition has); otherwise the rows before the first one read as data are the header.
    header_known: bool = True
    strays: list[tuple[str, Location]] = field(default_factory=list)  # text beside the grid


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
_DEPT = re.compile(r"^部门名称[：:]\s*(.*\S)")  # callers strip the line; (.+?)\s*$ was quadratic on spaces
_BOUNDARY = re.compile(r"^(预算公开表|部门公开表)\s*\d+\s*$|^#{1,3}\s*第[一二三四]部分")
_TABLEISH = re.compile(r"^#*\s*(\d{4})年.{2,60}表(（[^）]*）)?\s*$")


# Characters that have no place in a printed disclosure (domain/names.py, the same rule as
# commands): C0/C1 controls (NUL, escape sequences that repaint a terminal), zero-width
# characters, and the bidirectional overrides that make text display in another order than
# it reads ("Trojan Source"). CJK radicals that only look like ideographs are folded to them
# (Kangxi radicals) or refused (the rest of CJK Radicals Supplement).


def decode(data: bytes, name: str) -> str:
    if len(data) > MAX_BYTES:
        raise DocumentRejected([Problem(None, f"{name} 文件过大: {len(data)} 字节, 上限 {MAX_BYTES} 字节")])
    if not data.strip():
        raise DocumentRejected([Problem(None, f"{name} 是空文件")])
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:200].count(b"\x00") > len(data[:200]) // 4:
        raise DocumentRejected([Problem(1, "文件是 UTF-16 编码, 请另存为 UTF-8 文本")])
    head = data[:8192]
    controls = sum(1 for b in head if b < 0x20 and b not in b"\t\n\r")
    if controls > len(head) // 20:
        raise DocumentRejected([Problem(1, f"不是文本文件: 前 {len(head)} 字节中有 {controls} 个控制字节 "
                                           "(二进制数据)")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentRejected([Problem(line, f"不是 UTF-8 文本 (第 {exc.start} 字节起无法解码)"
                                              + _legacy_hint(data, exc.start))]) from None
    bad = names.DOCUMENT_HIDDEN.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise DocumentRejected([Problem(line, f"含有{names.describe(bad.group())}, 不是可以公开的文本")])
    text = names.fold(text)  # NFC and radicals folded, as commands fold them
    alike = names.look_alike(text)
    if alike:
        line = text.count("\n", 0, alike.start()) + 1
        raise DocumentRejected([Problem(line, f"含有部首字符 {alike.group()} (U+{ord(alike.group()):04X}, CJK 部首补充), "
                                              "它只像汉字; 请写规范汉字")])
    lines = enumerate(text.split("\n"), start=1)
    long = next(((n, len(line)) for n, line in lines if len(line) > MAX_LINE_CHARS), None)
    if long:
        number, length = long
        raise DocumentRejected([Problem(number, f"这一行有 {length} 个字符 (上限 {MAX_LINE_CHARS}), 不是可读的公开文本")])
    return text


def _legacy_hint(data: bytes, offset: int) -> str:
    """Chinese offices often save as GBK: say so when the offending line reads as GB18030."""
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    line = data[start: end if end >= 0 else len(data)]
    try:
        text = line.decode("gb18030")
    except UnicodeDecodeError:
        return ""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if len(wide) < 2 or not all("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in wide):
        return ""
    return "; 这一行看起来是 GBK/GB18030 编码, 请将文件另存为 UTF-8"


# Names printed in a disclosure (department, unit, project) become part of the record and
# are shown on web pages and in exports; markup and SQL punctuation have no place in them.
LABEL_MAX = 200
_CODE_LIKE = frozenset("<>\"'`;\\{}$|")


def label_problem(text: str) -> str | None:
    """Why a printed name cannot be recorded, or None."""
    if len(text) > LABEL_MAX:
        return f"名称过长: {len(text)} 个字符 (上限 {LABEL_MAX}), 开头为「{text[:20]}…」"
    bad = sorted({ch for ch in text if ch in _CODE_LIKE})
    if bad:
        return f"名称含有不允许的字符 {' '.join(bad)} (像是程序代码或注入): 「{text}」"
    return None


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
            wrong = label_problem(department)
            if wrong:
                raise DocumentRejected([Problem(number, f"部门名称: {wrong}")])
            try:
                department = names.department(department)
            except names.TextRefused as exc:
                raise DocumentRejected([Problem(number, str(exc))]) from None
            break
    if not department:
        raise DocumentRejected([Problem(None, "找不到「部门名称：」行, 无法确定部门")])

    narrative_start = _part(lines, "第三部分", 1) or len(lines) + 1

    definitions = load_tables()
    titles = {d.title_for(fiscal_year): d for d in definitions}
    found: dict[int, int] = {}
    for number, line in enumerate(lines[: narrative_start - 1], start=1):
        bare = line.strip().lstrip("#").strip()
        if bare in titles:
            table = titles[bare]
            if table.number in found:
                problems.append(Problem(number, f"{table.name}《{bare}》重复出现 (第{found[table.number]}行已有)"))
            else:
                found[table.number] = number
        elif _TABLEISH.match(line.strip()) and "....." not in line:
            problems.append(Problem(number, f"未知的表名《{bare}》: 不是部门预算公开的13张表之一"))
    last = len(lines)
    while last > 1 and not lines[last - 1].strip():
        last -= 1
    # A disclosure has four parts; a file that stops before the last one was cut short, and
    # what it lacks (the narrative, the performance targets) would silently be missing.
    if narrative_start > len(lines):
        problems.append(Problem(last, "缺少第三部分 情况说明: 文件在此行结束, 可能被截断"))
    elif not _part(lines, "第四部分", narrative_start):
        problems.append(Problem(last, "缺少第四部分 名词解释: 文件在此行结束, 可能被截断"))
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


def _part(lines: list[str], part: str, start: int) -> int | None:
    """Line number of the heading of a part (第三部分 …) from line `start` on."""
    pattern = re.compile(rf"^#*\s*{part}")
    return next((n for n in range(start, len(lines) + 1) if pattern.match(lines[n - 1].strip())), None)


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
            printed.empty_note_line = number
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
        if len(printed.rows) == MAX_ROWS:
            problems.append(Problem(number, f"表中超过 {MAX_ROWS} 行, 不像一个部门的预算表, 不予处理", table.name))
            break
        printed.rows.append(PrintedRow(number, cells))
    return printed
