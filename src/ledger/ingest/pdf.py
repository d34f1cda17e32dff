"""Read a PDF's text layer into a `source.Document`: PDFium (pypdfium2) gives the characters and
the paths of each page, pdfminer.six the file's structure for the bounds below, pdfplumber's
table finder the cells.

- Table cells come from the page's ruling lines (the segments of its painted paths, given to
  pdfplumber's table finder, line strategies); the characters are put in the cell whose box
  holds their centre, so a figure set a little higher or lower than its row's label still
  lands in its row. A page without any line is cut into columns where the lines of a run
  leave gaps at the same places (`_unruled_blocks`).
- Lines of text are grouped by baseline with a tolerance (the figures of a sentence are often
  set in another font whose boxes stand a few points lower), then read left to right.
- A table at the top of a page, with nothing above it but page furniture, a unit line or
  「续表」, continues the table that ended the previous page (`Table.continues`).
- Page numbers and running headers/footers are marked `furniture` and kept out of the flow.

Characters are in pdfplumber's coordinates (points, origin top-left of the mediabox, a page
turned by /Rotate as it displays), each with the box pdfminer would give it: from its origin
across the font's width of it, from its font's descent below the baseline up by its size (the
font size scaled by the text matrix). On the corpus PDFium's characters equal pdfminer's, box
for box (tests/test_pdf_pdfium.py).

A page with a text object that has no box (its glyphs have none: a font not embedded and no
font on this machine to stand in for it, e.g. STSong-Light without a CJK font installed) is
read by pdfminer's interpretation instead, bounded as before (a deadline and caps inside it):
PDFium's text page drops such an object when it has no width and takes it for an overprinted
copy of another of the same text. Install a CJK font (Debian's fonts-wqy-microhei) and such
pages read by PDFium too.

Refusals raise `DocumentRejected` with one `Problem` per finding, each naming its page when it
has one: not a PDF, damaged or cut short, encrypted, scanned pages without text, too large,
too many pages, a page too heavy to read within its time.

Bounds (hostile input): the file size (`LEDGER_MAX_PDF_BYTES`, default 20 MiB), the page count
(`LEDGER_MAX_PDF_PAGES`, default 300); before PDFium or pdfminer sees the file, every compressed
stream is inflated with a ceiling (a "zip bomb" is refused unexpanded); per page, before PDFium
parses it, the decoded content (forms included, measured by pdfminer, which reads the objects
but interprets no page); once parsed, the page objects, the characters and the path segments
are capped, and the page has a deadline checked between PDFium's calls, as does the whole
document between pages. PDFium's parse of one page runs in C and cannot be stopped midway: its
bound is the content cap checked before it.

PDFium is not thread-safe: every use of it holds `_PDFIUM` (one document read at a time per
process).
"""

from __future__ import annotations

import base64
import bisect
import ctypes
import io
import math
import os
import re
import statistics
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

import pypdfium2
import pypdfium2.raw as pdfium
import pdfplumber
from pdfminer.layout import LTChar, LTContainer
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import PDFStream, resolve1
from pdfplumber.page import Page, PDFPageAggregatorWithMarkedContent
from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges
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
    max_page_edges: int = 6_000  # ruling lines (subpaths painted); a dense table page has a few hundred
    max_page_objects: int = 50_000  # PDFium's objects of one page (texts, paths, images, forms)
    page_seconds: float = 10.0
    document_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PdfLimits:
        return cls(max_bytes=int(env.get("LEDGER_MAX_PDF_BYTES") or cls.max_bytes),
                   max_pages=int(env.get("LEDGER_MAX_PDF_PAGES") or cls.max_pages))


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


_PDFIUM = threading.Lock()  # PDFium may not be called from two threads at once, even on two documents


def read_pdf(data: bytes, name: str, limits: PdfLimits | None = None) -> Document:
    limits = limits or PdfLimits.from_env()
    started = time.monotonic()
    _check_envelope(data, name, limits)
    broken = _check_streams(data, limits, started + limits.document_seconds)
    structure = _open(data)
    pages = _pages(structure, limits)
    readings: list[_Page] = []
    problems: list[Problem] = []
    with _PDFIUM:
        pdf = _open_pdfium(data, len(pages))
        try:
            for number, page_obj in pages:
                remaining = limits.document_seconds - (time.monotonic() - started)
                if remaining <= 0:
                    problems.append(Problem(None, f"读取超过 {limits.document_seconds:g} 秒仍未完成 (停在第{number}页), "
                                                  "文件过于复杂, 不予处理", location=Location(page=number)))
                    break
                try:
                    readings.append(_read_page(pdf, structure, page_obj, number, limits, min(limits.page_seconds, remaining), broken))
                except _Refused as refused:
                    problems.append(refused.problem)
        finally:
            pdf.close()
            # Not structure.close(): it makes every page of the file (all of a page-count bomb's) to close them.
            structure.stream.close()
    if problems:
        raise DocumentRejected(problems)
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
    """Inflate every zlib stream of the file with a ceiling, before pdfminer or PDFium decodes any
    without one: a few kilobytes can inflate to gigabytes. A stream under an ASCII85 or
    hexadecimal layer (reportlab writes them so) is unwrapped as it goes. Returns the numbers
    of the objects whose stream is broken (pdfminer and PDFium would read what they can and say nothing)."""
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
    """The file's objects as pdfminer reads them (its cross-reference, catalog and page tree),
    for the bounds that need them; no page content is interpreted here."""
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


def _open_pdfium(data: bytes, pages: int) -> pypdfium2.PdfDocument:
    """The document as PDFium reads it; it must see the pages pdfminer saw (the bounds checked on
    pdfminer's pages are the pages PDFium reads)."""
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if exc.err_code == pdfium.FPDF_ERR_PASSWORD:
            raise _reject("文件有打开密码 (已加密), 无法读取; 请提供不加密的 PDF") from None
        if exc.err_code == pdfium.FPDF_ERR_SECURITY:
            raise _reject("文件已加密, 其加密方式无法读取; 请提供不加密的 PDF") from None
        raise _reject(f"文件已损坏或不完整, 无法读取 ({exc})") from None
    if len(pdf) != pages:
        count = len(pdf)
        pdf.close()
        raise _reject(f"文件已损坏, 页面目录前后不一致 (读出 {pages} 页和 {count} 页), 无法确定有哪些页面")
    return pdf


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


Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _then(m: Matrix, n: Matrix) -> Matrix:
    """m, then n (pdfminer's `mult_matrix(m, n)`)."""
    a1, b1, c1, d1, e1, f1 = m
    a0, b0, c0, d0, e0, f0 = n
    return (a0 * a1 + c0 * b1, b0 * a1 + d0 * b1, a0 * c1 + c0 * d1, b0 * c1 + d0 * d1,
            a0 * e1 + c0 * f1 + e0, b0 * e1 + d0 * f1 + f0)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


class _View:
    """The page as it displays, in pdfplumber's coordinates (points, y from the top): PDF user
    space (PDFium's coordinates) through pdfminer's page matrix (the mediabox's corner at the
    origin, turned by /Rotate), then pdfplumber's flip and offsets (its `_normalize_box`,
    `_invert_box` and `process_object`), so that a page reads as pdfplumber read it."""

    def __init__(self, page_obj: PDFPage):
        x0, y0, x1, y1 = (float(v) for v in page_obj.mediabox)
        self.rotation = int(page_obj.rotate or 0) % 360
        ctm: Matrix
        if self.rotation == 90:
            ctm = (0, -1, 1, 0, -y0, x1)
        elif self.rotation == 180:
            ctm = (-1, 0, 0, -1, x1, y1)
        elif self.rotation == 270:
            ctm = (0, 1, -1, 0, y1, -x0)
        else:
            ctm = (1, 0, 0, 1, -x0, -y0)
        nx0, nx1 = sorted((x0, x1))
        ny0, ny1 = sorted((y0, y1))
        if self.rotation in (90, 270):
            nx0, ny0, nx1, ny1 = ny0, nx0, ny1, nx1
        self.width, self.height = nx1 - nx0, ny1 - ny0
        top = -ny0  # pdfplumber's mediabox top, inverted
        self.bbox = (nx0, top, nx1, top + self.height)
        a, b, c, d, e, f = ctm
        self.matrix: Matrix = (a, -b, c, -d, e + nx0, self.height + top - f)

    def box(self, m: Matrix, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        """A rectangle of the space m maps to user space, as (x0, top, x1, bottom) on the page."""
        full = _then(m, self.matrix)
        xs, ys = zip(*(_apply(full, x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))))
        return min(xs), min(ys), max(xs), max(ys)


def _read_page(pdf: pypdfium2.PdfDocument, structure: pdfplumber.PDF, page_obj: PDFPage, number: int, limits: PdfLimits, seconds: float,
               broken: set[int]) -> _Page:
    """One page read within its bounds; whatever a damaged page makes PDFium or pdfminer raise
    becomes a refusal naming the page."""
    try:
        return _read_bounded_page(pdf, structure, page_obj, number, limits, seconds, broken)
    except _Refused:
        raise
    except _OutOfBounds as exc:
        raise _Refused(number, str(exc)) from None
    except Exception as exc:
        raise _Refused(number, f"页面已损坏, 无法读取 ({type(exc).__name__}: {str(exc)[:120]})") from None


def _read_bounded_page(pdf: pypdfium2.PdfDocument, structure: pdfplumber.PDF, page_obj: PDFPage, number: int, limits: PdfLimits, seconds: float,
                       broken: set[int]) -> _Page:
    deadline = time.monotonic() + seconds
    damaged = sorted(n for n in _content_objects(page_obj) if n in broken)
    if damaged:
        raise _Refused(number, f"页面内容的数据流 (第 {'、'.join(map(str, damaged))} 号对象) 已损坏, 无法完整解压; 文件可能在传输中损坏")
    size = _content_size(page_obj)
    if size > limits.max_page_content:
        raise _Refused(number, f"页面内容解码后有 {size} 字节, 超过 {limits.max_page_content} 字节的上限, 不予读取")
    view = _View(page_obj)
    reading = _Page(number, view.width, view.height)
    page = pdf[number - 1]  # PDFium parses the page's content here (in C, bounded by the size above)
    try:
        text = page.get_textpage()
        try:
            if time.monotonic() > deadline:
                raise _OutOfBounds(f"读取超时: 页面内容在 {limits.page_seconds:g} 秒内没有解释完, 内容过于复杂")
            drawn = _Drawing(view, limits, deadline)
            drawn.walk(page.raw)
            if drawn.texts_without_box:
                # A text object without a box (its glyphs have none: a font not embedded, and no
                # font on this machine to stand in for it): PDFium's text page leaves it out when
                # it has no width, and takes it for an overprinted copy of another of the same
                # text; pdfminer reads it from the font's metrics.
                found = _pdfminer_chars(structure, page_obj, number, limits, deadline)
            else:
                found = list(_chars(text.raw, view, limits, deadline))
            chars = _unique([c for c in found if _on_page(c, view)])
        finally:
            text.close()
    finally:
        page.close()
    reading.image_cover = min(1.0, drawn.image_area / max(view.width * view.height, 1.0))
    reading.chars = len(chars)
    reading.edges = drawn.segments
    if time.monotonic() > deadline:
        raise _OutOfBounds(f"读取超时: 页面在 {limits.page_seconds:g} 秒内没有分析完, 内容过于复杂")
    if reading.edges:
        reading.blocks = _blocks(number, chars, _tables(drawn.edges))
    else:
        reading.blocks = _unruled_blocks(number, chars)
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


def _on_page(c: _Char, view: _View) -> bool:
    x0, top, x1, bottom = view.bbox
    return x0 <= c.cx <= x1 and top <= c.cy <= bottom


def _unique(chars: Iterable[_Char]) -> list[_Char]:
    """Without the copies a producer overprints to fake bold (same text, same place)."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for ch in chars:
        key = (ch.text, round(ch.x0), round(ch.base))
        if key not in seen:
            seen.add(key)
            out.append(ch)
    return out


_UPRIGHT = 1e-6
# FPDFText_GetTextObject giving the object's address as an int (a key, without a cast per character)
_OBJECT_ADDRESS = ctypes.cast(pdfium.FPDFText_GetTextObject,
                              ctypes.CFUNCTYPE(ctypes.c_void_p, pdfium.FPDF_TEXTPAGE, ctypes.c_int))


def _chars(text, view: _View, limits: PdfLimits, deadline: float) -> Iterator[_Char]:  # type: ignore[no-untyped-def]
    """PDFium's characters of the page (its text page, generated spaces and line breaks left
    out) as pdfminer's boxes in pdfplumber's coordinates: from the origin across the font's
    width of the character, from the font's descent below the baseline up by the size (the
    font size scaled by the text matrix). A character not upright as displayed takes the box of
    its glyph, its baseline at the box's foot."""
    count = pdfium.FPDFText_CountChars(text)
    if count < 0:
        raise _OutOfBounds("页面的文字层无法读取")
    if count > limits.max_page_chars:
        raise _OutOfBounds(f"页面字符超过 {limits.max_page_chars} 个, 不像一页公开文件")
    x, y = ctypes.c_double(), ctypes.c_double()
    px, py = ctypes.byref(x), ctypes.byref(y)
    rect = pdfium.FS_RECTF()
    prect = ctypes.byref(rect)
    left, bottom, right, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    fsize, descent, width = ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    pwidth = ctypes.byref(width)
    get_width = pdfium.FPDFFont_GetGlyphWidth  # its "glyph" is the character (mapped to the font's code)
    matrix = pdfium.FS_MATRIX()
    styles: dict[int | None, tuple] = {}  # text object → its matrix on the page, font size, descent, font
    widths: dict[tuple[int | None, float, int], float] = {}  # (font, size, character) → its width
    get_unicode, get_object, get_origin = pdfium.FPDFText_GetUnicode, pdfium.FPDFText_GetTextObject, pdfium.FPDFText_GetCharOrigin
    get_loose = pdfium.FPDFText_GetLooseCharBox
    get_address = _OBJECT_ADDRESS
    for i in range(count):
        if i & 1023 == 1023 and time.monotonic() > deadline:
            raise _OutOfBounds(f"读取超时: 页面在 {limits.page_seconds:g} 秒内没有分析完, 内容过于复杂")
        code = get_unicode(text, i)
        if code < 0x21 or code in (0xFFFE, 0xFFFF):
            continue  # spaces, and the line breaks and marks PDFium generates
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            code = 0xFFFD
        char = chr(code)
        if not char.strip():
            continue
        key = get_address(text, i)
        if not key:
            continue
        style = styles.get(key)
        if style is None:
            obj = get_object(text, i)
            size = font_descent = 0.0
            if pdfium.FPDFTextObj_GetFontSize(obj, ctypes.byref(fsize)):
                size = fsize.value
            font = pdfium.FPDFTextObj_GetFont(obj)
            if font and pdfium.FPDFFont_GetDescent(font, size, ctypes.byref(descent)):
                font_descent = descent.value
            if not size:
                size = float(pdfium.FPDFText_GetFontSize(text, i))
            pdfium.FPDFText_GetMatrix(text, i, ctypes.byref(matrix))
            m = (matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f)
            font_id = ctypes.cast(font, ctypes.c_void_p).value if font else None
            style = styles[key] = (_then(m, view.matrix), size, font_descent, font, font_id)
        full, size, font_descent, font, font_id = style
        a, b, c, d = full[:4]
        get_origin(text, i, px, py)
        ox, oy = _apply(view.matrix, x.value, y.value)
        if a > 0 and d < 0 and abs(b) < _UPRIGHT * a and abs(c) < _UPRIGHT * -d:
            # Upright as displayed: pdfminer's box from the origin across the advance (the
            # font's width of the character, as the file gives it: PDFium's loose box takes
            # some from elsewhere, 500 for the digits of a CJK font where the file says 462),
            # from the font's descent below the baseline up by the size.
            scale = -d
            height = size * scale or 1.0
            below = oy - font_descent * scale
            wide = widths.get((font_id, size, code))
            if wide is None:
                wide = widths[(font_id, size, code)] = width.value if font and get_width(font, code, size, pwidth) else 0.0
            if wide > 0:
                advance = wide * a
            elif get_loose(text, i, prect):
                advance = abs(rect.right - rect.left)
            else:
                advance = 0.0
            yield _Char(char, ox, ox + advance, below - height, below, oy, height)
        else:
            pdfium.FPDFText_GetCharBox(text, i, ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom), ctypes.byref(top))
            bx0, btop, bx1, bbottom = view.box(_IDENTITY, left.value, bottom.value, right.value, top.value)
            scale = math.sqrt(abs(a * d - b * c)) or 1.0
            yield _Char(char, bx0, bx1, btop, bbottom, bbottom, size * scale or (bbottom - btop) or 1.0)


class _Drawing:
    """What a page draws besides text, from PDFium's page objects (form XObjects walked into):
    the ruling lines its painted paths make (their horizontal and vertical segments, as
    pdfplumber makes edges of pdfminer's lines, rects and curves) and the area of its images."""

    def __init__(self, view: _View, limits: PdfLimits, deadline: float):
        self.view, self.limits, self.deadline = view, limits, deadline
        self.edges: list[dict] = []
        self.image_area = 0.0
        self.segments = 0  # painted segments, of any direction
        self.subpaths = 0
        self.objects = 0
        self.texts_without_box = 0  # PDFium's text page leaves them out, or takes them for copies
        self._matrix = pdfium.FS_MATRIX()
        self._floats = [ctypes.c_float() for _ in range(4)]
        self._fill, self._stroke = ctypes.c_int(), ctypes.c_int()

    def walk(self, page) -> None:  # type: ignore[no-untyped-def]
        self._walk(pdfium.FPDFPage_CountObjects(page), lambda i: pdfium.FPDFPage_GetObject(page, i), _IDENTITY, 0)

    def _walk(self, count: int, get, outer: Matrix, depth: int) -> None:  # type: ignore[no-untyped-def]
        for i in range(count):
            self.objects += 1
            if self.objects > self.limits.max_page_objects:
                raise _OutOfBounds(f"页面对象超过 {self.limits.max_page_objects} 个, 不像一页公开文件")
            if self.objects & 255 == 0 and time.monotonic() > self.deadline:
                raise _OutOfBounds(f"读取超时: 页面内容在 {self.limits.page_seconds:g} 秒内没有解释完, 内容过于复杂")
            obj = get(i)
            kind = pdfium.FPDFPageObj_GetType(obj)
            if kind == pdfium.FPDF_PAGEOBJ_TEXT:
                l, b, r, t = self._floats
                if pdfium.FPDFPageObj_GetBounds(obj, ctypes.byref(l), ctypes.byref(b), ctypes.byref(r), ctypes.byref(t)) \
                        and (abs(r.value - l.value) < 0.01 or abs(t.value - b.value) < 0.01):
                    self.texts_without_box += 1
            elif kind == pdfium.FPDF_PAGEOBJ_PATH:
                self._path(obj, outer)
            elif kind == pdfium.FPDF_PAGEOBJ_IMAGE:
                self._image(obj, outer)
            elif kind == pdfium.FPDF_PAGEOBJ_FORM and depth < 12:
                form = obj
                inner = _then(self._object_matrix(form), outer)
                self._walk(pdfium.FPDFFormObj_CountObjects(form), lambda k: pdfium.FPDFFormObj_GetObject(form, k), inner, depth + 1)

    def _object_matrix(self, obj) -> Matrix:  # type: ignore[no-untyped-def]
        m = self._matrix
        if not pdfium.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
            return _IDENTITY
        return (m.a, m.b, m.c, m.d, m.e, m.f)

    def _image(self, obj, outer: Matrix) -> None:  # type: ignore[no-untyped-def]
        l, b, r, t = self._floats
        if not pdfium.FPDFPageObj_GetBounds(obj, ctypes.byref(l), ctypes.byref(b), ctypes.byref(r), ctypes.byref(t)):
            return
        x0, top, x1, bottom = self.view.box(outer, l.value, b.value, r.value, t.value)
        px0, ptop, px1, pbottom = self.view.bbox
        self.image_area += max(min(x1, px1) - max(x0, px0), 0) * max(min(bottom, pbottom) - max(top, ptop), 0)

    def _path(self, obj, outer: Matrix) -> None:  # type: ignore[no-untyped-def]
        if not pdfium.FPDFPath_GetDrawMode(obj, ctypes.byref(self._fill), ctypes.byref(self._stroke)):
            return
        if self._fill.value == pdfium.FPDF_FILLMODE_NONE and not self._stroke.value:
            return  # ended without painting (`n`): a clip, not a line
        count = pdfium.FPDFPath_CountSegments(obj)
        if count <= 0:
            return
        if self.segments + count > 4 * self.limits.max_page_edges:
            raise _OutOfBounds(f"页面线条超过 {self.limits.max_page_edges} 条, 不像一页公开文件")
        full = _then(_then(self._object_matrix(obj), outer), self.view.matrix)
        x, y = self._floats[:2]
        px, py = ctypes.byref(x), ctypes.byref(y)
        subpaths: list[list[tuple[float, float]]] = []
        bezier = 0
        for k in range(count):
            segment = pdfium.FPDFPath_GetPathSegment(obj, k)
            if not segment or not pdfium.FPDFPathSegment_GetPoint(segment, px, py):
                continue
            kind = pdfium.FPDFPathSegment_GetType(segment)
            point = _apply(full, x.value, y.value)
            if kind == pdfium.FPDF_SEGMENT_MOVETO or not subpaths:
                subpaths.append([point])
                bezier = 0
            elif kind == pdfium.FPDF_SEGMENT_BEZIERTO:
                bezier += 1
                if bezier % 3 == 0:  # two control points, then where the curve ends
                    subpaths[-1].append(point)
            else:
                subpaths[-1].append(point)
            if pdfium.FPDFPathSegment_GetClose(segment) and len(subpaths[-1]) > 1:
                subpaths[-1].append(subpaths[-1][0])
        self.subpaths += len(subpaths)
        if self.subpaths > self.limits.max_page_edges:
            raise _OutOfBounds(f"页面线条超过 {self.limits.max_page_edges} 条, 不像一页公开文件")
        for points in subpaths:
            for (x0, y0), (x1, y1) in zip(points, points[1:]):
                self.segments += 1
                if abs(y1 - y0) < 0.01 and abs(x1 - x0) >= 1:
                    left, right = sorted((x0, x1))
                    top = (y0 + y1) / 2
                    self.edges.append({"object_type": "line", "orientation": "h", "x0": left, "x1": right, "top": top,
                                       "bottom": top, "doctop": top, "width": right - left, "height": 0.0})
                elif abs(x1 - x0) < 0.01 and abs(y1 - y0) >= 1:
                    top, bottom = sorted((y0, y1))
                    at = (x0 + x1) / 2
                    self.edges.append({"object_type": "line", "orientation": "v", "x0": at, "x1": at, "top": top,
                                       "bottom": bottom, "doctop": top, "width": 0.0, "height": bottom - top})


@dataclass(frozen=True)
class _Found:
    cells: list[tuple[float, float, float, float]]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return (min(c[0] for c in self.cells), min(c[1] for c in self.cells),
                max(c[2] for c in self.cells), max(c[3] for c in self.cells))


def _tables(edges: list[dict]) -> list[_Found]:
    """pdfplumber's table finder on the page's ruling lines, with the settings of its "lines"
    strategies (snap and join within 3 points, edges of 3 points or more, intersections within 3):
    groups of two or more cells."""
    if not edges:
        return []
    merged = merge_edges(edges, snap_x_tolerance=3, snap_y_tolerance=3, join_x_tolerance=3, join_y_tolerance=3)
    merged = [e for e in merged if (e["height"] if e["orientation"] == "v" else e["width"]) >= 3]
    cells = intersections_to_cells(edges_to_intersections(merged, 3, 3))
    return [_Found(list(group)) for group in cells_to_tables(cells) if len(group) >= 2]


# --- the characters of a page PDFium leaves short: pdfminer's interpretation -----------------


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
    """A pdfplumber page whose layout is made by the bounded device; only its characters are
    taken (pdfminer's objects as they are), the rest of the page comes from PDFium."""

    deadline: float = 0.0
    limits: PdfLimits = PdfLimits()

    @property
    def layout(self):  # type: ignore[no-untyped-def]
        if hasattr(self, "_layout"):
            return self._layout
        device = _BoundedDevice(self.pdf.rsrcmgr, self.page_number, self.deadline, self.limits)
        PDFPageInterpreter(self.pdf.rsrcmgr, device).process_page(self.page_obj)
        self._layout = device.get_result()
        return self._layout

    def lt_chars(self) -> list[LTChar]:
        chars: list[LTChar] = []

        def walk(items) -> None:  # type: ignore[no-untyped-def]
            for item in items:
                if isinstance(item, LTChar):
                    chars.append(item)
                elif isinstance(item, LTContainer):  # a form XObject's figure: its content
                    walk(item._objs)

        walk(self.layout._objs)
        return chars


def _pdfminer_chars(pdf: pdfplumber.PDF, page_obj: PDFPage, number: int, limits: PdfLimits, deadline: float) -> list[_Char]:
    """The page's characters as pdfminer interprets its content (the reader before PDFium, ten
    times slower): for a page where PDFium's text page leaves text out."""
    page = _BoundedPage(pdf, page_obj, page_number=number)
    page.deadline, page.limits = deadline, limits
    try:
        return [c for c in map(_char_of(page), page.lt_chars()) if c.text.strip()]
    finally:
        page.close()


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
    """The nearest of the (ascending) edges; of two as near, the first."""
    i = bisect.bisect_left(edges, value)
    if i == 0:
        return 0
    if i == len(edges):
        return len(edges) - 1
    return i if edges[i] - value < value - edges[i - 1] else i - 1


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
