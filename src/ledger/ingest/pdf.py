"""Read a PDF's text layer into a `source.Document`, with pdfplumber (and its pdfminer.six).

- Table cells come from the page's ruling lines (pdfplumber's table finder, line strategies);
  the characters are put in the cell whose box holds their centre, so a figure set a little
  higher or lower than its row's label still lands in its row. A page without any line falls
  back to the words' positions (pdfplumber's text strategy) where its lines look tabular.
- Lines of text are grouped by baseline with a tolerance (the figures of a sentence are often
  set in another font whose boxes stand a few points lower), then read left to right.
- A table at the top of a page, with nothing above it but page furniture, a unit line or
  「续表」, continues the table that ended the previous page (`Table.continues`).
- Page numbers and running headers/footers are marked `furniture` and kept out of the flow.

Refusals raise `DocumentRejected` with one `Problem` per finding, each naming its page when it
has one: not a PDF, damaged or cut short, encrypted, scanned pages without text, too large,
too many pages, a page too heavy to read within its time.

Bounds (hostile input): the file size (`LEDGER_MAX_PDF_BYTES`, default 20 MiB), the page count
(`LEDGER_MAX_PDF_PAGES`, default 300); before pdfminer sees the file, every compressed stream is
inflated with a ceiling (a "zip bomb" is refused unexpanded); per page, the decoded content, the
characters and the ruling lines are capped and the interpretation has a deadline, as does the
whole document.
"""

from __future__ import annotations

import base64
import bisect
import io
import os
import re
import statistics
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

import pdfplumber
from pdfminer.layout import LTChar, LTContainer
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import PDFStream, resolve1
from pdfplumber.page import Page, PDFPageAggregatorWithMarkedContent
from pdfplumber.utils.exceptions import PdfminerException

from .errors import DocumentRejected, Problem
from .source import Block, Box, Cell, Document, Location, Row, Stray, Table, TextLine, is_wide, joiner, sha256

MiB = 1024 * 1024


@dataclass(frozen=True)
class PdfLimits:
    max_bytes: int = 20 * MiB
    max_pages: int = 300
    max_stream: int = 64 * MiB  # one stream, inflated
    max_inflated: int = 512 * MiB  # all streams of the file together, inflated
    max_page_content: int = 1 * MiB  # decoded content of one page (forms included); real ones: < 100 KiB
    max_page_chars: int = 30_000  # a dense A4 page has 3,000
    max_page_edges: int = 6_000  # ruling-line segments; a dense table page has a few hundred
    page_seconds: float = 10.0
    document_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PdfLimits:
        return cls(max_bytes=int(env.get("LEDGER_MAX_PDF_BYTES") or cls.max_bytes),
                   max_pages=int(env.get("LEDGER_MAX_PDF_PAGES") or cls.max_pages))


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def read_pdf(data: bytes, name: str, limits: PdfLimits | None = None) -> Document:
    limits = limits or PdfLimits.from_env()
    started = time.monotonic()
    _check_envelope(data, name, limits)
    broken = _check_streams(data, limits, started + limits.document_seconds)
    pdf = _open(data)
    try:
        readings: list[_Page] = []
        problems: list[Problem] = []
        for number, page_obj in _pages(pdf, limits):
            remaining = limits.document_seconds - (time.monotonic() - started)
            if remaining <= 0:
                problems.append(Problem(None, f"读取超过 {limits.document_seconds:g} 秒仍未完成 (停在第{number}页), "
                                              "文件过于复杂, 不予处理", location=Location(page=number)))
                break
            try:
                readings.append(_read_page(pdf, page_obj, number, limits, min(limits.page_seconds, remaining), broken))
            except _Refused as refused:
                problems.append(refused.problem)
        if problems:
            raise DocumentRejected(problems)
    finally:
        # Not pdf.close(): it makes every page of the file (all of a page-count bomb's) to close them.
        pdf.stream.close()
    blocks, warnings = _assemble(readings)
    return Document(name=name, sha256=sha256(data), source="pdf", blocks=tuple(blocks),
                    page_count=len(readings), warnings=tuple(warnings))


# --- the file as a whole -------------------------------------------------------------------

_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<\?xml|<!--)", re.IGNORECASE)


def _reject(message: str, page: int | None = None) -> DocumentRejected:
    return DocumentRejected([Problem(None, message, location=Location(page=page) if page else None)])


def _check_envelope(data: bytes, name: str, limits: PdfLimits) -> None:
    if len(data) > limits.max_bytes:
        raise _reject(f"{name} 文件过大: {len(data)} 字节, PDF 上限 {limits.max_bytes} 字节 (LEDGER_MAX_PDF_BYTES)")
    if not data.strip():
        raise _reject(f"{name} 是空文件")
    if not looks_like_pdf(data):
        if _HTML.match(data[:1024]):
            raise _reject(f"{name} 不是 PDF 文件: 内容是一个网页 (HTML), 可能是下载时得到的错误页或登录页")
        raise _reject(f"{name} 不是 PDF 文件: 开头没有 %PDF- 标记")
    if b"%%EOF" not in data[-2048:]:
        raise _reject(f"{name} 文件不完整: 结尾缺少 %%EOF 标记, 文件已损坏或被截断 (下载或复制未完成)")


_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_OBJ = re.compile(rb"(\d+)\s+\d+\s+obj")
_CHUNK = 1 << 16


_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_TEXT_LAYERS = {b"ASCII85Decode": "a85", b"A85": "a85", b"ASCIIHexDecode": "hex", b"AHx": "hex"}


def _check_streams(data: bytes, limits: PdfLimits, deadline: float) -> set[int]:
    """Inflate every zlib stream of the file with a ceiling, before pdfminer decodes any
    without one: a few kilobytes can inflate to gigabytes. A stream under an ASCII85 or
    hexadecimal layer (reportlab writes them so) is unwrapped as it goes. Returns the numbers
    of the objects whose stream is broken (pdfminer would read what it can and say nothing)."""
    view = memoryview(data)
    total = 0
    broken: set[int] = set()
    for match in _STREAM.finditer(data):
        if time.monotonic() > deadline:
            raise _reject(f"文件过于复杂: 检查其数据流超过 {limits.document_seconds:g} 秒, 不予处理")
        start = match.end()
        before = data[max(0, start - 4096):match.start()]
        objects = _OBJ.findall(before)
        number = int(objects[-1]) if objects else None
        filters = _FILTER.findall(before[before.rfind(b" obj") + 1:] if b" obj" in before else before)
        names = re.findall(rb"/([A-Za-z0-9]+)", filters[-1]) if filters else []
        layer = _TEXT_LAYERS.get(names[0]) if names else None
        chunks = _unwrapped(data, start, layer) if layer else (view[p:p + _CHUNK] for p in range(start, len(view), _CHUNK))
        try:
            size, whole = _inflated_size(chunks, limits.max_stream)
        except ValueError:  # not ASCII85 or hexadecimal after all: a broken stream
            size, whole = 0, False
        if size > limits.max_stream:
            which = f"第 {number} 号对象的" if number is not None else ""
            raise _reject(f"文件中{which}数据流解压后超过 {limits.max_stream // MiB} MiB (压缩炸弹), 不予读取")
        if whole is False and number is not None:
            broken.add(number)
        total += size
        if total > limits.max_inflated:
            raise _reject(f"文件的数据流解压后共超过 {limits.max_inflated // MiB} MiB, 不像一份公开文件, 不予读取")
    return broken


def _unwrapped(data: bytes, start: int, layer: str) -> Iterator[bytes]:
    """The bytes under an ASCII85 or hexadecimal layer, a piece at a time."""
    end = data.find(b"~>" if layer == "a85" else b">", start)
    if end < 0:
        raise ValueError("unterminated")
    text = re.sub(rb"\s", b"", data[start:end])
    if layer == "hex":
        yield bytes.fromhex((text + b"0" if len(text) % 2 else text).decode("ascii"))
        return
    text = text.replace(b"z", b"!!!!!")  # every group five characters: pieces cut at groups
    step = 5 * 13107
    for at in range(0, len(text), step):
        yield base64.a85decode(text[at:at + step], adobe=False)


def _inflated_size(chunks: Iterable[bytes | memoryview], limit: int) -> tuple[int, bool | None]:
    """How many bytes a zlib stream fed in pieces inflates to (counting no further than
    limit + 1), and whether it is whole (ends as a zlib stream must); None when it is not zlib."""
    inflater = zlib.decompressobj()
    size = 0
    first = True
    try:
        for chunk in chunks:
            if first:
                head = bytes(chunk[:2])
                if len(head) < 2 or head[0] & 0x0F != 8 or (head[0] << 8 | head[1]) % 31:
                    return 0, None  # no zlib header: an image, a plain or an encrypted stream
                first = False
            pending: bytes | memoryview = chunk
            while pending and not inflater.eof:
                size += len(inflater.decompress(pending, limit + 1 - size))
                if size > limit:
                    return size, True
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        return size, False
    return size, inflater.eof


def _open(data: bytes) -> pdfplumber.PDF:
    try:
        return pdfplumber.PDF(io.BytesIO(data))
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect):
            raise _reject("文件有打开密码 (已加密), 无法读取; 请提供不加密的 PDF") from None
        if isinstance(cause, PDFEncryptionError):
            raise _reject(f"文件已加密, 其加密方式无法读取 ({cause}); 请提供不加密的 PDF") from None
        raise _reject(f"文件已损坏或不完整, 无法读取 ({type(cause).__name__}: {str(cause)[:120]})") from None
    except Exception as exc:  # pdfminer raises many kinds on a broken file
        raise _reject(f"文件已损坏或不完整, 无法读取 ({type(exc).__name__}: {str(exc)[:120]})") from None


def _pages(pdf: pdfplumber.PDF, limits: PdfLimits) -> list[tuple[int, PDFPage]]:
    try:
        declared = resolve1(resolve1(pdf.doc.catalog.get("Pages")).get("Count"))
    except Exception:
        declared = None
    if isinstance(declared, int) and declared > limits.max_pages:
        raise _reject(f"文件有 {declared} 页, 超过 {limits.max_pages} 页的上限 (LEDGER_MAX_PDF_PAGES)")
    pages = []
    try:
        for index, page_obj in enumerate(PDFPage.create_pages(pdf.doc)):
            if index >= limits.max_pages:
                raise _reject(f"文件超过 {limits.max_pages} 页的上限 (LEDGER_MAX_PDF_PAGES)")
            pages.append((index + 1, page_obj))
    except DocumentRejected:
        raise
    except Exception as exc:
        raise _reject(f"文件已损坏, 页面目录无法读取 ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not pages:
        raise _reject("文件里没有任何页面")
    return pages


# --- one page ------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, number: int, message: str):
        super().__init__(message)
        self.problem = Problem(None, message, location=Location(page=number))


class _OutOfBounds(Exception):
    pass


class _BoundedDevice(PDFPageAggregatorWithMarkedContent):
    """pdfplumber's device, with a deadline and caps on what a page may draw."""

    def __init__(self, rsrcmgr, pageno: int, deadline: float, limits: PdfLimits):
        super().__init__(rsrcmgr, pageno=pageno, laparams=None)
        self.deadline, self.limits = deadline, limits
        self.chars = self.paths = self.matrices = 0

    def _tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _OutOfBounds(f"读取超时: 页面内容在 {self.limits.page_seconds:g} 秒内没有解释完, 内容过于复杂")

    def render_char(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.chars += 1
        if self.chars > self.limits.max_page_chars:
            raise _OutOfBounds(f"页面字符超过 {self.limits.max_page_chars} 个, 不像一页公开文件")
        if self.chars & 63 == 0:
            self._tick()
        return super().render_char(*args, **kwargs)

    def paint_path(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.paths += 1
        if self.paths > self.limits.max_page_edges:
            raise _OutOfBounds(f"页面线条超过 {self.limits.max_page_edges} 条, 不像一页公开文件")
        if self.paths & 63 == 0:
            self._tick()
        return super().paint_path(*args, **kwargs)

    def begin_figure(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self._tick()
        return super().begin_figure(*args, **kwargs)

    def set_ctm(self, ctm):  # type: ignore[no-untyped-def]
        self.matrices += 1
        if self.matrices & 255 == 0:
            self._tick()
        return super().set_ctm(ctm)


class _BoundedPage(Page):
    """A pdfplumber page whose layout is made by the bounded device, and whose characters are
    taken from pdfminer's objects as they are: pdfplumber's dictionary for each one (a third
    of the reading time on a page of figures) is made only for the lines and boxes its table
    finder needs."""

    deadline: float = 0.0
    limits: PdfLimits = PdfLimits()
    lt_chars: list[LTChar]

    @property
    def layout(self):  # type: ignore[no-untyped-def]
        if hasattr(self, "_layout"):
            return self._layout
        device = _BoundedDevice(self.pdf.rsrcmgr, self.page_number, self.deadline, self.limits)
        PDFPageInterpreter(self.pdf.rsrcmgr, device).process_page(self.page_obj)
        self._layout = device.get_result()
        return self._layout

    def parse_objects(self):  # type: ignore[no-untyped-def]
        objects: dict[str, list] = {"char": []}
        self.lt_chars = []

        def walk(items) -> None:  # type: ignore[no-untyped-def]
            for item in items:
                if isinstance(item, LTChar):
                    self.lt_chars.append(item)
                elif isinstance(item, LTContainer):  # a form XObject's figure: its content
                    walk(item._objs)
                else:
                    obj = self.process_object(item)
                    if obj["object_type"] != "anno":
                        objects.setdefault(obj["object_type"], []).append(obj)

        walk(self.layout._objs)
        return objects


@dataclass(frozen=True, slots=True)
class _Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    base: float  # baseline, from the top of the page
    size: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class _Page:
    number: int
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    chars: int = 0
    image_cover: float = 0.0  # share of the page covered by images
    edges: int = 0

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


_LINES = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


def _read_page(pdf: pdfplumber.PDF, page_obj: PDFPage, number: int, limits: PdfLimits, seconds: float,
               broken: set[int]) -> _Page:
    """One page read within its bounds; whatever a damaged page makes pdfminer or pdfplumber
    raise becomes a refusal naming the page."""
    try:
        return _read_bounded_page(pdf, page_obj, number, limits, seconds, broken)
    except _Refused:
        raise
    except _OutOfBounds as exc:
        raise _Refused(number, str(exc)) from None
    except Exception as exc:
        raise _Refused(number, f"页面已损坏, 无法读取 ({type(exc).__name__}: {str(exc)[:120]})") from None


def _read_bounded_page(pdf: pdfplumber.PDF, page_obj: PDFPage, number: int, limits: PdfLimits, seconds: float,
                       broken: set[int]) -> _Page:
    damaged = sorted(n for n in _content_objects(page_obj) if n in broken)
    if damaged:
        raise _Refused(number, f"页面内容的数据流 (第 {'、'.join(map(str, damaged))} 号对象) 已损坏, 无法完整解压; 文件可能在传输中损坏")
    size = _content_size(page_obj)
    if size > limits.max_page_content:
        raise _Refused(number, f"页面内容解码后有 {size} 字节, 超过 {limits.max_page_content} 字节的上限, 不予读取")
    page = _BoundedPage(pdf, page_obj, page_number=number)
    page.deadline, page.limits = time.monotonic() + seconds, limits
    objects = page.objects
    reading = _Page(number, float(page.width), float(page.height))
    area = max(reading.width * reading.height, 1.0)
    reading.image_cover = min(1.0, sum(_clipped_area(i, page) for i in objects.get("image", [])) / area)
    try:
        chars = _unique([c for c in map(_char_of(page), page.lt_chars) if c.text.strip() and _on_page(c, page)])
        reading.chars = len(chars)
        reading.edges = len(page.edges)
        if time.monotonic() > page.deadline:
            raise _OutOfBounds(f"读取超时: 页面在 {limits.page_seconds:g} 秒内没有分析完, 内容过于复杂")
        if reading.edges:
            reading.blocks = _blocks(number, chars, [t for t in page.find_tables(_LINES) if len(t.cells) >= 2])
        else:
            reading.blocks = _unruled_blocks(number, chars)
    finally:
        page.close()
    return reading


def _content_objects(page_obj: PDFPage) -> list[int]:
    numbers = []
    for ref in page_obj.contents:
        number = getattr(ref, "objid", None) or getattr(resolve1(ref), "objid", None)
        if number is not None:
            numbers.append(number)
    return numbers


def _content_size(page_obj: PDFPage) -> int:
    """Bytes of the page's decoded content streams and of the form XObjects it draws."""
    total = 0
    for stream in page_obj.contents:
        stream = resolve1(stream)
        if isinstance(stream, PDFStream):
            total += len(stream.get_data())
    seen: set[int] = set()

    def forms(resources: object, depth: int) -> int:
        resources = resolve1(resources)
        if not isinstance(resources, dict) or depth > 8:
            return 0
        size = 0
        for ref in (resolve1(resources.get("XObject")) or {}).values():
            obj = resolve1(ref)
            if not isinstance(obj, PDFStream) or id(obj) in seen:
                continue
            seen.add(id(obj))
            if getattr(resolve1(obj.get("Subtype")), "name", None) == "Form":
                size += len(obj.get_data()) + forms(obj.get("Resources"), depth + 1)
        return size

    return total + forms(page_obj.resources, 0)


def _clipped_area(image: dict, page: Page) -> float:
    x0, x1 = max(image["x0"], 0), min(image["x1"], page.width)
    top, bottom = max(image["top"], 0), min(image["bottom"], page.height)
    return max(x1 - x0, 0) * max(bottom - top, 0)


def _on_page(c: _Char, page: Page) -> bool:
    x0, top, x1, bottom = page.bbox
    return x0 <= c.cx <= x1 and top <= c.cy <= bottom


def _unique(chars: list[_Char]) -> list[_Char]:
    """Without the copies a producer overprints to fake bold (same text, same place)."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for ch in chars:
        key = (ch.text, round(ch.x0), round(ch.base))
        if key not in seen:
            seen.add(key)
            out.append(ch)
    return out


def _char_of(page: Page):  # type: ignore[no-untyped-def]
    """pdfminer's character as a _Char in pdfplumber's coordinates (origin top-left, from the
    mediabox: as its `process_object` does)."""
    height = float(page.height)
    mb_x0, mb_top = float(page.mediabox[0]), float(page.mediabox[1])

    def char(c: LTChar) -> _Char:
        top, bottom = height - c.y1 + mb_top, height - c.y0 + mb_top
        a, b, cc, d, e, f = c.matrix
        # The baseline, from the text matrix: two fonts on one line share it even when their
        # boxes (from each font's ascent and descent) stand points apart.
        if c.upright and abs(b) < 1e-6 and abs(cc) < 1e-6 and a > 0 and d > 0:
            base = bottom - (f - c.y0)
        else:
            base = bottom
        return _Char(c.get_text(), c.x0 + mb_x0, c.x1 + mb_x0, top, bottom, base, float(c.size or (bottom - top) or 1.0))

    return char


# --- characters into lines, tables and cells -------------------------------------------------


def _group_lines(chars: Iterable[_Char]) -> list[list[_Char]]:
    """Characters into printed lines: by baseline, within a third of the font size."""
    lines: list[list[_Char]] = []
    anchor = 0.0
    tolerance = 0.0
    for ch in sorted(chars, key=lambda c: (c.base, c.x0)):
        if lines and ch.base - anchor <= max(tolerance, 0.35 * ch.size):
            lines[-1].append(ch)
        else:
            lines.append([ch])
            anchor, tolerance = ch.base, 0.35 * ch.size
    return [sorted(line, key=lambda c: c.x0) for line in lines]


def _text_line(number: int, chars: list[_Char]) -> TextLine:
    text: list[str] = []
    boxes: list[Box] = []
    top = min(c.top for c in chars)
    bottom = max(c.bottom for c in chars)
    previous: _Char | None = None
    for ch in chars:
        if previous is not None:
            gap = ch.x0 - previous.x1
            size = max(previous.size, ch.size)
            wide = is_wide(previous.text[-1]) or is_wide(ch.text[0])
            if gap > 1.5 * size or (not wide and gap > 0.2 * size):
                text.append(" ")
                boxes.append(Box(previous.x1, top, ch.x0, bottom))
        box = Box(ch.x0, ch.top, ch.x1, ch.bottom)
        text.append(ch.text)
        boxes.extend([box] * len(ch.text))
        previous = ch
    return TextLine(text="".join(text), location=Location(page=number, box=Box.around(boxes)),
                    boxes=tuple(boxes), size=statistics.median(c.size for c in chars))


def _snap(values: Iterable[float], tolerance: float = 1.5) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= tolerance:
            continue
        out.append(v)
    return out


def _index(edges: list[float], value: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - value))


def _blocks(number: int, chars: list[_Char], found: list) -> list[Block]:
    """The page's blocks, top to bottom: its tables and the lines of text outside them."""
    grids = []
    taken: set[int] = set()
    for table in found:
        boxes = [Box(*map(float, c)) for c in table.cells]
        xs = _snap([b.x0 for b in boxes] + [b.x1 for b in boxes])
        ys = _snap([b.top for b in boxes] + [b.bottom for b in boxes])
        cover: dict[tuple[int, int], int] = {}
        spans = []
        for k, b in enumerate(boxes):
            r0, r1, c0, c1 = _index(ys, b.top), _index(ys, b.bottom), _index(xs, b.x0), _index(xs, b.x1)
            if r1 <= r0 or c1 <= c0:
                spans.append(None)
                continue
            spans.append((r0, r1, c0, c1))
            for r in range(r0, r1):
                for c in range(c0, c1):
                    cover.setdefault((r, c), k)
        grids.append((Box(*map(float, table.bbox)), boxes, xs, ys, cover, spans))


    members: list[list[list[_Char]]] = [[[] for _ in g[1]] for g in grids]
    strays: list[list[_Char]] = [[] for _ in grids]
    for i, ch in enumerate(chars):
        for t, (bbox, _boxes, xs, ys, cover, _spans) in enumerate(grids):
            if not bbox.contains(ch.cx, ch.cy):
                continue
            c = bisect.bisect_right(xs, ch.cx) - 1
            r = bisect.bisect_right(ys, ch.cy) - 1
            k = cover.get((r, c))
            if k is None:
                strays[t].append(ch)
            else:
                members[t][k].append(ch)
            taken.add(i)
            break
    rest = [ch for i, ch in enumerate(chars) if i not in taken]
    # Text beside a table, at the height of its rows, belongs to the table's band.
    free: list[_Char] = []
    for ch in rest:
        beside = next((t for t, g in enumerate(grids) if g[0].top <= ch.cy <= g[0].bottom), None)
        (strays[beside] if beside is not None else free).append(ch)

    blocks: list[tuple[float, Block]] = []
    for t, (bbox, boxes, xs, ys, cover, spans) in enumerate(grids):
        cells_by_row: dict[int, list[Cell]] = {}
        for k, (box, span) in enumerate(zip(boxes, spans)):
            if span is None:
                continue
            r0, r1, c0, c1 = span
            lines = tuple(_text_line(number, line) for line in _group_lines(members[t][k]))
            text = ""
            for line in lines:
                text += joiner(text, line.text) + line.text
            cells_by_row.setdefault(r0, []).append(
                Cell(text=text, location=Location(page=number, box=box), row=r0, column=c0,
                     row_span=r1 - r0, column_span=c1 - c0, lines=lines))
        rows = tuple(Row(tuple(sorted(cells_by_row.get(r, []), key=lambda c: c.column)),
                         Location(page=number, box=Box(bbox.x0, ys[r], bbox.x1, ys[r + 1])))
                     for r in range(len(ys) - 1))
        stray_lines = []
        for line in _group_lines(strays[t]):
            text_line = _text_line(number, line)
            cy = text_line.location.box.center[1]
            r = bisect.bisect_right(ys, cy) - 1
            stray_lines.append(Stray(text_line, r if 0 <= r < len(ys) - 1 else None))
        blocks.append((bbox.top, Table(rows=rows, location=Location(page=number, box=bbox),
                                       column_count=len(xs) - 1, column_edges=tuple(xs), ruled=True,
                                       strays=tuple(stray_lines))))
    for line in _group_lines(free):
        text_line = _text_line(number, line)
        blocks.append((text_line.location.box.top, text_line))
    blocks.sort(key=lambda item: item[0])
    return [b for _, b in blocks]


def _segments(line: list[_Char]) -> list[list[_Char]]:
    """A line cut where it has a gap of a character's width or more: the cells of a table
    printed without lines."""
    out = [[line[0]]]
    for a, b in zip(line, line[1:]):
        if b.x0 - a.x1 >= max(a.size, b.size):
            out.append([b])
        else:
            out[-1].append(b)
    return out


def _unruled_blocks(number: int, chars: list[_Char]) -> list[Block]:
    """A page without ruling lines: runs of three or more lines cut into three or more
    segments each are a table, its columns where every line of the run leaves a gap (the
    words' positions); the rest are lines of text."""
    lines = _group_lines(chars)
    cut = [_segments(line) for line in lines]
    blocks: list[tuple[float, Block]] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and len(cut[j]) >= 3 and (j == i or _near(lines[j - 1], lines[j])):
            j += 1
        if j - i >= 3:
            table = _unruled_table(number, cut[i:j])
            blocks.append((table.location.box.top, table))
            i = j
            continue
        text_line = _text_line(number, lines[i])
        blocks.append((text_line.location.box.top, text_line))
        i += 1
    blocks.sort(key=lambda item: item[0])
    return [b for _, b in blocks]


def _near(above: list[_Char], below: list[_Char]) -> bool:
    size = max(c.size for c in above)
    return min(c.top for c in below) - max(c.bottom for c in above) < 2.5 * size


def _unruled_table(number: int, rows: list[list[list[_Char]]]) -> Table:
    widest = max(len(r) for r in rows)
    spans = sorted((min(c.x0 for c in seg), max(c.x1 for c in seg)) for r in rows if len(r) == widest for seg in r)
    columns: list[list[float]] = []
    for x0, x1 in spans:
        if columns and x0 < columns[-1][1]:
            columns[-1][1] = max(columns[-1][1], x1)
        else:
            columns.append([x0, x1])
    edges = ([columns[0][0] - 1.0] + [(a[1] + b[0]) / 2 for a, b in zip(columns, columns[1:])]
             + [columns[-1][1] + 1.0])
    out_rows = []
    for r, segments in enumerate(rows):
        top = min(c.top for seg in segments for c in seg)
        bottom = max(c.bottom for seg in segments for c in seg)
        cells: dict[int, Cell] = {}
        for seg in segments:
            x0, x1 = min(c.x0 for c in seg), max(c.x1 for c in seg)
            covered = [k for k in range(len(edges) - 1) if min(x1, edges[k + 1]) - max(x0, edges[k]) > 0.25 * seg[0].size]
            if not covered:
                covered = [max(0, min(bisect.bisect_right(edges, (x0 + x1) / 2) - 1, len(edges) - 2))]
            line = _text_line(number, seg)
            first = covered[0]
            if first in cells:  # two segments in one column: one cell
                old = cells[first]
                text = old.text + " " + line.text
                cells[first] = replace(old, text=text, lines=old.lines + (line,),
                                       location=Location(page=number, box=Box.around([old.location.box, line.location.box])))
                continue
            cells[first] = Cell(text=line.text, location=Location(page=number, box=Box(edges[first], top, edges[covered[-1] + 1], bottom)),
                                row=r, column=first, column_span=covered[-1] - first + 1, lines=(line,))
        filled = {k for cell in cells.values() for k in cell.columns}
        for k in range(len(edges) - 1):
            if k not in filled:
                cells[k] = Cell(text="", location=Location(page=number, box=Box(edges[k], top, edges[k + 1], bottom)),
                                row=r, column=k)
        out_rows.append(Row(tuple(sorted(cells.values(), key=lambda c: c.column)),
                            Location(page=number, box=Box(edges[0], top, edges[-1], bottom))))
    box = Box(edges[0], out_rows[0].location.box.top, edges[-1], out_rows[-1].location.box.bottom)
    return Table(rows=tuple(out_rows), location=Location(page=number, box=box), column_count=len(edges) - 1,
                 column_edges=tuple(edges), ruled=False)


# --- pages into a document -------------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"^[-—–－\s]*(\d{1,4}|[ivxlcdm]{1,6})[-—–－\s]*$|^第\s*\d+\s*页(\s*[，,/]?\s*共\s*\d+\s*页)?$"
                          r"|^\d+\s*/\s*\d+$", re.IGNORECASE)
_CONTINUED = re.compile(r"^(续表|（续）|\(续\)|续)\s*\d*$|^单位[：:]")
MARGIN = 0.085  # share of the page height at its top and foot where headers and footers stand


def _assemble(pages: list[_Page]) -> tuple[list[Block], list[Problem]]:
    warnings = _scans(pages)
    _mark_furniture(pages)
    _mark_continuations(pages)
    _mark_paragraphs(pages)
    return [b for p in pages for b in p.blocks], warnings


def _scans(pages: list[_Page]) -> list[Problem]:
    """Pages that are images without a text layer: refused where tables are (or the whole
    document is a scan), a warning for a lone one in running text."""
    scanned = [p for p in pages if p.chars == 0 and p.image_cover >= 0.3]
    with_content = [p for p in pages if p.chars or p.image_cover]
    if scanned and len(scanned) == len(with_content):
        listing = "、".join(f"第{p.number}页" for p in scanned)
        raise DocumentRejected([Problem(None, f"没有文字层: {listing} 都是扫描图片, 扫描件无法读取; 请提供由文字生成的 PDF",
                                        location=Location(page=scanned[0].number))])
    problems, warnings = [], []
    by_number = {p.number: p for p in pages}
    for page in scanned:
        neighbours = [by_number[n] for n in (page.number - 1, page.number + 1) if n in by_number]
        tables_near = any(n.tables or n in scanned for n in neighbours) or page.tables
        message = "这一页没有文字层 (是扫描图片), 扫描件无法读取"
        if tables_near:
            problems.append(Problem(None, message + "; 它在表格之间, 其中的表格读不出来; 请提供由文字生成的 PDF",
                                    location=Location(page=page.number)))
        else:
            warnings.append(Problem(None, message + "; 已跳过这一页的内容", location=Location(page=page.number)))
    for page in pages:
        if page.chars and page.image_cover >= 0.5:
            warnings.append(Problem(None, f"这一页有大幅图片 (占页面 {page.image_cover:.0%}), 图片里的文字无法读取",
                                    location=Location(page=page.number)))
    if problems:
        raise DocumentRejected(problems)
    return warnings


def _in_margin(line: TextLine, page: _Page) -> bool:
    box = line.location.box
    return box.bottom <= page.height * MARGIN or box.top >= page.height * (1 - MARGIN)


def _mark_furniture(pages: list[_Page]) -> None:
    """Page numbers in the top or foot margin, and lines repeated in the margins of several
    pages (running headers, footers), are furniture."""
    repeated = Counter()
    for page in pages:
        seen = {re.sub(r"\d+", "#", b.text) for b in page.blocks if isinstance(b, TextLine) and _in_margin(b, page)}
        repeated.update(seen)
    threshold = max(3, len(pages) // 2) if len(pages) >= 3 else len(pages) + 1
    for page in pages:
        for i, block in enumerate(page.blocks):
            if not isinstance(block, TextLine) or not _in_margin(block, page):
                continue
            if _PAGE_NUMBER.match(block.text) or repeated[re.sub(r"\d+", "#", block.text)] >= threshold:
                page.blocks[i] = replace(block, furniture=True)


def _content(page: _Page) -> list[Block]:
    return [b for b in page.blocks if not (isinstance(b, TextLine) and b.furniture)]


def _mark_continuations(pages: list[_Page]) -> None:
    previous_last: Block | None = None
    for page in pages:
        content = _content(page)
        if not content:
            continue
        first_table = next((i for i, b in enumerate(content) if isinstance(b, Table)), None)
        if (first_table is not None and isinstance(previous_last, Table)
                and all(isinstance(b, TextLine) and _CONTINUED.match(b.text) for b in content[:first_table])):
            table = content[first_table]
            page.blocks[page.blocks.index(table)] = replace(table, continues=True)
        previous_last = content[-1]


def _mark_paragraphs(pages: list[_Page]) -> None:
    """Whether each line of text ends its paragraph. It does when the next line is indented,
    set in another size, further down than the line spacing, or is not text (a table, the
    end); and when the next line's first word would have fitted at the end of this one: a
    typesetter only breaks a line early for a word that does not fit (a number, a bracketed
    group that cannot be split), otherwise the paragraph ended there."""
    lines = [(p, b) for p in pages for b in p.blocks if isinstance(b, TextLine) and not b.furniture]
    margins: dict[int, tuple[float, float]] = {}
    for width in {round(p.width) for p in pages}:
        same = [b for p, b in lines if round(p.width) == width]
        group = [b for b in same if len(b.text) >= 8] or same
        if group:
            # Left: the leftmost start shared by several lines (first lines are indented, and
            # may be the majority where paragraphs are short). Right: where full lines end (the
            # median of the longest quarter: a justified block's edge is ragged by a point or two).
            lefts = Counter(round(b.location.box.x0) for b in group)
            shared = [x for x, n in lefts.items() if n >= 2] or list(lefts)
            # A page of short lines only says nothing of the right margin: take it no nearer
            # than the left one mirrored, less two characters.
            rights = sorted(b.location.box.x1 for b in group)
            size = statistics.median(b.size or 10.0 for b in group)
            right = max(statistics.median(rights[len(rights) * 3 // 4:]), width - min(shared) - 2 * size)
            margins[width] = (min(shared), right)
    flat: list[tuple[_Page, int, Block]] = [(p, i, b) for p in pages for i, b in enumerate(p.blocks)
                                            if not (isinstance(b, TextLine) and b.furniture)]
    for n, (page, i, block) in enumerate(flat):
        if not isinstance(block, TextLine):
            continue
        after = flat[n + 1] if n + 1 < len(flat) else None
        left, right = margins.get(round(page.width), (block.location.box.x0, block.location.box.x1))
        size = block.size or 10.0
        box = block.location.box
        ends = True
        if after is not None and isinstance(after[2], TextLine):
            nxt = after[2]
            nbox = nxt.location.box
            same_page = after[0] is page
            ends = (nbox.x0 > left + 0.8 * size
                    or abs((nxt.size or size) - size) > 1.0
                    or (same_page and nbox.top - box.bottom > 1.2 * size)
                    or _first_word_width(nxt) + 0.5 * size <= right - box.x1)
        page.blocks[i] = replace(block, ends_paragraph=ends)


_OPENING = "（(“‘《〈【[「『"
_CLOSING = "，。、；：？！）)”’》〉】]」』%％"


def _first_word_width(line: TextLine) -> float:
    """Width of what a typesetter cannot split at the start of a line: a run of digits or
    Latin letters, a bracketed group, or one Chinese character, with the punctuation that may
    not begin a line after it."""
    text, boxes = line.text, line.boxes or ()
    if not text or len(boxes) != len(text):
        return 0.0
    end = 1
    if text[0].isascii() and text[0].isalnum():
        while end < len(text) and text[end].isascii() and (text[end].isalnum() or text[end] in ".,%-"):
            end += 1
    elif text[0] in _OPENING:
        close = next((k for k in range(1, min(len(text), 12)) if text[k] in _CLOSING), 0)
        end = close + 1 if close else 2
    while end < len(text) and text[end] in _CLOSING:
        end += 1
    return boxes[end - 1].x1 - boxes[0].x0
