"""The audit rules: one function per rule of projections/audit/rules.yaml, each taking the
document as read (engine.Audited) and returning its findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal

from ..explain.figures import AGREEMENT
from ..ingest.source import Location
from . import ratios
from .engine import Audited, finding, place_of
from .model import Finding, Place, rule_set

Check = Callable[[Audited], Iterator[Finding]]
CHECKS: dict[str, Check] = {}

NUM = r"(\d[\d,]*(?:\.\d+)?)"


def rule(rule_id: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        assert rule_id in rule_set().rules, f"rule {rule_id} is not in projections/audit/rules.yaml"
        CHECKS[rule_id] = fn
        return fn

    return register


def _d(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _wan(value: Decimal) -> str:
    return f"{value}万元"


# --- what stops reading ------------------------------------------------------------------

@rule("document.unreadable")
def unreadable(a: Audited) -> Iterator[Finding]:
    for p in a.problems:
        if p.message.startswith("缺少"):
            continue  # table.missing
        if "超出尾差" in p.message:
            continue  # table.detail_sum: printed cells that no exact amounts reconcile
        yield finding("document.unreadable", p.message, place_of(p.location or (Location(line=p.line) if p.line else None),
                                                                table=p.table))


@rule("table.missing")
def missing(a: Audited) -> Iterator[Finding]:
    for p in a.problems:
        if p.message.startswith("缺少"):
            yield finding("table.missing", p.message, place_of(p.location, table=p.table))


# --- tables ------------------------------------------------------------------------------

@rule("table.detail_sum")
def detail_sum(a: Audited) -> Iterator[Finding]:
    for p in a.problems:  # the cells of a rule (勾稽) or a total that no exact amounts satisfy
        if "超出尾差" in p.message:
            yield finding("table.detail_sum", p.message, place_of(p.location, table=p.table), rounding=False)
    if a.plan is None:
        return
    for cell in a.plan.inconsistent_cells:
        printed, amount = Decimal(cell["printed"]), Decimal(cell["amount"])
        yield finding(
            "table.detail_sum",
            f"{cell['table']} {cell['row']} {cell['column']}: 印刷{printed}, 明细之和 (精确) 为{ratios.yuan(amount / ratios.WAN)}"
            "; 相差超出尾差, 没有一组精确金额能同时得出两者",
            Place(table=cell["table"], row=cell["row"], column=cell["column"], text=cell.get("where"),
                  page=cell.get("page"), line=cell.get("line"),
                  x=cell["box"][0] if cell.get("box") else None, y=cell["box"][1] if cell.get("box") else None),
            stated=str(printed), expected=ratios.yuan(amount / ratios.WAN), rounding=False)


@rule("table.rounding")
def rounding(a: Audited) -> Iterator[Finding]:
    if a.plan is None:
        return
    for leaf in a.plan.rounding:
        at = Place(table=leaf.get("table"), row=leaf.get("row"), column=leaf.get("column"), line=leaf.get("line"),
                   page=leaf.get("page"))
        if leaf.get("box"):
            at.x, at.y = leaf["box"][0], leaf["box"][1]
        amount = Decimal(leaf["amount"])
        yield finding("table.rounding",
                      f"{leaf.get('table')} {leaf.get('row')} {leaf.get('column')}: 印刷{leaf['printed']}, "
                      f"精确金额{amount:,}元: 各合计格与其明细由这组精确金额同时得出",
                      at, stated=leaf["printed"], expected=f"{amount:,}元", rounding=True,
                      explanation=f"精确金额 {amount:,}元 四舍五入为印刷的 {leaf['printed']}")
    # A summary cell one printed place off its detail is an error (table.detail_sum), not 尾差.
    off = [f"{c['table']} {c['where']} {c['row']} {c['column']} " for c in a.plan.inconsistent_cells]
    for cell in a.plan.rounding_cells:
        if any(cell.startswith(prefix) for prefix in off):
            continue
        yield finding("table.rounding", f"{cell}: 印刷明细之和与之不等, 差额为尾差 (见上列精确金额)",
                      Place(text=cell), rounding=True)


@rule("table.empty_note")
def empty_note(a: Audited) -> Iterator[Finding]:
    if a.read is None:
        return
    for number, printed in a.read.tables.items():
        table = a.tables.get(number)
        if table is None:
            continue
        name = printed.definition.name
        title = printed.definition.title_for(a.year or 0)
        if table.empty and printed.empty_note_location is None and not printed.empty_note_line:
            yield finding("table.empty_note", f"{name}《{title}》没有数据, 也没有「本表无数据」的说明",
                          place_of(printed.title_location, table=name))
        elif not table.empty and (printed.empty_note_location is not None or printed.empty_note_line):
            yield finding("table.empty_note", f"{name}《{title}》有数据, 却注明「本表无数据」",
                          place_of(printed.empty_note_location, table=name))


# --- the narrative against the tables ----------------------------------------------------

def _final_cell(a: Audited, figure: str, code: str | None) -> tuple[int, str, str] | None:
    from ..ingest.final import FIGURE_CELLS

    if figure == "budget_item":
        return (5, f"0/code:{code}", "total")
    return FIGURE_CELLS.get(figure)


def _number_span(a: Audited, start: int, end: int, number: Decimal) -> tuple[int, int]:
    """The span of a printed number inside a sentence's span (the sentence's if not found)."""
    assert a.flow is not None
    text = a.flow.text[start:end]
    for m in re.finditer(NUM, text):
        if _d(m.group(1)) == number:
            return start + m.start(), start + m.end()
    return start, end


# Totals a 决算 narrative states in a sentence of their own (with or without a comparison).
_FINAL_TOTALS = (("income_expenditure_total", r"(?<!财政拨款)收入支出总计"), ("fiscal_total", r"财政拨款收入支出总计"),
                 ("operating_cost", r"机关运行经费支出"))


@rule("narrative.amount")
def narrative_amount(a: Audited) -> Iterator[Finding]:
    from ..ingest.final import FIGURE_CELLS, LABELS

    if a.final is None or a.flow is None:
        return
    checked: set[int] = set()
    for figure, label in _FINAL_TOTALS:
        key = FIGURE_CELLS[figure]
        table = a.tables.get(key[0])
        if table is None:
            continue
        cell = table.cells.get((key[1], key[2]))
        printed = cell.value if cell is not None else Decimal(0)
        for m in re.finditer(label + NUM + "万元", a.flow.text):
            checked.add(m.start(1))
            stated = _d(m.group(1))
            if stated == printed:
                continue
            where = f"{table_name(a, key[0])} {cell.row_label} {cell.column_label}" if cell else table_name(a, key[0])
            yield finding("narrative.amount", f"情况说明写{LABELS.get(figure, figure)}{_wan(stated)}, {where}为{_wan(printed)}",
                          a.place(m.start(1), m.end(1), sentence=_sentence(a, m.start()), table=table_name(a, key[0])),
                          stated=_wan(stated), expected=_wan(printed), difference=_wan(stated - printed), rounding=False)
    for s in a.final.statements:
        if s.figure in ("procurement", "three_public"):
            continue
        key = _final_cell(a, s.figure, s.code)
        table = a.tables.get(key[0]) if key else None
        if key is None or table is None:
            continue
        cell = table.cells.get((key[1], key[2]))
        printed = cell.value if cell is not None else Decimal(0)
        if printed == s.current_wan:
            continue
        start, end = _number_span(a, s.start, s.end, s.current_wan)
        if start in checked:
            continue
        where = f"{table_name(a, key[0])} {cell.row_label} {cell.column_label}" if cell else table_name(a, key[0])
        yield finding(
            "narrative.amount",
            f"情况说明写{LABELS.get(s.figure, s.figure)}{_wan(s.current_wan)}, {where}为{_wan(printed)}",
            a.place(start, end, sentence=s.sentence, table=table_name(a, key[0])),
            stated=_wan(s.current_wan), expected=_wan(printed), difference=_wan(s.current_wan - printed),
            rounding=False)


def table_name(a: Audited, number: int) -> str:
    if a.read is not None:
        found = a.read.layout.table(number)
        if found is not None:
            return found.name
    return f"表{number}"


def _ratio_finding(a: Audited, rule_id: str, what: str, verdict: ratios.Verdict, printed: str,
                   names: tuple[str, str], values: tuple[Decimal, Decimal], place: Place) -> Finding | None:
    if verdict.ok:
        return None
    if verdict.explained and verdict.example is not None:
        x, y = verdict.example
        return finding(rule_id, f"{what}写{printed}%, 由印刷金额算得{verdict.computed}%: 尾差 (精确金额{names[0]}"
                                f"{ratios.yuan(x)}、{names[1]}{ratios.yuan(y)}得出{printed}%)",
                       place, severity="提示", stated=f"{printed}%", expected=f"{verdict.computed}%",
                       difference=f"{Decimal(printed) - verdict.computed}个百分点", rounding=True,
                       explanation=f"{names[0]}{ratios.yuan(x)}, {names[1]}{ratios.yuan(y)} (各在印刷数的尾差之内)")
    if verdict.truncated:
        return finding("percent.truncated", f"{what}写{printed}%, 四舍五入应为{verdict.computed}% (精确值{verdict.exact:.4f}%"
                                            "截断即为所写): 尾差不能解释", place, stated=f"{printed}%",
                       expected=f"{verdict.computed}%", difference=f"{Decimal(printed) - verdict.computed}个百分点",
                       rounding=False)
    return finding(rule_id, f"{what}写{printed}%, 由{names[0]}{_wan(values[0])}与{names[1]}{_wan(values[1])}算得"
                            f"{verdict.computed}%, 尾差不能解释", place, stated=f"{printed}%",
                   expected=f"{verdict.computed}%", difference=f"{Decimal(printed) - verdict.computed}个百分点",
                   rounding=False)


def _changes(a: Audited) -> Iterator[tuple[Decimal, Decimal, str, str, int, int, str]]:
    """(current, delta, direction 增加|减少, percent word 增长|下降, start, end, sentence) of each
    比上年 sentence with a percentage."""
    assert a.flow is not None
    if a.final is not None:
        for s in a.final.statements:
            if s.percent is None or s.delta_wan is None or s.direction not in ("增加", "减少"):
                continue
            word = re.search(r"(?:增加|减少)[\d,.]+万元，(增长|下降)", s.sentence)
            yield s.current_wan, s.delta_wan, s.direction, word.group(1) if word else "", s.start, s.end, s.sentence
    for p in a.priors:
        if p.percent is None:
            continue
        start = a.flow.text.find(p.sentence)
        if start < 0:
            continue
        m = re.search(r"(增加|减少)" + NUM + r"万元[，,](增长|下降)", p.sentence)
        if not m:
            continue
        yield p.current_wan, _d(m.group(2)), m.group(1), m.group(3), start, start + len(p.sentence), p.sentence


@rule("narrative.change")
def change(a: Audited) -> Iterator[Finding]:
    if a.flow is None:
        return
    for current, delta, direction, word, start, end, sentence in _changes(a):
        m = re.search(r"(?:增长|下降)" + NUM + "%", a.flow.text[start:end])
        if not m:
            continue
        printed = m.group(1)
        span = (start + m.start(1), start + m.end(1))
        at = a.place(*span, sentence=sentence)
        expected_word = "增长" if direction == "增加" else "下降"
        if word and word != expected_word:
            yield finding("narrative.change", f"{direction}{_wan(delta)}, 却写「{word}」(应为「{expected_word}」)", at,
                          stated=word, expected=expected_word)
        ratio = ratios.increase if direction == "增加" else ratios.decrease
        if direction == "增加" and current - delta == 0 and Decimal(printed) != 0:
            yield finding("narrative.change", f"上年为0 (本年{_wan(current)}, 增加{_wan(delta)}): 增长率无从计算, "
                                              f"却写{expected_word}{printed}%", at, stated=f"{printed}%",
                          expected="上年为0, 不写增长率", rounding=False)
            continue
        verdict = ratios.check(ratio, delta, current, printed)
        if verdict is None:
            continue
        found = _ratio_finding(a, "narrative.change", f"比上年{expected_word}率", verdict, printed,
                               ("增减额", "本年数"), (delta, current), at)
        if found:
            yield found


_LEAD = re.compile(r"其中|主要包括|主要用于|包括")


@rule("narrative.share")
def share(a: Audited) -> Iterator[Finding]:
    """「A万元，占Y%」 against the sentence's total: the amount before 其中/主要包括/主要用于, or
    the sentence's first amount."""
    if a.flow is None:
        return
    text = a.flow.text
    for sm in re.finditer(r"[^。\n]+", text):
        sentence, base = sm.group(0), sm.start()
        parts = list(re.finditer(NUM + r"万元[，,]?占" + NUM + "%", sentence))
        if not parts:
            continue
        lead = _LEAD.search(sentence)
        head = sentence[: lead.start()] if lead else sentence
        amounts = list(re.finditer(NUM + "万元", head))
        if not amounts:
            continue
        total_m = amounts[-1] if lead else amounts[0]
        if lead is None and total_m.start() == parts[0].start():
            continue  # no total before the first share
        total = _d(total_m.group(1))
        for pm in parts:
            part, printed = _d(pm.group(1)), pm.group(2)
            verdict = ratios.check(ratios.share, part, total, printed)
            if verdict is None:
                continue
            at = a.place(base + pm.start(2), base + pm.end(2), sentence=sentence.strip())
            found = _ratio_finding(a, "narrative.share", "占比", verdict, printed, ("金额", "总额"), (part, total), at)
            if found:
                yield found


@rule("narrative.completion")
def completion(a: Audited) -> Iterator[Finding]:
    if a.final is None or a.flow is None:
        return
    for s in a.final.statements:
        if s.budget_wan is None or s.percent is None:
            continue
        m = re.search(r"完成(?:年初)?预算的" + NUM + "%", a.flow.text[s.start:s.end])
        if not m:
            continue
        verdict = ratios.check(ratios.share, s.current_wan, s.budget_wan, s.percent)
        if verdict is None:
            continue
        at = a.place(s.start + m.start(1), s.start + m.end(1), sentence=s.sentence)
        found = _ratio_finding(a, "narrative.completion", "完成率", verdict, s.percent, ("决算数", "年初预算数"),
                               (s.current_wan, s.budget_wan), at)
        if found:
            yield found


@rule("narrative.comparison")
def comparison(a: Audited) -> Iterator[Finding]:
    if a.final is None or a.flow is None:
        return
    text = a.flow.text
    for s in a.final.statements:
        if s.budget_wan is None:
            continue
        tail = re.match(r"[^。]*?。?[^。]{0,6}?决算数(大于|小于|等于)(?:年初)?预算数", text[s.end:s.end + 80])
        if not tail:
            continue
        word = tail.group(1)
        actual = "大于" if s.current_wan > s.budget_wan else "小于" if s.current_wan < s.budget_wan else "等于"
        if word != actual:
            start = s.end + tail.start(1)
            yield finding("narrative.comparison",
                          f"年初预算{_wan(s.budget_wan)}, 支出决算{_wan(s.current_wan)}: 决算数{actual}预算数, 文件写「{word}」",
                          a.place(start, start + 2, sentence=s.sentence), stated=word, expected=actual,
                          difference=_wan(s.current_wan - s.budget_wan))


@rule("history.prior_year")
def prior_year(a: Audited) -> Iterator[Finding]:
    """A stated 上年数 against last year's own events (the ledger holds last year): both
    figures, both sources, at the sentence that states it."""
    used: dict[str, int] = {}
    for c in a.prior_checks:
        if abs(c.stated - c.ledger) <= AGREEMENT:  # a stated figure is implied by two rounded ones
            continue
        where = Place(sentence=c.label)
        if c.span is not None and a.flow is not None:
            where = a.place(*c.span, sentence=_sentence(a, c.span[0]))
        elif c.marker is not None and a.flow is not None:
            # the n-th check marked so is the n-th place the text marks so
            found = list(re.finditer(c.marker, a.flow.text))
            n = used.get(c.marker, 0)
            used[c.marker] = n + 1
            if n < len(found):
                where = a.place(found[n].start(), found[n].end(), sentence=_sentence(a, found[n].start()))
        yield finding("history.prior_year", f"{c.label}: 本年文件所列上年数{c.stated}万元, {c.basis}为{c.ledger}万元",
                      where, stated=f"{c.stated}万元 ({c.source})", expected=f"{c.ledger}万元 ({c.basis})",
                      difference=_wan(c.stated - c.ledger))


# --- years and text ----------------------------------------------------------------------

@rule("narrative.base_year")
def base_year(a: Audited) -> Iterator[Finding]:
    if a.flow is None or a.year is None:
        return
    for m in re.finditer(r"与(\d{4})年度?(?:相比|比较)|比(\d{4})年度?(?:增加|减少|持平|预算)", a.flow.text):
        year = int(m.group(1) or m.group(2))
        if year != a.year - 1:
            g = 1 if m.group(1) else 2
            yield finding("narrative.base_year", f"与{year}年度比较, 上年应为{a.year - 1}年度 (文件为{a.year}年度)",
                          a.place(m.start(g), m.end(g), sentence=_sentence(a, m.start())), stated=str(year),
                          expected=str(a.year - 1))


@rule("text.year")
def text_year(a: Audited) -> Iterator[Finding]:
    if a.flow is None or a.year is None:
        return
    text = a.flow.text
    for m in re.finditer(r"(\d{4})\s*年度?\s*(?:部门|单位)(?:预算|决算)", text):
        year = int(m.group(1))
        if year != a.year:
            yield finding("text.year", f"「{m.group(0)}」: 文件为{a.year}年度", a.place(m.start(1), m.end(1),
                          sentence=_sentence(a, m.start())), stated=str(year), expected=str(a.year))
    for m in re.finditer(r"截至(\d{4})年(\d{1,2})月(\d{1,2})日", text):
        year = int(m.group(1))
        allowed = (a.year,) if a.phase == "final" else (a.year - 1, a.year)
        if year not in allowed:
            yield finding("text.year", f"「{m.group(0)}」: {'决算说明的是' if a.phase == 'final' else '预算应说明'}"
                                       f"{'或'.join(str(y) for y in allowed)}年的情况",
                          a.place(m.start(1), m.end(1), sentence=_sentence(a, m.start())), stated=str(year),
                          expected=str(allowed[0]))


_TEMPLATE = re.compile(r"[XＸxｘ×]{2,}|某某|增加（减少）|增加\(减少\)|增长（下降）|增长\(下降\)|大于（小于）|"
                       r"主要原因(?:是|为|：|:)\s*[。；;]|（\s*）万元|万元（\s*）")


@rule("text.template")
def template(a: Audited) -> Iterator[Finding]:
    if a.flow is None:
        return
    for m in _TEMPLATE.finditer(a.flow.text):
        yield finding("text.template", f"模板文字未替换: 「{m.group(0)}」", a.place(m.start(), m.end(),
                      sentence=_sentence(a, m.start())), stated=m.group(0))


@rule("text.punctuation")
def punctuation(a: Audited) -> Iterator[Finding]:
    if a.flow is None:
        return
    for m in re.finditer(r"([。，；：、！？])\1+", a.flow.text):
        yield finding("text.punctuation", f"标点重复: 「{m.group(0)}」", a.place(m.start(), m.end(),
                      sentence=_sentence(a, m.start())), stated=m.group(0), expected=m.group(1))
    # A paragraph of running text that ends with 「；」 or 「，」 (its sentence is not closed).
    for m in re.finditer(r"[^\n]{20,}?([；，])(?=\n)", a.flow.text):
        yield finding("text.punctuation", f"段落以「{m.group(1)}」结束, 句子没有结束", a.place(m.start(1), m.end(1),
                      sentence=_sentence(a, m.start(1))), stated=m.group(1), expected="。")


@rule("percent.truncated")
def truncated(a: Audited) -> Iterator[Finding]:
    """Reported by the percentage rules (change, share, completion) when a percentage is the
    truncated figure; nothing of its own to read."""
    return iter(())


def _sentence(a: Audited, offset: int) -> str:
    assert a.flow is not None
    text = a.flow.text
    start = max(text.rfind("。", 0, offset), text.rfind("\n", 0, offset)) + 1
    ends = [i for i in (text.find("。", offset), text.find("\n", offset)) if i >= 0]
    end = min(ends) + 1 if ends else len(text)
    return text[start:end].strip()


@rule("table.header")
def header(a: Audited) -> Iterator[Finding]:
    """Header cells that are no cell of the layout's header: a cell's text must be one of the
    definition's header texts, or the first or last part of one (a cell wrapped onto two
    printed rows). Printed headers vary between templates, so a finding is 疑似."""
    from ..ingest.printed import normal
    from ..ingest.tables import _amount_texts, _has_amounts

    if a.read is None:
        return
    for number, printed in a.read.tables.items():
        definition = printed.definition
        known = {normal(c.text) for c in definition.header_cells if normal(c.text)}
        rows = list(printed.header)
        if not printed.header_known:
            for row in printed.rows:
                texts = [normal(c) for c in row.cells]
                if _has_amounts(_amount_texts(definition, list(row.cells) + [""] * definition.width)) or \
                        any(t in ("合计", "总计") or re.match(r"^\d{3}", t)
                            for t in texts[: definition.panels[0].label_width]):
                    break  # the first row of the table's body
                rows.append(row)
        for row in rows:
            for i, text in enumerate(row.cells):
                t = normal(text)
                if not t or t in known or any(k.startswith(t) or k.endswith(t) for k in known):
                    continue
                at = row.cell_locations[i] if i < len(row.cell_locations) else None
                yield finding("table.header", f"{definition.name}的表头「{text}」不是布局的表头文字 "
                                              f"(布局: {'、'.join(sorted(known))})",
                              place_of(at or row.location, table=definition.name), stated=text)


@rule("narrative.sum")
def component_sum(a: Audited) -> Iterator[Finding]:
    """「总额X万元，其中：A万元；B万元」: the parts (not the 增加/减少 amounts, not shares) add
    up to the total within their rounding (each part half a place, the total half a place)."""
    if a.flow is None:
        return
    text = a.flow.text
    for pm in re.finditer(r"[^\n]+", text):
        paragraph, base = pm.group(0), pm.start()
        for lead in re.finditer(r"其中[：:]", paragraph):
            before = paragraph[: lead.start()]
            if before.endswith("。"):
                # 「…总额X万元。其中：…」: the total is the previous sentence's first amount
                before_start = before.rfind("。", 0, len(before) - 1) + 1
                head = [m for m in re.finditer(NUM + "万元", before) if m.start() >= before_start][:1]
            else:
                head = list(re.finditer(NUM + "万元", before))[-1:]
            if not head:
                continue
            total_m = head[-1]
            end = paragraph.find("。", lead.end())
            rest = paragraph[lead.end(): end if end >= 0 else len(paragraph)]
            sentence = paragraph[paragraph.rfind("。", 0, total_m.start()) + 1: end + 1 if end >= 0 else len(paragraph)]
            stop = re.search(r"[；;，,][^；;，,]*?(?:总计|合计)[\d,.]+万元|比上年|与\d{4}年度?相比|其中", rest)
            segment = rest[: stop.start()] if stop else rest
            parts = [m for m in re.finditer(r"(?<![增减]加)(?<![减]少)" + NUM + "万元", segment)
                     if not re.search(r"(?:增加|减少)$", segment[: m.start()])]
            if len(parts) < 2:
                continue
            total = _d(total_m.group(1))
            values = [_d(m.group(1)) for m in parts]
            printed_sum = sum(values, Decimal(0))
            if printed_sum == total:
                continue
            slack = sum((ratios.half_place(v) for v in values), ratios.half_place(total))
            start = base + total_m.start(1)
            at = a.place(start, base + total_m.end(1), sentence=sentence.strip())
            explained = abs(printed_sum - total) < slack
            yield finding("narrative.sum",
                          f"各项之和{_wan(printed_sum)}, 总额写{_wan(total)}, 相差{_wan(total - printed_sum)}"
                          + ("; 在各项的尾差之内" if explained else "; 尾差不能解释"),
                          at, severity="提示" if explained else None, stated=_wan(total), expected=_wan(printed_sum),
                          difference=_wan(total - printed_sum), rounding=explained)


@rule("narrative.class_name")
def class_name(a: Audited) -> Iterator[Finding]:
    """Names written 「…（类）」「…（款）」「…（项）」 are names of the functional classification
    (of that level); an item sentence names a 类/款/项 path that exists."""
    from ..domain import classification

    if a.flow is None:
        return
    names = classification.functional().names
    by_level = {3: set(), 5: set(), 7: set()}
    for code, name in names.items():
        if len(code) in by_level:
            by_level[len(code)].add(name)
    level = {"类": 3, "款": 5, "项": 7}
    reported: set[int] = set()
    for m in re.finditer(r"([\u4e00-\u9fff（）()]{2,30}?)（(类|款|项)）", a.flow.text):
        name = re.sub(r"^.*[：:，,；;、。）)]|^(?:主要用于|用于|其中|以下方面)", "", m.group(1)).strip()
        name = re.sub(r"^\d+、", "", name)
        if not name or name in by_level[level[m.group(2)]]:
            continue
        start = m.start(1) + m.group(1).rfind(name)
        reported.add(start)
        yield finding("narrative.class_name", f"「{name}（{m.group(2)}）」不是功能分类的{m.group(2)}名称",
                      a.place(start, start + len(name), sentence=_sentence(a, m.start())), stated=name)
    if a.final is not None:
        for sentence, start, end in a.final.unresolved:
            if any(start <= r < end for r in reported):
                continue
            yield finding("narrative.class_name", "这一项的类、款、项名称在功能分类中对不上",
                          a.place(start, min(end, start + 40), sentence=sentence))
