"""Synthetic budgets with the seed's structure, for benchmarks and load tests.

Each budget (one department, one fiscal year) is opened with one unit and filled the way
a budget officer would: projects with performance targets; about 150 native lines named
on every axis (functional code × basic/project × source, economic classification ×
personnel/operating for basic expenditure, the project for project expenditure); the
"三公" and procurement marginals; the figures stated for last year; a publication
(年初预算); then adjustments, transfers and corrections through the year, and a second
publication (调整预算). Everything goes through the real Budget aggregate, so the events
are exactly those the application records.

The aggregate checks every command against the whole budget (cross-axis rules and
non-negative marginals re-summed over all its lines), which is right for one command
but makes a million generated events take most of an hour. So `checked=False` records
the same events through the aggregate's event methods, and checks the same rules once
per budget, over its final balances, before the budget is handed out. `checked=True`
goes through the command methods; a test holds that both give the same balances.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..domain.budget import Budget, RuleViolation
from ..domain.classification import UNIT_CATEGORIES
from ..domain.postings import Line
from ..domain.rules import check_invariants, marginal_balances

CITIES = ("长治市", "晋城市", "太原市", "大同市", "阳泉市", "临汾市", "运城市", "忻州市", "吕梁市", "晋中市", "朔州市")
DISTRICTS = ("", "城区", "郊区", "潞州区", "上党区", "屯留区", "潞城区", "襄垣县", "平顺县", "黎城县", "壶关县",
             "长子县", "武乡县", "沁县", "沁源县")
# Bureau → its functional section (款); the 行政运行/一般行政管理事务/机关服务/其他 items
# under it carry its basic expenditure, the 一般行政管理事务 item its projects.
BUREAUS = (
    ("人大常委会办公室", "20101"), ("政协办公室", "20102"), ("人民政府办公室", "20103"),
    ("发展和改革委员会", "20104"), ("统计局", "20105"), ("财政局", "20106"), ("税务局", "20107"),
    ("审计局", "20108"), ("人力资源和社会保障局", "20801"), ("民政局", "20802"),
    ("教育局", "20501"), ("科学技术局", "20601"), ("文化和旅游局", "20701"), ("卫生健康委员会", "21001"),
    ("生态环境局", "21101"), ("住房和城乡建设局", "21201"), ("农业农村局", "21301"), ("林业局", "21302"),
    ("水利局", "21303"), ("交通运输局", "21401"), ("自然资源局", "22001"), ("粮食和物资储备局", "22201"),
    ("应急管理局", "22401"), ("公安局", "20402"),
)

# Economic items of basic expenditure: (departmental, governmental for agencies,
# governmental for 事业单位, cost, functional item or None for the bureau's own items).
PERSONNEL = (
    ("30101", "50101", "50501", None), ("30102", "50101", "50501", None), ("30103", "50101", "50501", None),
    ("30106", "50101", "50501", None), ("30107", "50101", "50501", None),
    ("30108", "50102", "50501", "2080505"), ("30109", "50102", "50501", "2080506"),
    ("30110", "50102", "50501", "2101101"), ("30111", "50102", "50501", "2101103"),
    ("30112", "50102", "50501", None), ("30113", "50103", "50501", "2210201"), ("30199", "50199", "50501", None),
    ("30302", "50905", "50905", "2080501"), ("30305", "50901", "50901", None), ("30399", "50999", "50999", None),
)
OPERATING = (
    ("30201", "50201", "50502"), ("30202", "50201", "50502"), ("30203", "50205", "50502"),
    ("30205", "50201", "50502"), ("30206", "50201", "50502"), ("30207", "50201", "50502"),
    ("30208", "50201", "50502"), ("30209", "50201", "50502"), ("30211", "50201", "50502"),
    ("30213", "50209", "50502"), ("30214", "50201", "50502"), ("30215", "50202", "50502"),
    ("30216", "50203", "50502"), ("30217", "50206", "50502"), ("30218", "50204", "50502"),
    ("30226", "50205", "50502"), ("30227", "50205", "50502"), ("30228", "50201", "50502"),
    ("30229", "50299", "50502"), ("30231", "50208", "50502"), ("30239", "50201", "50502"),
    ("30299", "50299", "50502"),
)
PROJECT_NAMES = ("信息化系统运维", "业务档案数字化", "专项业务经费", "办公楼维修改造", "人员培训", "宣传经费",
                 "聘用人员经费", "监督检查经费", "课题研究", "设备购置", "安全生产专项", "政务服务大厅运行")
REASONS_UP = ("人员增资", "社保缴费基数调整", "追加专项业务经费", "新增人员经费", "上级补助资金追加")
REASONS_DOWN = ("压减一般性支出", "过紧日子要求核减", "项目执行进度调整", "人员减少")
REASONS_TRANSFER = ("预算调剂: 公用经费内部调剂", "预算调剂: 保障重点支出", "预算调剂: 科目间调整")
REASONS_CORRECT = ("科目录入错误, 冲销重录", "金额录入错误", "批复文号有误, 冲销")
PRIOR_FIGURES = ("income_total", "expenditure_total", "general_public_current", "operating_cost", "three_public")


@dataclass(frozen=True)
class Shape:
    """How much to generate: departments × years budgets, each with `changes` events after
    the opening set (adjustments, transfers, corrections)."""

    departments: int
    years: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025)
    changes: int = 95
    seed: int = 20240101

    @property
    def budgets(self) -> int:
        return self.departments * len(self.years)

    @classmethod
    def for_events(cls, events: int, *, years: int = 5, changes: int = 95, seed: int = 20240101) -> Shape:
        """The shape closest to a number of events (about 250 per budget by default)."""
        per_budget = OPENING_EVENTS + changes + 1
        departments = max(1, round(events / per_budget / years))
        return cls(departments, tuple(range(2026 - years, 2026)), changes, seed)


# Opened + 9 projects + their 9 lines + 130 basic lines + 三公 + procurement + 5 prior + 年初预算
OPENING_EVENTS = 1 + 9 + 9 + 130 + 1 + 1 + 5 + 1


def department_name(index: int) -> str:
    bureau = BUREAUS[index % len(BUREAUS)][0]
    rest = index // len(BUREAUS)
    city = CITIES[rest % len(CITIES)]
    district = DISTRICTS[(rest // len(CITIES)) % len(DISTRICTS)]
    suffix = rest // (len(CITIES) * len(DISTRICTS))
    return f"{city}{district}{bureau}" + (f"第{suffix + 1}分局" if suffix else "")


Anchor = Callable[[Budget], dict[str, Any]]


def anchor_for(ledger: Any) -> Anchor | None:
    """The ledger's publication anchor (chain head and tables digest), if it keeps one."""
    return getattr(ledger, "publication_anchor", None) or getattr(ledger, "_publication_anchor", None)


def budgets(shape: Shape, *, checked: bool = False, anchor: Anchor | None = None) -> Iterator[Budget]:
    """Every budget of the shape, not yet saved, in department then year order.

    `anchor(budget)` gives the extra arguments of Budget.publish that only the application
    knows (the hash chain's head, the digest of the tables as they stand), e.g. the
    Ledger's own publication anchor."""
    for d in range(shape.departments):
        for year in shape.years:
            rng = random.Random(f"{shape.seed}/{d}/{year}")
            yield _Writer(rng, checked, anchor).budget(d, year, shape.changes)


def batches(shape: Shape, *, events_per_batch: int = 20000, checked: bool = False,
            anchor: Anchor | None = None) -> Iterator[list[Budget]]:
    """Budgets grouped so that each group holds about `events_per_batch` pending events
    (one `Application.save(*group)` each: the batched import)."""
    batch: list[Budget] = []
    pending = 0
    for budget in budgets(shape, checked=checked, anchor=anchor):
        batch.append(budget)
        pending += len(budget.pending_events)
        if pending >= events_per_batch:
            yield batch
            batch, pending = [], 0
    if batch:
        yield batch


def generate(save: Callable[..., Any], shape: Shape, *, events_per_batch: int = 20000, checked: bool = False,
             anchor: Anchor | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Record the shape's budgets with `save` (e.g. `Ledger.events.save`); returns events recorded."""
    total = 0
    for batch in batches(shape, events_per_batch=events_per_batch, checked=checked, anchor=anchor):
        count = sum(len(b.pending_events) for b in batch)
        save(*batch)
        total += count
        if progress:
            progress(count)
    return total


def _yuan(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount in 元 with 分, between low and high 元."""
    return Decimal(rng.randint(low * 100, high * 100)) / 100


class _Writer:
    """Writes one budget: the opening set, then changes through the year."""

    def __init__(self, rng: random.Random, checked: bool, anchor: Anchor | None):
        self.rng = rng
        self.checked = checked
        self.anchor = anchor
        self.balance: dict[int, Decimal] = {}  # index into self.lines → current amount
        self.lines: list[dict[str, str]] = []
        self.changes: list[tuple[str, list[Line]]] = []  # correctable events: id, lines

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def budget(self, index: int, year: int, changes: int) -> Budget:
        rng = self.rng
        department = department_name(index)
        bureau, section = BUREAUS[index % len(BUREAUS)]
        category = UNIT_CATEGORIES[rng.randrange(len(UNIT_CATEGORIES))]
        unit = department
        opened = date(year, 1, 1)
        b = Budget(department=department, fiscal_year=year, units=[{"name": unit, "category": category}],
                   effective=opened, reason=f"{year}年部门预算批复", provenance={"generator": "ledger.synthetic",
                                                                                "seed": f"{index}/{year}"})
        self.b = b
        doc = f"{department[:2]}财预〔{year}〕{rng.randint(1, 99)}号"
        # Projects first: a project line names a registered project.
        names = rng.sample(PROJECT_NAMES, 9)
        project_amounts = [_yuan(rng, 50_000, 2_000_000) for _ in names]
        for name, amount in zip(names, project_amounts, strict=True):
            b.register_project(
                name, unit=unit, category="项目支出", annual_amount=amount, effective=opened, reason="项目支出绩效目标表",
                targets={"department_code": f"{100 + index % 900}-{department}", "attribute": "经常性项目",
                         "period": "1年", "total_amount": str(amount),
                         "fields": {"项目概况": f"{name}, 保障{bureau}履职", "立项依据": "部门职责"},
                         "goals": {"年度目标": f"完成{name}年度任务"},
                         "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "完成率", "value": "100%"},
                                        {"level1": "效益指标", "level2": "社会效益指标", "name": "服务对象满意度",
                                         "value": "≥90%"}]},
                provenance={"generator": "ledger.synthetic"},
            )
        agency = category != "事业单位"
        own_items = [f"{section}01", f"{section}02", f"{section}03", f"{section}99"]
        for econ, gov_agency, gov_public, fixed_code in PERSONNEL:
            for code in [fixed_code] if fixed_code else own_items:
                gov = gov_agency if agency or econ.startswith("303") else gov_public
                self._open_line(code, "basic", unit, doc, opened, economic=econ, gov_economic=gov, cost="personnel",
                                amount=_yuan(rng, 20_000, 1_500_000))
        for econ, gov_agency, gov_public in OPERATING:
            for code in own_items:
                self._open_line(code, "basic", unit, doc, opened, economic=econ,
                                gov_economic=gov_agency if agency else gov_public, cost="operating",
                                amount=_yuan(rng, 1_000, 120_000))
        for name, amount in zip(names, project_amounts, strict=True):
            source = "government_fund" if rng.random() < 0.1 else "general"
            self._open_line(f"{section}02", "project", unit, doc, opened, project=name, source=source, amount=amount)
        basic_general = sum(self.balance.values(), Decimal(0))
        three = [("reception", _yuan(rng, 5_000, 60_000)), ("vehicle_operation", _yuan(rng, 10_000, 80_000))]
        self._record("appropriate", [Line.of(a, measure="budget", source="general", three_public=t) for t, a in three],
                     effective=opened, reason="“三公”经费预算", document_no=doc, native=False)
        goods, services = _yuan(rng, 10_000, 300_000), _yuan(rng, 10_000, 300_000)
        self._record("appropriate", [Line.of(goods, measure="budget", procurement="goods"),
                                     Line.of(services, measure="budget", procurement="services")],
                     effective=opened, reason="政府采购预算", document_no=doc, native=False)
        for figure in PRIOR_FIGURES:
            base = {"three_public": sum((a for _, a in three), Decimal(0)),
                    "operating_cost": basic_general / 8}.get(figure, basic_general)
            prior = (base * Decimal(rng.uniform(0.85, 1.05))).quantize(Decimal("0.01"))
            b.state_prior_year([Line.of(prior, measure="prior_year", figure=figure)], effective=opened,
                               reason=f"{year - 1}年预算数 (见{year - 1}年部门预算公开)",
                               provenance={"document": f"{department}{year - 1}年部门预算公开", "section": "情况说明"})
        b.publish("年初预算", effective=opened, reason=f"{year}年部门预算公开", **self._anchor())
        day = opened
        for step in range(changes):
            day = min(day + timedelta(days=rng.randint(0, 3)), date(year, 12, 31))
            self._change(step, day, year)
        b.publish("调整预算", effective=date(year, 12, 31), reason=f"{year}年预算调整方案", **self._anchor())
        if not self.checked:
            problems = check_invariants(b.balances) + marginal_balances(b.balances, [
                Line.of(Decimal(0), **dims) for dims in self.lines])
            if problems:
                raise RuleViolation(problems)
        return b

    def _lines_of(self, event_id: str) -> list[Line]:
        """The lines of an event of this budget (not saved yet: the budget is made whole in memory)."""
        for e in reversed(self.b.pending_events):
            if getattr(e, "event_id", None) == event_id:
                return [Line.from_dict(d) for d in e.lines]
        raise KeyError(event_id)

    def _anchor(self) -> dict[str, Any]:
        return self.anchor(self.b) if self.anchor else {}

    def _open_line(self, code: str, kind: str, unit: str, doc: str, effective: date, *, amount: Decimal,
                   source: str = "general", **axes: str) -> None:
        dims = {"measure": "budget", "source": source, "period": "current", "code": code, "kind": kind,
                "unit": unit, **axes}
        self.lines.append(dims)
        self.balance[len(self.lines) - 1] = amount
        self._record("appropriate", [Line.of(amount, **dims)], effective=effective, reason="年初预算",
                     document_no=doc)

    def _change(self, step: int, day: date, year: int) -> None:
        rng = self.rng
        doc = f"财预〔{year}〕{100 + step}号"
        roll = rng.random()
        if roll < 0.12 and self.changes:
            event_id, lines = self.changes.pop(rng.randrange(len(self.changes)))
            if all(self.balance[i] >= a for i, a in lines):  # the reversal keeps every line non-negative
                for i, a in lines:
                    self.balance[i] -= a
                self._record("correct", event_id, effective=day, reason=rng.choice(REASONS_CORRECT), document_no=doc)
                return
        if roll < 0.45:
            i, j = rng.sample(range(len(self.lines)), 2)
            if self.lines[i]["source"] == self.lines[j]["source"] and self.balance[i] >= 100:
                amount = (self.balance[i] * Decimal(rng.uniform(0.01, 0.2))).quantize(Decimal("0.01"))
                self.balance[i] -= amount
                self.balance[j] += amount
                eid = self._record("transfer", Line.of(amount, **self.lines[i]), Line.of(amount, **self.lines[j]),
                                   effective=day, reason=rng.choice(REASONS_TRANSFER), document_no=doc)
                self.changes.append((eid, [(i, -amount), (j, amount)]))
                return
        i = rng.randrange(len(self.lines))
        if rng.random() < 0.7:
            amount, reason = _yuan(rng, 100, 50_000), rng.choice(REASONS_UP)
        else:
            amount = -(self.balance[i] * Decimal(rng.uniform(0.01, 0.1))).quantize(Decimal("0.01"))
            reason = rng.choice(REASONS_DOWN)
            if amount == 0:
                amount, reason = Decimal("100.00"), rng.choice(REASONS_UP)
        self.balance[i] += amount
        eid = self._record("adjust", [Line.of(amount, **self.lines[i])], effective=day, reason=reason,
                           document_no=doc)
        self.changes.append((eid, [(i, amount)]))

    def _record(self, command: str, *args: Any, **kwargs: Any) -> str:
        """Record through the command (checked) or the event method (checked once per budget)."""
        b = self.b
        eid = self._id()  # drawn on both paths, so that both draw the same random numbers after it
        if command == "correct":  # the lines of the event corrected, as the ledger reads them from its history
            args = (args[0], self._lines_of(args[0]))
        if self.checked:
            return getattr(b, command)(*args, **kwargs)
        effective, reason, document_no = kwargs["effective"], kwargs["reason"], kwargs.get("document_no")
        if command == "appropriate":
            b._appropriated(eid, [line.to_dict() for line in args[0]], effective, reason,
                            kwargs.get("provenance"), document_no)
        elif command == "adjust":
            b._adjusted(eid, [line.to_dict() for line in args[0]], effective, reason, document_no)
        elif command == "transfer":
            source, target = args
            b._transferred(eid, [source.negated().to_dict(), Line(target.dims, source.amount).to_dict()],
                           effective, reason, document_no)
        elif command == "correct":
            reversal = [line.negated().to_dict() for line in args[1]]
            b._corrected(eid, args[0], reversal, effective, reason, document_no)
        else:  # pragma: no cover - a typo in this module
            raise ValueError(command)
        return eid

