"""How fast the PDF reader reads, and how much memory it takes (a script, not a test).

    .venv/bin/python benchmarks/pdf_read.py              # 3 runs of each document
    .venv/bin/python benchmarks/pdf_read.py --repeat 5 --out benchmarks/results/pdf-latest.json

Documents: the 2024 决算 of 上海市普陀区财政局 as published (25 pages) and its re-typeset copy
(26 pages), from tests/corpus/; a 30-page disclosure made by our writer (9 tables in 元
over several pages each, narrative between them); and the reference budget written in the
9-table layout in 元 (14 pages, tests/corpus/). Of the published 决算 and the 元 budget the
whole import is timed as well (mode `import`: read, plan with the 尾差 solver, record into a
fresh SQLite store; the store's opening not counted), per page and at that rate for 30 pages. Each run reads one document in a fresh
process, so its peak RSS is the reader's (with Python and the libraries loaded: their RSS
before reading is reported beside it). The reader takes each page from PDFium (pypdfium2) and
reads with pdfminer only a page whose text PDFium's text page leaves short (a text object
without a box: a font not embedded and no font on the machine to stand in for it, e.g. our
writer's STSong-Light without a CJK font installed); `pdfminer_pages` counts them, and
`reader-without-fonts` is the reader with PDFium restarted to see no system font (as on a
machine without a CJK font, whatever this one has). Also
measured: pdfplumber alone making the characters and lines of every page (pdfminer's
interpretation of the page contents, the reader before PDFium), and PDFium alone giving every
character with its box and every path's bounds (the floor under the reader).

The figures are wall and CPU seconds (the machine is shared: CPU time is the steadier one),
per document and per page; the median run is reported, every run beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
CORPUS = ROOT / "tests" / "corpus"

CHILD = r"""
import json, resource, sys, time
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
mode, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
import pdfplumber
from ledger.ingest.pdf import read_pdf
if mode == "reader-without-fonts":  # PDFium as on a machine without a CJK font
    import tempfile
    from ledger.devtools.pdfium_fonts import restart_pdfium
    restart_pdfium([tempfile.mkdtemp()])
from ledger.ingest import pdf as reader
fallback = []  # the pages read by pdfminer
if hasattr(reader, "_pdfminer_chars"):
    by_pdfminer = reader._pdfminer_chars
    def counted(*args, **kwargs):
        fallback.append(args[2])
        return by_pdfminer(*args, **kwargs)
    reader._pdfminer_chars = counted
loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
wall, cpu = time.perf_counter(), time.process_time()
if mode in ("reader", "reader-without-fonts"):
    pages = read_pdf(data, path).page_count
elif mode == "import":  # the whole import: read, plan (尾差 solver), record into a fresh SQLite store
    import tempfile
    from ledger.application import Ledger
    with Ledger(f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite") as ledger:
        loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wall, cpu = time.perf_counter(), time.process_time()
        ledger.import_document(data, path)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    import_wall, import_cpu = wall, cpu
    pages = read_pdf(data, path).page_count  # (the count only, not timed)
    wall, cpu = time.perf_counter(), time.process_time()  # made zero below, replaced by the import's
elif mode == "pypdfium2-floor":
    import pypdfium2
    document = pypdfium2.PdfDocument(data)
    pages = len(document)
    for index in range(pages):
        page = document[index]
        text = page.get_textpage()
        count = text.count_chars()
        chars = text.get_text_range(0, count)
        boxes = [text.get_charbox(i) for i in range(count)]
        paths = [o.get_bounds() for o in page.get_objects() if o.type == 2]
else:
    import io
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = 0
        for page in pdf.pages:
            page.chars, page.edges
            pages += 1
            page.close()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
if mode == "import":
    wall, cpu = import_wall, import_cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"pages": pages, "wall": wall, "cpu": cpu, "rss_loaded_mb": loaded / 1024, "rss_peak_mb": peak / 1024,
                  "pdfminer_pages": len(fallback)}))
"""


def thirty_pages() -> bytes:
    """A 30-page disclosure in 元 written by our writer: its narrative, and tables whose rows go
    on over pages (numbers generated, reconciling by row: 合计 = 基本支出 + 项目支出)."""
    from ledger.ingest.pdfwriter import DocumentSpec, Paragraph, Span, TableSpec, write_pdf

    names = ["行政运行", "一般行政管理事务", "机关服务", "信息化建设", "机关事业单位基本养老保险缴费支出",
             "机关事业单位职业年金缴费支出", "行政单位医疗", "住房公积金", "购房补贴", "其他一般公共服务支出"]
    blocks: list = [Paragraph("第一部分 部门概况", level=1)]
    blocks += [Paragraph("本部门的主要职能是：贯彻执行国家和本市有关财政工作的法律、法规、规章和方针、政策；"
                         "研究拟订本区财政发展战略、规划、政策和改革方案并组织实施。" * 3) for _ in range(16)]
    for t in range(9):
        rows = []
        for n in range(1, 100):
            basic = Decimal(n * 104729 % 9000000) + Decimal(n % 100) / 100
            project = Decimal(n * 7919 % 3000000) + Decimal(n % 37) / 100
            rows.append([f"2{t:02d}{n:04d}", names[n % len(names)], f"{basic + project:,.2f}", f"{basic:,.2f}", f"{project:,.2f}"])
        blocks.append(TableSpec(title=f"表{t + 1} 支出预算表", unit="单位：元", rows=rows, widths=(1.2, 2.4, 1.4, 1.4, 1.4),
                                header=[[Span("项目", columns=2), Span("合计", rows=2), Span("其中", columns=2)],
                                        ["科目编码", "科目名称", "基本支出", "项目支出"]]))
        blocks.append(Paragraph(f"表{t + 1}说明：本年支出合计比上年增加12.46万元，增长0.70%，主要原因是人员增资和社保缴费基数调整。"))
    return write_pdf(DocumentSpec(title="某某局2025年度部门预算", blocks=tuple(blocks), number_font="Times-Roman"))


def cjk_font() -> str | None:
    """A CJK font where PDFium looks for stand-ins (its Linux font directories), if any."""
    for folder in ("/usr/share/fonts", "/usr/local/share/fonts", "/usr/share/X11/fonts"):
        for found in sorted(Path(folder).rglob("*")) if Path(folder).is_dir() else []:
            if found.is_file() and any(k in found.name.lower() for k in ("wqy", "cjk", "song", "hei", "ming", "droidsansfallback")):
                return str(found)
    return None


def run(mode: str, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "writer-30-pages.pdf"
        generated.write_bytes(thirty_pages())
        documents = [CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts.pdf",
                     CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts-doctored.pdf", generated]
        results = []
        # Documents the ledger imports (the whole import is timed too): the 决算 and a budget in 元.
        importable = {documents[0].name, "changzhi-hpf-2024-budget-9-yuan.pdf"}
        documents.append(CORPUS / "changzhi-hpf-2024-budget-9-yuan.pdf")
        for path in documents:
            modes = ["reader", "reader-without-fonts", "pdfplumber-floor", "pypdfium2-floor"]
            for mode in modes + (["import"] if path.name in importable else []):
                runs = [run(mode, path) for _ in range(args.repeat)]
                median = sorted(runs, key=lambda r: r["cpu"])[len(runs) // 2]
                result = {"document": path.name, "mode": mode, "pages": median["pages"], "bytes": path.stat().st_size,
                          "wall_s": round(median["wall"], 3), "cpu_s": round(median["cpu"], 3),
                          "wall_per_page_ms": round(1000 * median["wall"] / median["pages"], 1),
                          "cpu_per_page_ms": round(1000 * median["cpu"] / median["pages"], 1),
                          "rss_loaded_mb": round(median["rss_loaded_mb"], 1), "rss_peak_mb": round(median["rss_peak_mb"], 1),
                          "pdfminer_pages": median["pdfminer_pages"],
                          "runs_cpu_s": [round(r["cpu"], 3) for r in runs], "runs_wall_s": [round(r["wall"], 3) for r in runs]}
                results.append(result)
                print(f"{path.name[:48]:48} {mode:20} {result['pages']:3} pages  wall {result['wall_s']:6.2f} s "
                      f"({result['wall_per_page_ms']:6.1f} ms/page)  cpu {result['cpu_s']:6.2f} s "
                      f"({result['cpu_per_page_ms']:6.1f} ms/page)  RSS {result['rss_peak_mb']:6.1f} MB "
                      f"(loaded {result['rss_loaded_mb']:.1f})  pdfminer pages {result['pdfminer_pages']:2}  "
                      f"runs cpu {result['runs_cpu_s']}", flush=True)
    machine = {"cpus": os.cpu_count(), "load": os.getloadavg(), "python": sys.version.split()[0],
               "cjk_font": cjk_font()}
    print(f"machine: {machine}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"machine": machine, "results": results}, ensure_ascii=False, indent=2) + "\n",
                            encoding="utf-8")
    reader = [r for r in results if r["mode"] == "reader"]
    print("30-page target (whole import ≤ 2 s, ≤ 200 MB): reader alone "
          + ", ".join(f"{r['document'][:24]}: {r['cpu_per_page_ms'] * 30 / 1000:.2f} s CPU for 30 pages" for r in reader))
    print("whole import, at its per-page rate, for 30 pages: "
          + ", ".join(f"{r['document'][:24]}: {r['cpu_per_page_ms'] * 30 / 1000:.2f} s CPU, peak RSS {r['rss_peak_mb']} MB"
                      for r in results if r["mode"] == "import"))


if __name__ == "__main__":
    main()
