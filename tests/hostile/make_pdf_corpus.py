"""Build the corpus of hostile PDFs (tests/hostile/pdf/) and its cases.yaml.

Each case is one way a PDF can be unreadable or wrong: the file, what it breaks, whether the
reader must refuse it (`refused`, with the texts the message must contain and the page it must
name) or read it (`reads`: a warning to give, or, for faults only the layout can judge, the
facts the reader must report so that the layout layer can refuse the document).

    python tests/hostile/make_pdf_corpus.py

Made once from the two corpus PDFs in tests/corpus/ with this machine's qpdf (encryption,
page surgery) and poppler's pdftoppm (scans); the tests need neither: they read the committed
files, whose sha256 cases.yaml records. The hand-made files (bombs, heavy pages) come from the
small PDF writer below, the re-typeset table from ledger.ingest.pdfwriter. Every file comes out
byte for byte the same on each run except the two encrypted ones (qpdf draws a new file key).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "pdf"
CORPUS = ROOT / "tests" / "corpus"
ORIGINAL = CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
DOCTORED = CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts-doctored.pdf"
sys.path.insert(0, str(ROOT / "src"))

MiB = 1024 * 1024


@dataclass
class Case:
    id: str
    breaks: str
    make: Callable[[], bytes]
    outcome: str = "refused"  # refused | reads
    expect: list[str] = field(default_factory=list)
    page: int | None = None
    facts: dict = field(default_factory=dict)  # for `reads`: what the reader must report


# --- a small PDF writer for hand-made files -------------------------------------------------


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of the given object bodies (object 1 is the catalog), with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def stream(data: bytes, compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def one_page(content: bytes, compress: bool = True) -> bytes:
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        stream(content, compress),
        FONT,
    ])


TEXT = b"BT /F1 12 Tf 72 770 Td (Budget 2024) Tj ET\n"


def deflate_bomb() -> bytes:
    # 200 MiB of blanks in ~200 KB: the page's content stream.
    inflater = zlib.compressobj(9)
    chunk = b" " * MiB
    data = b"".join(inflater.compress(chunk) for _ in range(200)) + inflater.flush()
    body = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        body,
        FONT,
    ])


def wrapped_bomb() -> bytes:
    # The same bomb under an ASCII85 layer, as reportlab writes its streams.
    import base64

    inflater = zlib.compressobj(9)
    data = b"".join(inflater.compress(b" " * MiB) for _ in range(200)) + inflater.flush()
    data = base64.a85encode(data, wrapcol=80) + b"~>"
    body = (b"<< /Length %d /Filter [/ASCII85Decode /FlateDecode] >>\nstream\n" % len(data)) + data + b"\nendstream"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        body,
        FONT,
    ])


def heavy_page() -> bytes:
    # 8,000 separate ruling-line strokes on one page (a real table page has a few hundred).
    strokes = b"".join(b"%d %d m %d %d l S\n" % (72 + i % 400, 100 + i // 400 * 30, 80 + i % 400, 100 + i // 400 * 30)
                       for i in range(8000))
    return one_page(TEXT + strokes)


def long_content() -> bytes:
    # 1.5 MiB of comments: nothing to draw, but pdfminer would tokenize it all.
    return one_page(TEXT + b"% filler filler filler filler filler filler filler filler\n" * 27000)


def many_pages() -> bytes:
    count = 400
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(count))
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>"
             for _ in range(count)]
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
                    stream(TEXT), FONT, *pages])


def no_pages() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def html_page() -> bytes:
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>403 Forbidden</title></head>\n"
            "<body><h1>访问被拒绝</h1><p>您没有权限下载该文件，请先登录。</p></body></html>\n").encode("utf-8")


def png_bytes() -> bytes:
    import random

    rng = random.Random(17)
    return b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(4000))


# --- cases made from the corpus --------------------------------------------------------------


def truncated(fraction: float) -> Callable[[], bytes]:
    def make() -> bytes:
        data = DOCTORED.read_bytes()
        return data[: int(len(data) * fraction)]
    return make


def cut_before_eof() -> bytes:
    data = DOCTORED.read_bytes()
    return data[: data.rindex(b"%%EOF") + 2]


def content_objid(path: Path, page: int) -> int:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        ref = pdf.pages[page - 1].page_obj.attrs["Contents"]
        ref = ref[0] if isinstance(ref, list) else ref
        return ref.objid


def corrupt_content(page: int) -> Callable[[], bytes]:
    """Zeros over 64 bytes in the middle of a page's compressed content stream."""
    def make() -> bytes:
        data = bytearray(DOCTORED.read_bytes())
        number = content_objid(DOCTORED, page)
        start = data.index(b"\n%d 0 obj" % number)
        body = data.index(b"stream", start) + len(b"stream\r\n")
        end = data.index(b"endstream", body)
        middle = (body + end) // 2
        data[middle:middle + 64] = bytes(64)
        return bytes(data)
    return make


def qpdf(*args: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.pdf"
        subprocess.run(["qpdf", "--static-id", "--static-aes-iv", *args, str(out)], check=True)
        return out.read_bytes()


def encrypted(user: str) -> Callable[[], bytes]:
    return lambda: qpdf("--encrypt", user, "owner-secret", "256", "--", str(DOCTORED))


def without_page(page: int) -> Callable[[], bytes]:
    return lambda: qpdf(str(DOCTORED), "--pages", str(DOCTORED), f"1-{page - 1},{page + 1}-z", "--")


def scan_of(source: Path, pages: list[int]) -> bytes:
    """The pages rendered to images (poppler) and set as image-only pages (no text layer)."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, invariant=1)
    with tempfile.TemporaryDirectory() as tmp:
        for page in pages:
            prefix = Path(tmp) / f"p{page}"
            subprocess.run(["pdftoppm", "-r", "90", "-gray", "-f", str(page), "-l", str(page), "-png",
                            "-singlefile", str(source), str(prefix)], check=True)
            image = Image.open(f"{prefix}.png")
            jpeg = io.BytesIO()
            image.save(jpeg, "JPEG", quality=55)
            width, height = image.size[0] * 72 / 90, image.size[1] * 72 / 90
            pdf.setPageSize((width, height))
            pdf.drawImage(ImageReader(io.BytesIO(jpeg.getvalue())), 0, 0, width, height)
            pdf.showPage()
    pdf.save()
    return out.getvalue()


def scanned_page(page: int) -> Callable[[], bytes]:
    def make() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            scan = Path(tmp) / "scan.pdf"
            scan.write_bytes(scan_of(DOCTORED, [page]))
            return qpdf("--empty", "--pages", str(DOCTORED), f"1-{page - 1}", str(scan), "1",
                        str(DOCTORED), f"{page + 1}-z", "--")
    return make


def shifted_table() -> bytes:
    """The original's 一般公共预算财政拨款支出决算表 re-typeset with our writer, the row 行政运行
    shifted one column right (as after a stray cell inserted in a spreadsheet row before export):
    its code column is empty and its last figure stands in a column no header names."""
    from ledger.ingest.pdf import read_pdf
    from ledger.ingest.pdfwriter import DocumentSpec, Span, TableSpec, write_pdf
    from ledger.ingest.source import Table, TextLine

    title = "一般公共预算财政拨款支出决算表"
    document = read_pdf(ORIGINAL.read_bytes(), ORIGINAL.name)
    blocks = list(document.blocks)
    at = next(i for i, b in enumerate(blocks) if isinstance(b, TextLine) and b.text == title)
    first = next(b for b in blocks[at:] if isinstance(b, Table))
    table = next(t for t in document.tables() if t is first or (t.parts and t.parts[0] is first))
    header_rows = 4
    header = [[Span(c.text, c.column_span, c.row_span) for c in row.cells] for row in table.rows[:header_rows]]
    header[0].append(Span("", 1, header_rows))
    rows = [list(row.texts) for row in table.rows[header_rows:]]
    shifted = next(i for i, r in enumerate(rows) if "行政运行" in r)
    rows = [r + [""] if i != shifted else [""] + r for i, r in enumerate(rows)]
    edges = table.column_edges
    widths = [b - a for a, b in zip(edges, edges[1:])] + [edges[-1] - edges[-2]]
    spec = DocumentSpec(title="上海市普陀区财政局2024年度部门决算（重排）", blocks=(
        TableSpec(title=title, header=header, rows=rows, widths=widths),))
    return write_pdf(spec)


CASES = [
    Case("truncated-10", "the file cut at 10% of its length", truncated(0.10), expect=["不完整", "截断"]),
    Case("truncated-60", "the file cut at 60% of its length", truncated(0.60), expect=["不完整", "截断"]),
    Case("truncated-tail", "the file cut inside its last %%EOF", cut_before_eof, expect=["不完整", "%%EOF"]),
    Case("corrupt-content", "64 zero bytes over the compressed content of page 8 (a table page)",
         corrupt_content(8), expect=["损坏"], page=8),
    Case("encrypted", "encrypted with a user password (AES-256, qpdf)", encrypted("reader-secret"),
         expect=["密码", "加密"]),
    Case("owner-password-only", "encrypted with an owner password only: opens without one",
         encrypted(""), outcome="reads", facts={"pages": 26}),
    Case("scanned-table-page", "page 8 (收入决算表) replaced by its scan: an image, no text layer",
         scanned_page(8), expect=["第8页", "没有文字层", "扫描"], page=8),
    Case("scanned-narrative-page", "page 20 (running text) replaced by its scan",
         scanned_page(20), outcome="reads", expect=["第20页", "没有文字层"], page=20),
    Case("scanned-document", "three pages, all scans", lambda: scan_of(DOCTORED, [1, 7, 8]),
         expect=["没有文字层", "第1页", "第3页", "扫描"], page=1),
    Case("no-pages", "a well-formed PDF with an empty page tree", no_pages, expect=["没有任何页面"]),
    Case("html-page", "a web page (a download's 403 page) saved as .pdf", html_page, expect=["不是 PDF", "网页"]),
    Case("png-image", "an image file named .pdf", png_bytes, expect=["不是 PDF", "%PDF-"]),
    Case("too-many-pages", "400 pages (the limit is 300)", many_pages, expect=["400 页", "上限"]),
    Case("deflate-bomb", "a page content stream that inflates to 200 MiB from 200 KB", deflate_bomb,
         expect=["压缩炸弹", "第 4 号对象"]),
    Case("deflate-bomb-ascii85", "the same bomb under an ASCII85 layer ([/ASCII85Decode /FlateDecode])",
         wrapped_bomb, expect=["压缩炸弹", "第 4 号对象"]),
    Case("heavy-page", "8,000 stroked line segments on one page", heavy_page, expect=["线条超过"], page=1),
    Case("long-content", "1.5 MiB of content on one page (comments only)", long_content,
         expect=["页面内容解码后有", "上限"], page=1),
    Case("table-missing", "page 15 (财政拨款“三公”经费支出决算表) removed; the contents still list it",
         without_page(15), outcome="reads",
         facts={"missing_title": "财政拨款“三公”经费支出决算表", "pages": 25}),
    Case("column-shifted", "一般公共预算财政拨款支出决算表 re-typeset, the row 行政运行 shifted one column right",
         shifted_table, outcome="reads",
         facts={"row_label": "行政运行", "header_rows": 4, "extra_column": 7, "page": 2}),
]


def build() -> list[tuple[Case, bytes]]:
    return [(case, case.make()) for case in CASES]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    entries = []
    for case, data in build():
        (OUT / f"{case.id}.pdf").write_bytes(data)
        entry = {"id": case.id, "file": f"{case.id}.pdf", "breaks": case.breaks, "outcome": case.outcome,
                 "expect": case.expect, "page": case.page, "bytes": len(data),
                 "sha256": hashlib.sha256(data).hexdigest()}
        if case.facts:
            entry["facts"] = case.facts
        entries.append(entry)
        print(f"{case.id}: {len(data)} bytes")
    header = ("# Generated by tests/hostile/make_pdf_corpus.py from tests/corpus/; do not edit.\n"
              "# outcome refused: the reader refuses, its message contains every `expect` text and names `page`.\n"
              "# outcome reads: the reader reads it; `expect` are texts of its warnings, `facts` what it must report\n"
              "# (faults only the layout can judge: a table missing, a row shifted).\n")
    (OUT / "cases.yaml").write_text(header + yaml.safe_dump({"cases": entries}, allow_unicode=True, sort_keys=False),
                                    encoding="utf-8")


if __name__ == "__main__":
    main()
