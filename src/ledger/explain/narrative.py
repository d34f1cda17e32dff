"""Regenerate 第三部分 情况说明 (sections 一 to 十) in the document's own sentence patterns,
from an Explanation. The wording follows the direction of each change."""

from __future__ import annotations

from decimal import Decimal

from .model import Comparison, Explanation, Money


def wan(m: Money, *, thousands: bool = True) -> str:
    """万元 as the narrative prints it: '1,802.52', and '0' for nothing."""
    value = Decimal(m.wan)
    if value == 0:
        return "0"
    return f"{value:,.2f}" if thousands else f"{value:.2f}"


def pct(text: str) -> str:
    return "0%" if Decimal(text) == 0 else f"{text}%"


def change(c: Comparison | None, *, since: str = "比上年", same: str = "与上年持平", reason_word: str = "主要原因是") -> str:
    """'比上年增加12.46万元，增长0.70%，主要原因是…' / '…减少…，下降…' / '与上年持平'."""
    if c is None:
        return ""
    if c.direction == "持平":
        text = same
    else:
        grow = "增长" if c.direction == "增加" else "下降"
        text = f"{since}{c.direction}{wan(c.delta)}万元"
        if c.percent is not None:
            text += f"，{grow}{c.percent}%"
    text += disagreement(c)
    if c.reason and c.direction != "持平":
        text += f"，{reason_word}{c.reason}"
    return text


def disagreement(c: Comparison) -> str:
    """Where this year's document states last year's figure otherwise than last year's own
    events give it, both, in brackets after the change."""
    if c.agrees is not False or c.stated is None:
        return ""
    return f"（本年文件所列上年数为{wan(c.stated)}万元，与账本中{c.prior_year}年度数{wan(c.prior)}万元不一致）"


def basis_note(comparisons: list[Comparison]) -> list[str]:
    """The closing note that says where last year's figures came from, when from the ledger."""
    bases = sorted({c.prior_basis for c in comparisons if c.prior_source == "ledger" and c.prior_basis})
    return [f"注：比上年的上年数取自{'；'.join(bases)}。", ""] if bases else []


def _joined(*parts: str) -> str:
    return "，".join(p for p in parts if p)


def _listed(lead: str, items: list[str], sep: str, tail: str = "") -> str:
    """'，主要包括：a、b、c等' from a lead, the items and their separator; nothing at all when
    there are no items (the narrative never prints an empty enumeration such as '主要包括：；')."""
    return f"{lead}{sep.join(items)}{tail}" if items else ""


def render(e: Explanation) -> str:
    t = e.totals
    y, d = e.fiscal_year, e.department
    out: list[str] = [f"第三部分 {y}年度部门预算情况说明", ""]

    out += ["一、部门预算收支数据变动情况及原因", ""]
    income = _joined(f"{y}年度{d}预算收入总计{wan(t['income_total'])}万元",
                     f"其中：本年收入{wan(t['income_current'])}万元",
                     f"上年结转{wan(t['income_carryover'])}万元", change(e.comparison("income_total")))
    spending = _joined(f"本年部门预算支出总计{wan(t['expenditure_total'])}万元",
                       f"其中：本年预算安排{wan(t['expenditure_current'])}万元",
                       f"上年结转{wan(t['expenditure_carryover'])}万元", change(e.comparison("expenditure_total")))
    out += [f"{income}；{spending}。", ""]

    out += ["二、收入预算情况说明", ""]
    sources = {s.key: s for s in e.shares_of("source")}
    words = [("general", "一般公共预算拨款收入"), ("government_fund", "政府性基金预算拨款收入"),
             ("state_capital", "国有资本经营预算拨款收入"), ("special_account", "财政专户管理资金收入"),
             ("unit_funds", "单位资金"), ("carryover", "上年结转")]
    parts = [f"{label}{wan(sources[k].amount)}万元，占{pct(sources[k].percent)}" for k, label in words]
    out += [f"{y}年度{d}预算收入{wan(t['income_total'])}万元，主要包括" + "；".join(parts) + "。", ""]

    out += ["三、支出预算情况说明", ""]
    kinds = {s.key: s for s in e.shares_of("kind")}
    out += [f"{y}年度{d}支出预算{wan(t['expenditure_total'], thousands=False)}万元，其中："
            f"基本支出{wan(kinds['basic'].amount, thousands=False)}万元，占{pct(kinds['basic'].percent)}；"
            f"项目支出{wan(kinds['project'].amount, thousands=False)}万元，占{pct(kinds['project'].percent)}。", ""]

    out += ["四、财政拨款收支预算总体情况说明", ""]
    classes = e.shares_of("class")
    out += [f"{y}年度{d}财政拨款收支总预算{wan(t['fiscal'])}万元。其中：一般公共预算拨款"
            f"{wan(t['source:general'])}万元，政府性基金预算拨款{wan(t['source:government_fund'])}万元，"
            f"国有资本经营预算拨款{wan(t['source:state_capital'])}万元。其中：当年拨款收入{wan(t['fiscal_current'])}万元，"
            f"上年结转收入{wan(t['fiscal_carryover'])}万元。"
            + _listed("支出包括：", [f"{c.label}{wan(c.amount)}万元" for c in classes], "、", "等。"), ""]

    out += ["五、一般公共预算支出情况说明", "", "(一) 一般公共预算当年支出规模变化情况", ""]
    out += [_joined(f"{y}年度{d}一般公共预算当年支出{wan(t['general_public_current'])}万元",
                    change(e.comparison("general_public_current"))) + "。", ""]
    out += ["(二) 一般公共预算当年支出结构情况", ""]
    out += [f"{y}年度{d}一般公共预算当年支出{wan(t['general_public_current'])}万元"
            + (_listed("，主要用于以下方面：", [f"{c.label}{wan(c.amount)}万元，占{pct(c.percent)}" for c in classes],
                       "；", "等")) + "。", ""]

    out += ["六、一般公共预算基本支出情况说明", ""]
    out += [f"{y}年度{d}一般公共预算安排基本支出{wan(t['general_basic'])}万元，其中：", ""]
    out += [f"人员经费{wan(t['personnel'])}万元"
            + _listed("，主要包括：", [i.label for i in e.personnel_items], "、") + "；", ""]
    out += [f"公用经费{wan(t['operating'])}万元"
            + _listed("，主要包括：", [i.label for i in e.operating_items], "、") + "。", ""]

    out += ["七、“三公”经费增减变动原因说明", ""]
    total = e.comparison("three_public")
    py = y - 1
    head = f"{y}年{d}财政拨款安排的“三公”经费预算{wan(t['three_public'], thousands=False)}万元"
    if total is not None:
        head += (f"与{py}年预算数相同" if total.direction == "持平"
                 else "，" + change(total, since=f"比{py}年预算"))
    items = []
    order = ["overseas", "reception", "vehicle_operation", "vehicle_purchase"]
    by_key = {i.key: i for i in e.three_public}
    for key in order:
        item = by_key[key]
        c = e.comparison(f"three_public:{key}")
        text = f"{item.label}{wan(item.amount, thousands=False)}万元"
        if c is not None:
            text += "，" + ("与上年预算数相同" if c.direction == "持平" else change(c))
        items.append(text)
    out += [head + "。其中：" + "；".join(items) + "。", ""]

    out += ["八、机关运行经费增减变动原因说明", ""]
    cost = e.comparison("operating_cost")
    held = f"所属{len(e.agency_units)}家{e.agency_kind}" if e.agency_units else ""
    sentence = f"本部门{y}年{held}机关运行经费财政拨款预算{wan(t['operating_cost'], thousands=False)}万元"
    if cost is not None:
        sentence = _joined(sentence, change(cost, since=f"比{py}年预算", same=f"与{py}年预算数相同",
                                             reason_word="原因是"))
    out += [sentence + "。", ""]

    out += ["九、政府采购情况", ""]
    proc = {i.key: i for i in e.procurement}
    out += [f"{y}年{d}政府采购预算总额{wan(t['procurement'], thousands=False)}万元。其中："
            f"政府采购货物预算{wan(proc['goods'].amount, thousands=False)}万元、"
            f"政府采购工程预算{wan(proc['works'].amount, thousands=False)}万元、"
            f"政府采购服务预算{wan(proc['services'].amount, thousands=False)}万元。", ""]

    out += ["十、绩效管理情况", ""]
    funded = [p for p in e.projects if p.amount.value != 0]
    if funded:
        out += [f"{y}年{d}纳入绩效目标管理的二级项目{len(funded)}个，共计金额{wan(t['projects'], thousands=False)}万元。", ""]
    else:
        out += [f"{y}年{d}没有纳入绩效目标管理的二级项目。", ""]
    for n, p in enumerate(funded, start=1):
        annual = f"，绩效目标表年度资金总额{Decimal(p.annual_amount.yuan):,.2f}元" if p.annual_amount else ""
        out.append(f"{n}. {p.name}：{wan(p.amount, thousands=False)}万元{annual}，绩效指标{p.indicators}项。")
    note = basis_note(e.comparisons)
    if note:
        out += ["", *note[:1]]
    return "\n".join(out).rstrip() + "\n"
