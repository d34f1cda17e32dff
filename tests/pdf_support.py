"""What the PDF tests share: the corpus files (kept in tests/corpus/, public documents), each
read once, and what a test computes from a document without trusting the reader's structure:
the titles its table of contents lists, the titles it prints above its tables."""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from pathlib import Path

from ledger.ingest.pdf import read_pdf
from ledger.ingest.source import Document, Table, TextLine

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
ORIGINAL = CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
DOCTORED = CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts-doctored.pdf"
HOSTILE = ROOT / "tests" / "hostile" / "pdf"

AMOUNT = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d{2}$")
_ENTRY = re.compile(r"^[一二三四五六七八九十]+、(.+)$")


@cache
def read(path: Path) -> Document:
    return read_pdf(path.read_bytes(), path.name)


def contents_titles(document: Document) -> list[str]:
    """The tables the table of contents lists: its entries between 第二部分 and 第三部分
    (「一、收入支出决算总表」 → 收入支出决算总表)."""
    lines = [b.text for b in document.lines()]
    start = next(i for i, text in enumerate(lines) if text.replace(" ", "") == "目录")
    part2 = next(i for i in range(start, len(lines)) if lines[i].startswith("第二部分"))
    part3 = next(i for i in range(part2, len(lines)) if lines[i].startswith("第三部分"))
    return [m.group(1) for m in (_ENTRY.match(t) for t in lines[part2 + 1:part3]) if m]


def contents_end(document: Document) -> int:
    """Index in document.blocks of the last line of the table of contents (its 第四部分 entry)."""
    blocks = document.blocks
    start = next(i for i, b in enumerate(blocks) if isinstance(b, TextLine) and b.text.replace(" ", "") == "目录")
    return next(i for i in range(start, len(blocks)) if isinstance(blocks[i], TextLine) and blocks[i].text.startswith("第四部分"))


def printed_titles(document: Document, wanted: list[str]) -> list[tuple[str, Table]]:
    """Lines after the contents that are one of `wanted`, each with the table that follows it
    (past its unit line): the titles as printed above their tables, in order."""
    blocks = document.blocks
    found = []
    for i in range(contents_end(document) + 1, len(blocks)):
        block = blocks[i]
        if isinstance(block, TextLine) and block.text in wanted:
            following = [b for b in blocks[i + 1:i + 4] if not (isinstance(b, TextLine) and b.text.startswith("单位"))]
            if following and isinstance(following[0], Table):
                found.append((block.text, following[0]))
    return found


def with_block(spec, index: int, block):  # type: ignore[no-untyped-def]
    """A document spec (ingest/pdfwriter.py) with block `index` replaced, or left out (None)."""
    blocks = list(spec.blocks)
    if block is None:
        del blocks[index]
    else:
        blocks[index] = block
    return dataclasses.replace(spec, blocks=tuple(blocks))


def trim(cells) -> list[str]:
    out = [c.strip() for c in cells]
    while out and out[-1] == "":
        out.pop()
    return out


def printed_text(data: bytes, titles: list[str]) -> dict[str, list[list[str]]]:
    """Each table's tab-separated lines as the text document prints them, by title."""
    out: dict[str, list[list[str]]] = {}
    current = None
    for line in data.decode("utf-8").split("\n"):
        if line.strip() in titles:
            current = line.strip()
            out[current] = []
        elif "\t" in line and current is not None:
            out[current].append(trim(line.split("\t")))
        elif line.strip() and not re.match(r"^(单位名称|部门名称|单位|注)：", line):
            current = None if out.get(current) else current
    return out


def printed_pdf(data: bytes, titles: list[str]) -> dict[str, list[list[str]]]:
    """Each table's rows as the PDF's own grid gives them (every grid column), by title."""
    document = read_pdf(data, "x.pdf")
    out: dict[str, list[list[str]]] = {}
    current = None
    for block in document.blocks:
        if not isinstance(block, Table):
            if block.text.strip() in titles:
                current = block.text.strip()
                out[current] = []
            continue
        if current is None:
            continue
        for row in block.rows:
            texts = [""] * block.column_count
            for cell in row.cells:
                texts[cell.column] = cell.text
            if any(t.strip() for t in texts):
                out[current].append(trim(texts))
    return out
