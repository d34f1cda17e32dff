"""Build the corpus of hostile documents from the reference disclosure.

Each case is one way a disclosure can be broken: the file it produces, what it breaks, and
the texts the rejection must contain (the place: line, table, field; and the offending text).
Line numbers are found here by searching the seed, independently of the importer, so the
expectations are not the importer's own output fed back to it.

    python tests/hostile/make_corpus.py          # rewrite tests/hostile/documents/
    python tests/hostile/make_corpus.py --check  # exit 1 if the committed corpus is stale

The output is deterministic: the same seed gives byte-identical files and cases.yaml.
Files larger than the importer's limit are not committed (`committed: false`); the tests
build them with `build()`.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED = ROOT / "examples" / "changzhi-hpf-2024-budget.txt"
OUT = HERE / "documents"
# Kept in step with ledger.ingest.document.MAX_BYTES by a test, not imported: the corpus is data.
LIMIT_BYTES = 5 * 1024 * 1024

TITLES = {
    "表一": "2024年预算收支总表",
    "表二": "2024年预算收入总表",
    "表三": "2024年预算支出总表",
    "表四": "2024年财政拨款收支总表",
    "表五": "2024年一般公共预算支出预算表（不含上年结转）",
    "表六": "2024年一般公共预算安排基本支出分经济科目表（不含上年结转）",
    "表七": "2024年政府性基金预算收入表（不含上年结转）",
    "表八": "2024年政府性基金预算支出表（不含上年结转）",
    "表九": "2024年国有资本经营预算收支预算表（不含上年结转）",
    "表十": "2024年财政拨款安排“三公”经费支出预算表",
    "表十一": "2024年财政拨款安排机关运行经费预算表",
    "表十二": "2024年项目支出预算表（本年预算）",
    "表十三": "2024年项目支出预算表（上年结转）",
}
NARRATIVE = "### 第三部分 2024年度部门预算情况说明"
SQL = "'); DROP TABLE ledger_events;--"
SCRIPT = "<script>alert(1)</script>"


class Seed:
    """The seed as lines, with lookups that return 0-based indexes (line numbers are +1)."""

    def __init__(self, text: str):
        self.lines = text.split("\n")

    def copy(self) -> Seed:
        return Seed("\n".join(self.lines))

    def text(self) -> str:
        return "\n".join(self.lines)

    def data(self) -> bytes:
        return self.text().encode("utf-8")

    def title(self, table: str) -> int:
        found = [i for i, line in enumerate(self.lines) if line.strip().lstrip("#").strip() == TITLES[table]]
        assert len(found) == 1, (table, found)
        return found[0]

    def section_end(self, table: str) -> int:
        """Index of the first line after the table (the next title or the narrative)."""
        start = self.title(table)
        starts = [self.title(t) for t in TITLES] + [self.index(NARRATIVE)]
        return min(s for s in starts if s > start)

    def index(self, text: str) -> int:
        found = [i for i, line in enumerate(self.lines) if line.strip() == text]
        assert len(found) == 1, (text, found)
        return found[0]

    def row(self, table: str, prefix: str) -> int:
        """The first line of the table that starts with `prefix` (tab-separated cells)."""
        for i in range(self.title(table) + 1, self.section_end(table)):
            if self.lines[i].startswith(prefix):
                return i
        raise LookupError(f"{table}: no row starting {prefix!r}")

    def containing(self, text: str, start: int = 0) -> int:
        for i in range(start, len(self.lines)):
            if text in self.lines[i]:
                return i
        raise LookupError(text)

    def replace(self, i: int, old: str, new: str, count: int = 1) -> None:
        assert old in self.lines[i], (i, old, self.lines[i])
        self.lines[i] = self.lines[i].replace(old, new, count)

    def set_cell(self, i: int, column: int, value: str) -> str:
        cells = self.lines[i].split("\t")
        old = cells[column]
        cells[column] = value
        self.lines[i] = "\t".join(cells)
        return old

    def cut(self, end: int) -> None:
        """Keep lines before index `end`."""
        self.lines = self.lines[:end]

    def last_nonblank(self) -> int:
        return max(i for i, line in enumerate(self.lines) if line.strip())


def at(i: int) -> str:
    """How a message names the line at 0-based index i."""
    return f"第{i + 1}行"


@dataclass
class Case:
    id: str
    breaks: str
    expect: list[str]
    data: bytes
    committed: bool = True
    cli: bool = False  # also run through the `ledger import` command


CASES: list[Callable[[Seed], Case]] = []


def case(fn: Callable[[Seed], Case]) -> Callable[[Seed], Case]:
    CASES.append(fn)
    return fn


# ---------------------------------------------------------------- the file itself


@case
def empty_file(seed: Seed) -> Case:
    return Case("empty-file", "a file of zero bytes", ["empty-file.txt", "空文件"], b"", cli=True)


@case
def whitespace_only(seed: Seed) -> Case:
    return Case("whitespace-only", "blanks, tabs and newlines only", ["whitespace-only.txt", "空文件"],
                b" \t\n\r\n   \n\t\t\n")


@case
def binary_junk(seed: Seed) -> Case:
    rng = random.Random(20240101)
    data = b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(4096))
    return Case("binary-junk", "an image header and random bytes", ["第1行", "二进制"], data)


@case
def gbk_copy(seed: Seed) -> Case:
    first = next(i for i, line in enumerate(seed.lines) if not line.isascii())
    return Case("gbk-copy", "the whole document saved as GBK", [at(first), "GBK"], seed.text().encode("gbk"))


@case
def utf16_copy(seed: Seed) -> Case:
    return Case("utf16-copy", "the whole document saved as UTF-16 with a byte-order mark", ["第1行", "UTF-16"],
                seed.text().encode("utf-16"))


@case
def one_line_in_gbk(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "2210399\t")
    data = "\n".join(s.lines[:i]).encode() + b"\n" + s.lines[i].encode("gbk") + b"\n" + "\n".join(
        s.lines[i + 1:]).encode()
    return Case("one-line-in-gbk", "one row of 表三 pasted in GBK into a UTF-8 file", [at(i), "UTF-8"], data)


@case
def nul_bytes(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "2050201\t")
    s.replace(i, "学前教育", "学前\x00\x00教育")
    return Case("nul-bytes", "NUL bytes inside a row label", [at(i), "U+0000"], s.data())


@case
def escape_sequence(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十二", "业务费\t")
    s.replace(i, "业务费", "业务费\x1b[2J\x1b[31m")
    return Case("escape-sequence", "a terminal escape sequence in a project name", [at(i), "U+001B"], s.data())


@case
def bidi_override(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十二", "网络租赁费\t")
    s.replace(i, "网络租赁费", "网络\u202e费赁租")
    return Case("bidi-override", "a right-to-left override that makes a label display differently than it reads",
                [at(i), "U+202E"], s.data())


@case
def oversized(seed: Seed) -> Case:
    s = seed.copy()
    filler = "说明：" + "填充" * 40
    data = s.data()
    repeat = (LIMIT_BYTES - len(data)) // len((filler + "\n").encode()) + 2
    data = data + ("\n" + "\n".join([filler] * repeat)).encode()
    assert len(data) > LIMIT_BYTES
    return Case("oversized", f"{len(data)} bytes, over the {LIMIT_BYTES}-byte limit",
                ["oversized.txt", "文件过大", str(len(data))], data, committed=False, cli=True)


@case
def overlong_line(seed: Seed) -> Case:
    s = seed.copy()
    i = s.containing("政府采购预算总额16.86万元") + 1
    s.lines.insert(i, "预算收入总计1万元" * 3000)  # made the narrative patterns backtrack quadratically
    return Case("overlong-line", "a 27,000-character line of repeated narrative labels", [at(i), "27000", "字符"],
                s.data())


# ---------------------------------------------------------------- truncation


@case
def truncated_mid_table(seed: Seed) -> Case:
    s = seed.copy()
    s.cut(s.row("表三", "2101199\t"))
    last = s.last_nonblank()
    return Case("truncated-mid-table", "cut inside 表三, after its row 2101102",
                [at(last), "缺少表四", "截断"], s.data())


@case
def truncated_mid_row(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十二", "市住房公积金12329热线服务中心人员管理费用\t")
    s.cut(i + 1)
    s.lines[i] = s.lines[i][: s.lines[i].index("62.02") + 3]  # "…\t62."
    return Case("truncated-mid-row", "cut in the middle of an amount in 表十二", [at(i), "缺少表十三", "截断"],
                s.data())


@case
def truncated_before_narrative(seed: Seed) -> Case:
    s = seed.copy()
    s.cut(s.index(NARRATIVE))
    last = s.last_nonblank()
    return Case("truncated-before-narrative", "all 13 tables, then the file ends before 第三部分",
                [at(last), "第三部分", "截断"], s.data())


@case
def truncated_in_performance_targets(seed: Seed) -> Case:
    s = seed.copy()
    i = s.containing("项目名称\t\t网络租赁费")
    s.cut(i + 1)
    return Case("truncated-in-performance-targets", "cut inside the 绩效目标表 of 网络租赁费",
                [at(i), "第四部分", "截断"], s.data())


# ---------------------------------------------------------------- tables present, absent, repeated


@case
def missing_table(seed: Seed) -> Case:
    s = seed.copy()
    del s.lines[s.title("表八"): s.section_end("表八")]
    nxt = s.title("表九")
    return Case("missing-table", "表八 removed", [at(nxt), "缺少表八"], s.data())


@case
def duplicated_table(seed: Seed) -> Case:
    s = seed.copy()
    start, end = s.title("表十"), s.section_end("表十")
    block = s.lines[start:end]
    s.lines[end:end] = block
    return Case("duplicated-table", "表十 printed twice", [at(end), "表十", "重复", at(start)], s.data())


@case
def unknown_table_title(seed: Seed) -> Case:
    s = seed.copy()
    i = s.title("表十一")
    s.lines[i:i] = ["### 2024年部门预算调剂情况表", ""]
    return Case("unknown-table-title", "a table title that is not one of the 13",
                [at(i), "2024年部门预算调剂情况表", "未知的表名"], s.data())


@case
def title_of_another_year(seed: Seed) -> Case:
    s = seed.copy()
    i = s.title("表三")
    s.replace(i, "2024年预算支出总表", "2023年预算支出总表")
    return Case("title-of-another-year", "表三's title says 2023 in a 2024 disclosure",
                [at(i), "2023年预算支出总表", "缺少表三"], s.data())


@case
def missing_fiscal_year(seed: Seed) -> Case:
    s = seed.copy()
    i = s.index("2024年度部门预算公开")
    s.lines[i] = "部门预算公开"
    return Case("missing-fiscal-year", "the heading lost its year", ["第1行", "预算年度"], s.data())


@case
def missing_department(seed: Seed) -> Case:
    s = seed.copy()
    s.lines = [line for line in s.lines if not line.startswith("部门名称：")]
    return Case("missing-department", "no 部门名称 line anywhere", ["部门名称"], s.data())


@case
def unit_yuan(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "单位：")
    s.replace(i, "单位：万元", "单位：元")
    return Case("unit-yuan", "表三 says its amounts are in 元", [at(i), "表三", "「元」"], s.data())


@case
def wrong_department_in_table(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表六", "部门名称：")
    s.replace(i, "长治市住房公积金管理中心", "长治市财政局")
    return Case("wrong-department-in-table", "表六 names another department",
                [at(i), "表六", "长治市财政局"], s.data())


@case
def empty_note_on_table_with_amounts(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表七", "合计\t")
    s.lines[i] = "合计\t\t5.00"
    note = s.row("表七", "注：本表无数据")
    return Case("empty-note-on-table-with-amounts", "表七 says 本表无数据 but its 合计 is 5.00",
                [at(note), at(i), "表七", "本表无数据", "5.00"], s.data())


# ---------------------------------------------------------------- cells


def _cell_case(seed: Seed, id_: str, breaks: str, table: str, prefix: str, column: int, value: str,
               extra: list[str] | None = None, **kw) -> Case:
    s = seed.copy()
    i = s.row(table, prefix)
    s.set_cell(i, column, value)
    return Case(id_, breaks, [at(i), table, value, *(extra or [])], s.data(), **kw)


@case
def non_numeric_cell(seed: Seed) -> Case:
    return _cell_case(seed, "non-numeric-cell", "a letter l for the digit 1 in 表三", "表三", "2210399\t", 3,
                      "11l6.73", ["不是金额"], cli=True)


@case
def not_a_number(seed: Seed) -> Case:
    return _cell_case(seed, "not-a-number", "NaN in 表六", "表六", "奖金\t", 2, "NaN", ["不是金额"])


@case
def scientific_notation(seed: Seed) -> Case:
    return _cell_case(seed, "scientific-notation", "an amount in exponent form in 表二", "表二", "2081105\t", 2,
                      "1.346E+1", ["不是金额"])


@case
def full_width_digits(seed: Seed) -> Case:
    return _cell_case(seed, "full-width-digits", "full-width digits in 表五", "表五", "2101101\t", 2, "２３.７０",
                      ["不是金额"])


@case
def amount_with_unit(seed: Seed) -> Case:
    return _cell_case(seed, "amount-with-unit", "an amount with its unit written into the cell", "表十",
                      "公务接待费\t", 1, "0.30万元", ["不是金额"])


@case
def negative_cell(seed: Seed) -> Case:
    return _cell_case(seed, "negative-cell", "a negative amount in 表三", "表三", "2101102\t", 4, "-2.53",
                      ["负数"])


@case
def three_decimals(seed: Seed) -> Case:
    return _cell_case(seed, "three-decimals", "an amount with three decimals in 表二", "表二", "2050201\t", 2,
                      "3.975", ["两位小数"])


@case
def absurd_amount(seed: Seed) -> Case:
    return _cell_case(seed, "absurd-amount", "a trillion 万元 in 表六", "表六", "培训费\t", 2,
                      "1000000000000.00", ["不合理"])


@case
def extra_cell(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表五", "2050201\t")
    s.lines[i] = s.lines[i].rstrip("\t") + "\t\t\t\t999.00"
    return Case("extra-cell", "a cell beyond the width of 表五", [at(i), "表五", "999.00", "多出"], s.data())


# ---------------------------------------------------------------- classification codes


@case
def duplicate_code_row(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "2050201\t")
    s.lines.insert(i + 1, s.lines[i])
    return Case("duplicate-code-row", "表三 lists 2050201 twice", [at(i + 1), "表三", "2050201", "重复"], s.data())


@case
def code_four_digits(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "20502\t")
    s.replace(i, "20502\t", "2050\t")
    return Case("code-four-digits", "a 4-digit functional code", [at(i), "表三", "「2050」"], s.data())


@case
def code_six_digits(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表二", "2210201\t")
    s.replace(i, "2210201\t", "221020\t")
    return Case("code-six-digits", "a 6-digit functional code", [at(i), "表二", "「221020」"], s.data())


@case
def code_with_letter(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表五", "2080505\t")
    s.replace(i, "2080505\t", "208O505\t")
    return Case("code-with-letter", "a letter O inside a functional code", [at(i), "表五", "208O505"], s.data())


@case
def unknown_code(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "2100799\t")
    s.replace(i, "2100799\t", "2100798\t")
    return Case("unknown-code", "a 7-digit code that is not in the functional classification",
                [at(i), "表三", "2100798", "未知"], s.data())


@case
def code_name_mismatch(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "2050201\t")
    s.replace(i, "学前教育", "小学教育")
    return Case("code-name-mismatch", "2050201 printed with the name of 2050202",
                [at(i), "表三", "2050201", "学前教育", "小学教育"], s.data())


@case
def unknown_economic(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表六", "手续费\t")
    s.replace(i, "手续费", "佣金回扣")
    return Case("unknown-economic", "an economic classification item that does not exist",
                [at(i), "表六", "佣金回扣"], s.data())


@case
def unknown_economic_group(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表六", "商品和服务支出\t")
    s.replace(i, "商品和服务支出", "商品和劳务支出")
    return Case("unknown-economic-group", "an economic group row that does not exist",
                [at(i), "表六", "商品和劳务支出"], s.data())


@case
def duplicate_economic_row(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表六", "邮电费\t")
    s.lines.insert(i + 1, s.lines[i])
    return Case("duplicate-economic-row", "表六 lists 邮电费 twice", [at(i + 1), "表六", "邮电费", "重复"], s.data())


@case
def unrecognised_row(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十", "公务接待费\t")
    s.replace(i, "公务接待费", "公务宴请费")
    return Case("unrecognised-row", "a row of 表十 that the table does not have", [at(i), "表十", "公务宴请费"],
                s.data())


# ---------------------------------------------------------------- totals beyond rounding


@case
def total_table1(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表一", "本年收入合计\t")
    s.set_cell(i, 3, "1812.52")
    s.set_cell(i, 4, "1812.52")
    return Case("total-table1", "表一 本年支出合计 10.00 above the sum of its rows", [at(i), "表一", "1812.52", "尾差"],
                s.data())


@case
def income_not_expenditure_table1(seed: Seed) -> Case:
    s = seed.copy()
    lines = [s.row("表一", p) for p in ("一、一般公共预算\t", "本年收入合计\t", "收入总计\t")]
    for i in lines:
        s.set_cell(i, 1, "1902.52")
    return Case("income-not-expenditure-table1", "表一 income side 100.00 above its expenditure side",
                [*(at(i) for i in lines), "表一", "1902.52", "尾差"], s.data())


@case
def total_table3(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "20805\t")
    s.lines[i] = "20805\t行政事业单位养老支出\t233.96\t225.57\t8.39"
    return Case("total-table3", "表三 section 20805 0.30 above its items", [at(i), "表三", "233.96", "尾差"], s.data())


@case
def cross_table2_table3(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表二", "2101199\t")
    s.lines[i] = s.lines[i].replace("0.38\t0.38", "0.48\t0.48")
    return Case("cross-table2-table3", "表二 item 2101199 0.10 above the same item in 表三",
                [at(i), "表二", "0.48", "尾差"], s.data())


@case
def total_table6(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表六", "商品和服务支出\t")
    s.lines[i] = s.lines[i].replace("160.45\t\t160.45", "160.95\t\t160.95")
    return Case("total-table6", "表六 group 商品和服务支出 0.50 above its members",
                [at(i), "表六", "160.95", "尾差"], s.data())


@case
def total_table10(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十", "合计\t")
    s.lines[i] = "合计\t2.50\t2.50\t\t"
    return Case("total-table10", "表十 合计 0.20 above its items", [at(i), "表十", "2.50", "尾差"], s.data())


@case
def total_table11(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十一", "部门合计\t")
    s.lines[i] = "部门合计\t186.51\t186.51\t\t"
    return Case("total-table11", "表十一 部门合计 0.30 above the unit and 表六 公用经费",
                [at(i), "表十一", "186.51", "尾差"], s.data())


@case
def total_table12(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十二", "长治市住房公积金管理中心\t")
    s.lines[i] = "长治市住房公积金管理中心\t212.70\t212.70\t\t\t\t"
    return Case("total-table12", "表十二 department row 1.00 above its projects", [at(i), "表十二", "212.70", "尾差"],
                s.data(), cli=True)


@case
def project_disagrees_with_targets(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十二", "市住房公积金12329热线服务中心人员管理费用\t")
    s.lines[i] = s.lines[i].replace("62.02\t62.02", "62.10\t62.10")
    return Case("project-disagrees-with-targets",
                "表十二 prints 62.10 for a project whose 绩效目标表 says 620,248.66元",
                [at(i), "表十二", "62.10", "620248.66"], s.data())


@case
def targets_disagree_with_project(seed: Seed) -> Case:
    s = seed.copy()
    heading = s.containing("项目名称\t\t市住房公积金12329热线服务中心人员管理费用") - 4
    i = s.containing("年度资金总额", heading)
    s.replace(i, "年度资金总额：\t\t620,248.66", "年度资金总额：\t\t621,048.66")
    return Case("targets-disagree-with-project", "a 绩效目标表 says 621,048.66元 where 表十二 prints 62.02",
                [at(heading), "621048.66", "62.02"], s.data())


@case
def targets_amount_not_a_number(seed: Seed) -> Case:
    s = seed.copy()
    start = s.containing("项目名称\t\t等保测评费")
    i = s.containing("年度资金总额", start)
    s.replace(i, "年度资金总额：\t\t91,000", "年度资金总额：\t\t九万一千")
    return Case("targets-amount-not-a-number", "a 绩效目标表 gives its annual amount in words",
                [at(i), "年度资金总额", "九万一千"], s.data())


@case
def targets_negative_amount(seed: Seed) -> Case:
    s = seed.copy()
    start = s.containing("项目名称\t\t公积金综合服务平台托管服务费")
    i = s.containing("年度资金总额", start)
    s.replace(i, "年度资金总额：\t\t191,000", "年度资金总额：\t\t-191,000")
    return Case("targets-negative-amount", "a 绩效目标表 with a negative annual amount",
                [at(i), "年度资金总额", "-191,000", "负数"], s.data())


@case
def duplicated_targets(seed: Seed) -> Case:
    s = seed.copy()
    start = s.containing("项目名称\t\t等保测评费") - 4
    end = s.containing("负责人", start) + 2
    s.lines[end:end] = s.lines[start:end]
    return Case("duplicated-targets", "the 绩效目标表 of 等保测评费 printed twice",
                [at(end), at(start), "等保测评费", "重复"], s.data())


@case
def targets_for_unknown_project(seed: Seed) -> Case:
    s = seed.copy()
    i = s.containing("项目名称\t\t等保测评费")
    s.replace(i, "等保测评费", "等保测评及整改费")
    return Case("targets-for-unknown-project", "a 绩效目标表 for a project that 表十二 does not list",
                [at(i - 4), "等保测评及整改费", "表十二"], s.data())


@case
def duplicate_project_row(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十二", "等保测评费\t")
    s.lines.insert(i + 1, s.lines[i])
    return Case("duplicate-project-row", "表十二 lists 等保测评费 twice", [at(i + 1), "表十二", "等保测评费", "重复"],
                s.data())


@case
def duplicate_unit_row(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十一", "长治市住房公积金管理中心\t")
    s.lines.insert(i + 1, s.lines[i])
    return Case("duplicate-unit-row", "表十一 lists its unit twice", [at(i + 1), "表十一", "重复"], s.data())


@case
def too_many_rows(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十二", "公积金专网及互联共享设备运维费\t")
    first_row = s.row("表十二", "长治市住房公积金管理中心\t")
    s.lines[i + 1:i + 1] = [f"填充项目{k:04d}\t0.01\t0.01\t\t\t\t" for k in range(3000)]
    # The cap counts data rows: the 3001st is the first one refused.
    over = first_row + 3000
    return Case("too-many-rows", "3000 filler projects in 表十二 (rows that would keep the solver busy for minutes)",
                [at(over), "表十二", "3000"], s.data())


# ---------------------------------------------------------------- narrative


@case
def narrative_percent(seed: Seed) -> Case:
    s = seed.copy()
    i = s.containing("预算收入总计1,802.52万元")
    s.replace(i, "增长0.70%", "增长0.90%")
    return Case("narrative-percent", "情况说明 says +0.90% for a change of 12.46 on 1790.06",
                [at(i), "0.90%", "0.70%"], s.data(), cli=True)


@case
def narrative_figure(seed: Seed) -> Case:
    s = seed.copy()
    i = s.containing("机关运行经费财政拨款预算186.21万元")
    s.replace(i, "预算186.21万元", "预算168.21万元")
    return Case("narrative-figure", "情况说明 gives 机关运行经费 as 168.21 where 表十一 prints 186.21",
                [at(i), "168.21", "186.21"], s.data())


@case
def narrative_three_public(seed: Seed) -> Case:
    s = seed.copy()
    i = s.containing("“三公”经费预算2.30万元")
    s.replace(i, "公务接待费0.30万元", "公务接待费0.50万元")
    return Case("narrative-three-public", "情况说明 gives 公务接待费 as 0.50 where 表十 prints 0.30",
                [at(i), "0.50", "0.30"], s.data())


@case
def narrative_procurement(seed: Seed) -> Case:
    s = seed.copy()
    i = s.containing("政府采购预算总额16.86万元")
    s.replace(i, "16.86万元", "16.96万元")
    return Case("narrative-procurement", "政府采购 total is not goods + works + services",
                [at(i), "16.96", "政府采购"], s.data())


# ---------------------------------------------------------------- labels that look like attacks


@case
def sql_in_project_name(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十二", "潞矿分中心房租费\t")
    s.replace(i, "潞矿分中心房租费", "潞矿分中心房租费" + SQL)
    t = s.containing("项目名称\t\t潞矿分中心房租费")
    s.replace(t, "潞矿分中心房租费", "潞矿分中心房租费" + SQL)
    return Case("sql-in-project-name", "SQL in a project name (in 表十二 and its 绩效目标表 alike)",
                [at(i), "表十二", SQL], s.data(), cli=True)


@case
def script_in_unit_name(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表十一", "长治市住房公积金管理中心\t")
    s.replace(i, "长治市住房公积金管理中心", SCRIPT)
    return Case("script-in-unit-name", "a <script> element as the unit name in 表十一", [at(i), "表十一", SCRIPT],
                s.data())


@case
def script_in_department(seed: Seed) -> Case:
    s = seed.copy()
    indexes = [i for i, line in enumerate(s.lines) if line.startswith("部门名称：")]
    for i in indexes:
        s.replace(i, "长治市住房公积金管理中心", "长治市住房公积金管理中心" + SCRIPT)
    return Case("script-in-department", "a <script> element in every 部门名称 line",
                [at(indexes[0]), "部门名称", SCRIPT], s.data())


@case
def sql_in_code_name(seed: Seed) -> Case:
    s = seed.copy()
    i = s.row("表三", "2050201\t")
    s.replace(i, "学前教育", "学前教育" + SQL)
    return Case("sql-in-code-name", "SQL appended to a functional item name", [at(i), "表三", SQL], s.data())


@case
def overlong_project_name(seed: Seed) -> Case:
    s = seed.copy()
    long_name = "超长项目名称" * 100
    i = s.row("表十二", "业务费\t")
    s.replace(i, "业务费", long_name)
    t = s.containing("项目名称\t\t业务费")
    s.replace(t, "业务费", long_name)
    return Case("overlong-project-name", "a 600-character project name", [at(i), "表十二", "过长"], s.data())


# ---------------------------------------------------------------- building


def build() -> list[Case]:
    seed = Seed(SEED.read_text(encoding="utf-8"))
    cases = [make(seed) for make in CASES]
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for c in cases:
        assert c.data != seed.data(), f"{c.id} does not change the seed"
    return cases


def manifest(cases: list[Case]) -> str:
    entries = [
        {"id": c.id, "file": f"{c.id}.txt", "breaks": c.breaks, "expect": c.expect, "bytes": len(c.data),
         **({"committed": False} if not c.committed else {}), **({"cli": True} if c.cli else {})}
        for c in cases
    ]
    header = ("# Generated by tests/hostile/make_corpus.py from examples/changzhi-hpf-2024-budget.txt; do not edit.\n"
              "# expect: texts the rejection message must contain (the place and the offending text).\n"
              "# committed: false = too large to keep in git; the tests build it.\n")
    return header + yaml.safe_dump({"cases": entries}, allow_unicode=True, sort_keys=False, width=120)


def write(out: Path = OUT) -> list[Case]:
    cases = build()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    for c in cases:
        if c.committed:
            (out / f"{c.id}.txt").write_bytes(c.data)
    (out / "cases.yaml").write_text(manifest(cases), encoding="utf-8")
    return cases


def stale(out: Path = OUT) -> list[str]:
    """Files of the committed corpus that differ from what build() makes now."""
    cases = build()
    wrong = [] if (out / "cases.yaml").read_text(encoding="utf-8") == manifest(cases) else ["cases.yaml"]
    for c in cases:
        path = out / f"{c.id}.txt"
        if c.committed and (not path.exists() or path.read_bytes() != c.data):
            wrong.append(path.name)
    expected = {f"{c.id}.txt" for c in cases if c.committed}
    wrong += sorted(p.name for p in out.glob("*.txt") if p.name not in expected)
    return wrong


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        problems = stale()
        print("\n".join(problems) or "corpus is up to date")
        sys.exit(1 if problems else 0)
    made = write()
    print(f"{len(made)} cases written to {OUT.relative_to(ROOT)}")
