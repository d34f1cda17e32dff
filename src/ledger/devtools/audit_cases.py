"""Documents broken in one place, for the audit's tests and scenarios.

A 决算 written from a budget's events (application/documents.final_text) reconciles by
construction; each case changes one thing in it (a percentage, a base year, an amount, a name,
a note ...) and names the rule that must find it. The place is where the change is: its line
in the text, or (for a change to a table) the table."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    kind: str  # what was broken, in words
    rule: str  # the rule that finds it
    find: str  # the text changed (its first occurrence)
    replace: str
    table: str | None = None  # the finding is on this table (not on the changed line)

    def apply(self, text: str) -> tuple[str, int]:
        """The broken document and the (1-based) line of the change."""
        at = text.find(self.find)
        if at < 0:
            raise LookupError(f"{self.kind}: 文件中没有「{self.find}」")
        same = len(os.path.commonprefix([self.find, self.replace]))
        return text[:at] + self.replace + text[at + len(self.find):], text.count("\n", 0, at + same) + 1


PART_TWO = "第二部分 上海市普陀区财政局2024年度部门决算表"
PART_THREE = "第三部分 上海市普陀区财政局2024年度部门决算情况说明"

# For the 决算 of 上海市普陀区财政局 2024 written from its events (the corpus PDF imported).
FINAL_CASES: tuple[Case, ...] = (
    Case("比上年下降率算错", "narrative.change", "下降1.87%", "下降1.97%"),
    Case("增加配了下降 (减少写成增长)", "narrative.change", "减少56.95万元，下降1.87%", "减少56.95万元，增长1.87%"),
    Case("增减额改了, 百分比未改", "narrative.change", "减少56.95万元", "减少65.95万元"),
    Case("一般公共预算支出的下降率算错", "narrative.change", "下降2.10%", "下降2.01%"),
    Case("机关运行经费增长率算错", "narrative.change", "增长1.40%", "增长1.04%"),
    Case("上年为0仍写增长率", "narrative.change", "比2023年度增加2.55万元", "比2023年度增加184.65万元"),
    Case("比较的基年不是上年", "narrative.base_year", "与2023年度相比，收入支出总计", "与2022年度相比，收入支出总计"),
    Case("机关运行经费的比较基年不是上年", "narrative.base_year", "比2023年度增加2.55万元", "比2022年度增加2.55万元"),
    Case("收入支出总计比表中多0.01万元 (超出尾差)", "narrative.amount", "收入支出总计2995.39万元", "收入支出总计2995.40万元"),
    Case("财政拨款收入支出总计与表四不符", "narrative.amount", "财政拨款收入支出总计2961.68万元", "财政拨款收入支出总计2961.86万元"),
    Case("一般公共预算年初预算与支出决算的支出决算数与表五不符", "narrative.amount",
         "年初预算为1560.05万元，支出决算为1511.89万元", "年初预算为1560.05万元，支出决算为1511.98万元"),
    Case("财政拨款收入占比算错", "narrative.share", "占99.79%", "占99.97%"),
    Case("其他收入占比算错", "narrative.share", "占0.21%", "占0.12%"),
    Case("类级科目占比算错", "narrative.share", "一般公共服务支出（类）2106.66万元，占71.65%",
         "一般公共服务支出（类）2106.66万元，占71.56%"),
    Case("百分比截断而非四舍五入", "percent.truncated", "占79.49%", "占79.48%"),
    Case("完成率算错", "narrative.completion", "完成年初预算的98.20%", "完成年初预算的98.02%"),
    Case("三公经费完成率算错", "narrative.completion", "完成预算的0.00%", "完成预算的10.00%"),
    Case("决算小于预算, 写成大于", "narrative.comparison",
         "年初预算为1560.05万元，支出决算为1511.89万元。决算数小于预算数", "年初预算为1560.05万元，支出决算为1511.89万元。决算数大于预算数"),
    Case("决算小于预算, 写成等于", "narrative.comparison",
         "年初预算为62.29万元，支出决算为60.99万元。决算数小于预算数", "年初预算为62.29万元，支出决算为60.99万元。决算数等于预算数"),
    Case("基本支出构成之和不等于总额", "narrative.sum", "人员经费2152.26万元", "人员经费2152.62万元"),
    Case("政府采购构成之和不等于总额", "narrative.sum", "货物采购金额4.79万元", "货物采购金额4.97万元"),
    Case("类名称写错", "narrative.class_name", "一般公共服务支出（类）2106.66万元", "一般公务服务支出（类）2106.66万元"),
    Case("项名称写错", "narrative.class_name", "财政事务（款）行政运行（项）", "财政事务（款）行政管理（项）"),
    Case("模板中的单位名称未替换", "text.template", "上海市普陀区财政局2024年度收入支出总计", "上海市普陀区XX局2024年度收入支出总计"),
    Case("模板的增加（减少）未替换", "text.template", "比2023年度增加2.55万元", "比2023年度增加（减少）2.55万元"),
    Case("主要原因未填", "text.template", "。主要原因：基本支出中人员进出及退休变化，以及项目支出中合同支付进度条款等原因减少支付。\n\n二、",
         "。主要原因：。\n\n二、"),
    Case("情况说明标题的年度写错", "text.year", PART_THREE, PART_THREE.replace("2024年度", "2023年度")),
    Case("决算表部分标题的年度写错", "text.year", PART_TWO, PART_TWO.replace("2024年度", "2023年度")),
    Case("截至日期不是决算年度末", "text.year", "八、其他重要事项的情况说明\n\n机关运行经费",
         "八、其他重要事项的情况说明\n\n截至2023年12月31日，上海市普陀区财政局共有车辆0辆。\n机关运行经费"),
    Case("句号重复", "text.punctuation", "下降1.87%。", "下降1.87%。。"),
    Case("表名被改, 找不到这张表", "table.missing", "\n一般公共预算财政拨款基本支出决算表\n",
         "\n一般公共预算财政拨款基本支出表\n", table="表六"),
    Case("表头栏目名被改", "table.header", "支出功能分类科目编码", "支出功能科目编码", table="表二"),
    Case("空表缺少“本表无数据”的说明", "table.empty_note", "注：本表无数据。\n", "", table="表八"),
    Case("合计格比明细之和多一个印刷单位", "table.detail_sum", "总计\t2,995.39", "总计\t2,995.40", table="表一"),
    Case("金额单位写错", "document.unreadable", "单位：万元", "单位：元", table="表一"),
    Case("表中的金额不是数字", "document.unreadable", "2,995.39", "2,995.3９", table="表一"),
)
