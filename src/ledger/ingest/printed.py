"""A printed document (source.Document, from a PDF or the text layout) read by a layout: which
layout it follows, its year and department, and each of its tables as printed rows (label
cells and amount cells, each with its place) for ingest/tables.py to read.

The layout is found from the tables' titles: every layout of projections/layouts/ is tried,
the one whose tables the document prints is chosen (and named in the import's result); a
document that prints the tables of no layout is refused with the titles it does print.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..domain import names
from ..tables.definitions import TableDef
from ..tables.layouts import Layout, layouts
from .document import PrintedRow, PrintedTable, label_problem
from .errors import DocumentRejected, Problem
from .source import Document, Location, Table, TextFlow, TextLine

_YEAR = re.compile(r"(\d{4})\s*年度?\s*(?:部门|单位)(?:预算|决算)")
_NAME = re.compile(r"^(?:部门|单位)名称\s*[：:]\s*(.*\S)")
_UNIT = re.compile(r"^(?:金额)?单位\s*[：:]\s*(\S+)$")
_EMPTY_NOTE = "本表无数据"
_SPACES = re.compile(r"\s+")


def normal(text: str) -> str:
    """Printed text as compared: compatibility forms folded (full-width letters, digits and
    brackets), curly quotes as straight ones, and no spaces (a justified cell spreads its
    characters apart: 「因 公 出 国 （ 境 ） 费 用」)."""
    text = unicodedata.normalize("NFKC", text).replace("“", '"').replace("”", '"')
    return _SPACES.sub("", text)


@dataclass
class ReadDocument:
    """What the importer works from: the document as its layout reads it."""

    name: str
    sha256: str
    layout: Layout
    department: str
    fiscal_year: int
    tables: dict[int, PrintedTable]
    flow: TextFlow
    document: Document
    notes: list[str] = field(default_factory=list)


def fiscal_year(document: Document) -> tuple[int, TextLine]:
    """The year the document names in its heading (「2024年度部门决算」), and that line."""
    for n, line in enumerate(document.lines()):
        match = _YEAR.search(normal(line.text))
        if match:
            return int(match.group(1)), line
        if n > 200:
            break
    raise DocumentRejected([Problem(None, "找不到预算年度: 文件开头应有「YYYY年度部门预算」或「YYYY年度部门决算」等标题",
                                    location=Location(page=1) if document.source == "pdf" else Location(line=1))])


def department(document: Document, heading: TextLine, year: int) -> tuple[str, Location]:
    """The department: a 「部门名称：」 line if the document has one, else the name printed before
    the year in the heading, else the line before the heading (a cover page)."""
    lines = list(document.lines())
    for line in lines:
        match = _NAME.match(normal(line.text))
        if match:
            return match.group(1), line.location
    before = normal(heading.text).split(str(year), 1)[0]
    if before:
        return before, heading.location
    index = lines.index(heading)
    for line in reversed(lines[:index]):
        if normal(line.text):
            return normal(line.text), line.location
    raise DocumentRejected([Problem(None, "找不到部门名称: 文件应有「部门名称：」行, 或在标题前写明部门", location=heading.location)])


def _titles(document: Document, year: int) -> list[tuple[TextLine, Layout | None, TableDef | None]]:
    """Lines that are the title of a known table (of any layout), in order, with what they name;
    lines that look like a table's title but are of none (「……表」 standing alone) too."""
    known: dict[str, list[tuple[Layout, TableDef]]] = {}
    for candidate in layouts():
        for title, table in candidate.titles(year).items():
            known.setdefault(normal(title), []).append((candidate, table))
    out = []
    for line in document.lines():
        text = normal(line.text)
        if text in known:
            for found_layout, table in known[text]:
                out.append((line, found_layout, table))
        elif 4 <= len(text) <= 40 and text.endswith("表") and not re.search(r"[，。；：.…]|\d+$", text):
            out.append((line, None, None))
    return out


def choose_layout(document: Document, year: int) -> Layout:
    """The layout whose tables the document prints (most of them; ties: the earlier layout)."""
    titles = _titles(document, year)
    score: dict[str, set[int]] = {}
    for _line, found, table in titles:
        if found is not None and table is not None:
            score.setdefault(found.id, set()).add(table.number)
    best = None
    for candidate in layouts():
        hits = len(score.get(candidate.id, ()))
        if hits and (best is None or hits / len(candidate.tables) > len(score[best.id]) / len(best.tables)):
            best = candidate
    if best is None or len(score[best.id]) * 2 < len(best.tables):
        printed = "、".join(f"《{line.text}》" for line, _l, _t in titles) or "无"
        kinds = "、".join(lay.name for lay in layouts())
        raise DocumentRejected([Problem(None, f"文件的表格不属于任何已知的布局 ({kinds}); 文件中的表名: {printed}")])
    return best


def read(document: Document, found: list[Problem] | None = None) -> ReadDocument:
    """The document's tables as its layout prints them, or DocumentRejected naming what is wrong.
    Given a list (an audit), problems of single tables (one missing, a wrong unit) go into it
    and the rest of the document is read; what stops all reading is still raised."""
    year, heading = fiscal_year(document)
    chosen = choose_layout(document, year)
    name, name_at = department(document, heading, year)
    problems: list[Problem] = []
    wrong = label_problem(name)
    if wrong:
        raise DocumentRejected([Problem(None, f"部门名称: {wrong}", location=name_at)])
    try:
        name = names.department(name)  # the rule of commands and the text importer (domain/names.py)
    except names.TextRefused as exc:
        raise DocumentRejected([Problem(None, str(exc), location=name_at)]) from None
    titles = {table.number: table for table in chosen.tables}
    by_title = {normal(t): table for t, table in chosen.titles(year).items()}
    tables: dict[int, PrintedTable] = {}
    current: PrintedTable | None = None
    waiting = False  # a title was read; its grid has not come yet
    for block in document.blocks:
        if isinstance(block, TextLine):
            if block.furniture:
                continue
            text = normal(block.text)
            if text in by_title:
                table = by_title[text]
                if table.number in tables:
                    first = tables[table.number].title_location
                    problems.append(Problem(None, f"{table.name}《{block.text}》重复出现 (已在{first.describe()})",
                                            table.name, location=block.location))
                    current, waiting = None, False
                    continue
                current = PrintedTable(table, block.location.line or 0, title_location=block.location,
                                       header_known=False)
                tables[table.number] = current
                waiting = True
                continue
            if current is None:
                continue
            if _EMPTY_NOTE in text:
                current.empty_note_line = block.location.line or 0
                current.empty_note_location = block.location
                continue
            unit = _UNIT.match(text)
            if unit and waiting:
                if unit.group(1) != chosen.money.unit:
                    problems.append(Problem(None, f"金额单位应为{chosen.money.unit}, 文件写的是「{unit.group(1)}」",
                                            current.definition.name, location=block.location))
                continue
            if waiting and _NAME.match(text):
                printed_name = _NAME.match(text).group(1)
                if printed_name != name:
                    problems.append(Problem(None, f"部门名称「{printed_name}」与文件的部门「{name}」不一致",
                                            current.definition.name, location=block.location))
                continue
            if not waiting:
                current = None  # running text after a table: the table has ended
            continue
        if current is None:
            continue
        if not waiting and not block.continues:
            current = None  # a grid with no title of its own
            continue
        _add_rows(current, block)
        waiting = False
    last = document.blocks[-1].location if document.blocks else Location()
    for number, table in titles.items():
        if number not in tables:
            after = [tables[n] for n in sorted(tables) if n > number]
            at = after[0].title_location if after else last
            where = f"应在{after[0].definition.name}《{after[0].definition.title_for(year)}》之前" if after else "文件在此结束"
            problems.append(Problem(None, f"缺少{table.name}《{table.title_for(year)}》(按布局「{chosen.name}」, {where})",
                                    table.name, location=at))
    if problems and found is None:
        raise DocumentRejected(problems)
    if found is not None:
        found.extend(problems)
    return ReadDocument(name=document.name, sha256=document.sha256, layout=chosen, department=name,
                        fiscal_year=year, tables=tables, flow=document.flow(), document=document,
                        notes=[f"按「{chosen.name}」布局读取 ({len(tables)} 张表)"])


def _add_rows(printed: PrintedTable, table: Table) -> None:
    """A grid's rows as printed rows: one text per grid column (a merged cell's text in its first
    column, empty in those it covers), each with its place; empty rows left out."""
    for row in table.rows:
        texts = [""] * table.column_count
        places: list[Location | None] = [None] * table.column_count
        for cell in row.cells:
            if cell.column < table.column_count:
                texts[cell.column] = cell.text.strip()
                places[cell.column] = cell.location
        if not any(texts):
            continue
        printed.rows.append(PrintedRow(row.location.line or 0, texts, location=row.location,
                                       cell_locations=tuple(places)))
    for stray in table.strays:
        printed.strays.append((stray.line.text, stray.line.location))
