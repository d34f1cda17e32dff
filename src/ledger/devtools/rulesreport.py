"""The budget rules as a readable page: pytest-bdd's cucumber JSON rendered as standalone HTML.

The scenarios in features/ are the readable statement of the budget rules (DESIGN §3); this
page shows each feature, each scenario with its steps, and whether they held in the last run.

    pytest features --cucumberjson=reports/cucumber.json
    python -m ledger.devtools.rulesreport reports/cucumber.json reports/rules.html [features]

pytest-bdd's JSON leaves out the steps' data tables; given the features folder, the page
reads them from the .feature files.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

# A scenario tagged with this states a rule the code does not yet keep: it is expected to fail.
KNOWN_DEFECT_TAG = "known_defect"

STATUS_WORDS = {
    "passed": "通过",
    "failed": "失败",
    "known_defect": "已知缺陷",
    "skipped": "跳过",
}
STEP_WORDS = {
    "passed": "通过",
    "failed": "失败",
    "expected_failure": "预期失败",
    "not_run": "未执行",
    "skipped": "跳过",
}


@dataclass
class Step:
    keyword: str
    name: str
    status: str  # passed | failed | expected_failure | not_run | skipped
    message: str | None = None
    line: int = 0
    table: list[list[str]] = field(default_factory=list)  # the step's data table, from the .feature


@dataclass
class Scenario:
    keyword: str
    name: str
    line: int
    tags: list[str]
    steps: list[Step]
    status: str  # passed | failed | known_defect | skipped
    example: int | None = None  # the n-th run of a scenario outline


@dataclass
class Feature:
    keyword: str
    name: str
    uri: str
    description: str
    scenarios: list[Scenario] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(s.status for s in self.scenarios)


def _steps(raw: list[dict[str, Any]], known_defect: bool) -> list[Step]:
    """Steps with what happened to each: pytest-bdd marks every step after the one that
    failed as failed too (without a message); those never ran."""
    out: list[Step] = []
    stopped = False
    for step in raw:
        result = step.get("result") or {}
        status = result.get("status", "skipped")
        message = result.get("error_message") or None
        if stopped:
            word = "not_run"
        elif status == "failed":
            word, stopped = "failed", True
        elif status == "skipped":
            word, stopped = ("expected_failure" if known_defect else "skipped"), True
        else:
            word = "passed"
        out.append(Step(step.get("keyword", "").strip(), step.get("name", ""), word, message, step.get("line", 0)))
    return out


def _status(steps: list[Step], known_defect: bool) -> str:
    words = {s.status for s in steps}
    if "failed" in words:
        return "failed"
    if "expected_failure" in words and known_defect:
        return "known_defect"
    if "skipped" in words:
        return "skipped"
    return "passed"


def _feature_source(root: Path | None, uri: str) -> list[str] | None:
    """The lines of a .feature file named by its cucumber uri ('<folder>/<file>.feature')."""
    if root is None or not root.is_dir():
        return None
    folder, _, name = uri.rpartition("/")
    for path in sorted(root.rglob(name)):
        if path.parent.name == folder.rpartition("/")[2] or not folder:
            return path.read_text(encoding="utf-8").split("\n")
    return None


def _data_table(lines: list[str], step_line: int) -> list[list[str]]:
    """The data table written under a step (cucumber JSON leaves it out)."""
    rows = []
    for line in lines[step_line:]:
        text = line.strip()
        if not text.startswith("|"):
            break
        rows.append([cell.strip() for cell in text.strip("|").split("|")])
    return rows


def _order(uri: str) -> tuple[bool, str]:
    # Features in a subfolder of features/ (the 勾稽关系 rules) first, then the others.
    path = uri.removeprefix("features/")
    return ("/" not in path, path)


def parse(data: list[dict[str, Any]], features_dir: Path | None = None) -> list[Feature]:
    """Features from cucumber JSON, with the steps' data tables read from the .feature files
    when features_dir is given; subfolder features first, each group by file name."""
    features = []
    for raw in data:
        # Descriptions are Chinese prose wrapped in the source: the line breaks carry no meaning.
        description = "".join(line.strip() for line in (raw.get("description") or "").splitlines())
        feature = Feature(raw.get("keyword", "功能"), raw.get("name", ""), raw.get("uri", ""), description)
        # The runs of a scenario outline share its line (their names may differ by the examples).
        runs: Counter[int] = Counter()
        outlines = Counter(e.get("line", 0) for e in raw.get("elements", []))
        for element in sorted(raw.get("elements", []), key=lambda e: e.get("line", 0)):
            tags = [t.get("name", "") for t in element.get("tags", [])]
            known_defect = KNOWN_DEFECT_TAG in tags
            steps = _steps(element.get("steps", []), known_defect)
            key = element.get("line", 0)
            runs[key] += 1
            feature.scenarios.append(Scenario(
                element.get("keyword", "场景"), element.get("name", ""), element.get("line", 0), tags, steps,
                _status(steps, known_defect), runs[key] if outlines[key] > 1 else None,
            ))
        source = _feature_source(features_dir, feature.uri)
        if source is not None:
            for scenario in feature.scenarios:
                for step in scenario.steps:
                    step.table = _data_table(source, step.line)
        features.append(feature)
    return sorted(features, key=lambda f: _order(f.uri))


def summary(data: list[dict[str, Any]]) -> dict[str, int]:
    """Counts of scenarios by outcome (passed, failed, known_defect, skipped) and in total."""
    counts: Counter[str] = Counter()
    for feature in parse(data):
        counts.update(feature.counts)
    return {"features": len(data), "scenarios": sum(counts.values()),
            **{k: counts.get(k, 0) for k in STATUS_WORDS}}


_CSS = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #1f2328; line-height: 1.55; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .3rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
.uri, .muted { color: #57606a; font-size: .85rem; }
.description { color: #424a53; margin: .4rem 0 .8rem; }
.summary { display: flex; gap: .6rem; flex-wrap: wrap; margin: 1rem 0; }
.summary span { padding: .25rem .7rem; border-radius: 1rem; background: #f6f8fa; border: 1px solid #d0d7de; }
section.scenario { border-left: 4px solid #d0d7de; padding: .3rem .8rem; margin: .8rem 0; background: #fbfbfc; }
section.passed { border-color: #1a7f37; } section.failed { border-color: #cf222e; background: #fff5f5; }
section.known_defect { border-color: #9a6700; background: #fff8e5; } section.skipped { border-color: #8c959f; }
.badge { font-size: .8rem; padding: .05rem .5rem; border-radius: .8rem; color: #fff; margin-left: .4rem; }
.badge.passed { background: #1a7f37; } .badge.failed { background: #cf222e; }
.badge.known_defect { background: #9a6700; } .badge.skipped { background: #8c959f; }
ol.steps { list-style: none; padding-left: .4rem; margin: .3rem 0; }
ol.steps li { margin: .1rem 0; }
.kw { font-weight: 600; margin-right: .4rem; }
.step.failed { color: #cf222e; } .step.expected_failure { color: #9a6700; }
.step.not_run, .step.skipped { color: #8c959f; }
.mark { display: inline-block; width: 1.2rem; }
.error { white-space: pre-wrap; color: #cf222e; font-size: .85rem; margin: .2rem 0 .2rem 1.6rem; }
pre { white-space: pre-wrap; background: #f6f8fa; padding: .6rem; font-size: .8rem; overflow-x: auto; }
nav ul { columns: 2; font-size: .9rem; }
table { border-collapse: collapse; margin: .3rem 0 .4rem 1.6rem; font-size: .85rem; }
th, td { border: 1px solid #d0d7de; padding: .1rem .5rem; text-align: left; }
th { background: #f6f8fa; font-weight: 600; }
"""

_MARKS = {"passed": "✓", "failed": "✗", "expected_failure": "!", "not_run": "·", "skipped": "–"}


def _short(message: str) -> str:
    """The assertion itself: pytest marks its lines with 'E' in the traceback."""
    lines = [line[1:].strip() for line in message.splitlines() if line.startswith("E ")]
    return "\n".join(lines)[:800] if lines else message.strip().splitlines()[-1][:800]


def _table_html(rows: list[list[str]]) -> str:
    head, *body = rows
    return ("<table><thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in body)
            + "</tbody></table>")


def _scenario_html(s: Scenario) -> str:
    title = escape(s.name) + (f" <span class='muted'>（例 {s.example}）</span>" if s.example else "")
    tags = "".join(f" <span class='muted'>@{escape(t)}</span>" for t in s.tags)
    steps = []
    for step in s.steps:
        steps.append(
            f"<li class='step {step.status}' title='{STEP_WORDS[step.status]}'><span class='mark'>"
            f"{_MARKS[step.status]}</span><span class='kw'>{escape(step.keyword)}</span>{escape(step.name)}"
            + (_table_html(step.table) if step.table else "")
            + (f"<div class='error'>{escape(_short(step.message))}</div>"
               f"<details><summary>完整错误信息</summary><pre>{escape(step.message)}</pre></details>"
               if step.message else "")
            + "</li>"
        )
    return (f"<section class='scenario {s.status}'><div><span class='kw'>{escape(s.keyword)}:</span>{title}"
            f"<span class='badge {s.status}'>{STATUS_WORDS[s.status]}</span>{tags}</div>"
            f"<ol class='steps'>{''.join(steps)}</ol></section>")


def render_html(data: list[dict[str, Any]] | dict[str, Any], title: str = "预算规则：可执行的场景",
                features_dir: Path | None = None) -> str:
    """A standalone page (no scripts, no external files) of the scenarios and their results.
    With features_dir, steps show their data tables too (read from the .feature files)."""
    if isinstance(data, dict):  # one feature given alone
        data = [data]
    features = parse(data, features_dir)
    counts = summary(data)
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<p class='muted'>每个功能是一族预算规则（勾稽关系、尾差、同比与占比、调整与更正、时间回溯、不可改写、导入），"
        "每个场景以公开文件的真实数字（万元）驱动真实的账本。</p>",
        "<div class='summary'>"
        f"<span>功能 {counts['features']} 个</span><span>场景 {counts['scenarios']} 个</span>"
        + "".join(f"<span>{STATUS_WORDS[k]} {counts[k]}</span>" for k in STATUS_WORDS if counts[k] or k == "failed")
        + "</div>",
        "<nav><ul>",
    ]
    for i, f in enumerate(features):
        c = f.counts
        parts.append(f"<li><a href='#f{i}'>{escape(f.name)}</a> <span class='muted'>"
                     f"{c['passed']}/{len(f.scenarios)} 通过</span></li>")
    parts.append("</ul></nav>")
    for i, f in enumerate(features):
        c = f.counts
        tally = "，".join(f"{STATUS_WORDS[k]} {c[k]}" for k in STATUS_WORDS if c[k])
        parts.append(f"<h2 id='f{i}'>{escape(f.keyword)}: {escape(f.name)}</h2>"
                     f"<div class='uri'>{escape(f.uri)} · {tally}</div>")
        if f.description:
            parts.append(f"<p class='description'>{escape(f.description)}</p>")
        parts += [_scenario_html(s) for s in f.scenarios]
    parts.append("</body></html>")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print("用法: python -m ledger.devtools.rulesreport reports/cucumber.json reports/rules.html [features]", file=sys.stderr)
        return 2
    source, target = Path(args[0]), Path(args[1])
    features_dir = Path(args[2]) if len(args) == 3 else Path("features")
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"无法读取 {source}: {exc}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(data, features_dir=features_dir if features_dir.is_dir() else None),
                      encoding="utf-8")
    counts = summary(data)
    print(f"{target}: 功能 {counts['features']} 个, 场景 {counts['scenarios']} 个, 通过 {counts['passed']}, "
          f"失败 {counts['failed']}, 已知缺陷 {counts['known_defect']}, 跳过 {counts['skipped']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
