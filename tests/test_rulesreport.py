"""The rules page: real pytest-bdd cucumber JSON (from a small run of its own) rendered as HTML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.devtools import rulesreport

FEATURE = """# language: zh-CN
功能: 报告示例
  一段说明，
  分两行写。

  场景: 通过的场景
    假如 有一个数 1
    那么 下列各数之和是 3:
      | 数 |
      | 1  |
      | 2  |

  场景: 失败的场景
    假如 有一个数 1
    那么 它等于 2
    而且 它等于 1

  场景大纲: 大纲 <a>
    假如 有一个数 <a>
    那么 它等于 <a>

    例子:
      | a |
      | 5 |
      | 6 |

  @known_defect
  场景: 已知缺陷的场景 <b>不是标签</b>
    假如 有一个数 1
    那么 它等于 9
"""

STEPS = '''
import pytest
from pytest_bdd import given, parsers, scenarios, then

scenarios("report.feature")

@given(parsers.parse("有一个数 {n:d}"), target_fixture="number")
def _(n):
    return n

@then(parsers.parse("它等于 {n:d}"))
def _(number, n):
    assert number == n, f"{number} 不等于 {n}"

@then(parsers.parse("下列各数之和是 {n:d}:"))
def _(datatable, n):
    assert sum(int(r[0]) for r in datatable[1:]) == n
'''

CONFTEST = '''
import pytest

def pytest_bdd_apply_tag(tag, function):
    if tag == "known_defect":
        pytest.mark.xfail(strict=True, reason="已知缺陷")(function)
        return True
    return None
'''


@pytest.fixture(scope="module")
def cucumber(tmp_path_factory) -> tuple[list, Path]:
    """Run a small feature with pytest-bdd and return its cucumber JSON and its folder."""
    root = tmp_path_factory.mktemp("bdd")
    features = root / "features"
    features.mkdir()
    (features / "report.feature").write_text(FEATURE, encoding="utf-8")
    (features / "test_report.py").write_text(STEPS, encoding="utf-8")
    (features / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\nbdd_features_base_dir = features\n", encoding="utf-8")
    output = root / "cucumber.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "features",
                          f"--cucumberjson={output}"], cwd=root, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr  # one scenario fails on purpose
    return json.loads(output.read_text(encoding="utf-8")), features


def test_summary_counts_each_outcome(cucumber):
    data, _features = cucumber
    assert rulesreport.summary(data) == {"features": 1, "scenarios": 5, "passed": 3, "failed": 1,
                                         "known_defect": 1, "skipped": 0}


def test_steps_after_a_failure_are_shown_as_not_run(cucumber):
    data, _features = cucumber
    [feature] = rulesreport.parse(data)
    failed = next(s for s in feature.scenarios if s.name == "失败的场景")
    assert [s.status for s in failed.steps] == ["passed", "failed", "not_run"]
    assert "1 不等于 2" in failed.steps[1].message
    defect = next(s for s in feature.scenarios if s.status == "known_defect")
    assert [s.status for s in defect.steps] == ["passed", "expected_failure"]
    outline = [s for s in feature.scenarios if s.name.startswith("大纲")]
    assert [s.example for s in outline] == [1, 2]


def test_page_shows_features_scenarios_steps_tables_and_results(cucumber):
    data, features = cucumber
    page = rulesreport.render_html(data, features_dir=features)
    assert page.startswith("<!DOCTYPE html>") and "<html lang='zh-CN'>" in page
    assert "功能: 报告示例" in page and "一段说明，分两行写。" in page
    assert "场景 5 个" in page and "通过 3" in page and "失败 1" in page and "已知缺陷 1" in page
    assert "<span class='kw'>假如</span>有一个数 1" in page
    assert "<td>2</td>" in page  # the data table, read from the .feature file
    assert "<div class='error'>AssertionError: 1 不等于 2" in page  # the failure's message
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in page and "<b>不是标签</b>" not in page
    assert "<script" not in page


def test_cli_writes_the_page(cucumber, tmp_path):
    data, features = cucumber
    source = tmp_path / "cucumber.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    target = tmp_path / "out" / "rules.html"
    result = subprocess.run([sys.executable, "-m", "ledger.devtools.rulesreport", str(source), str(target), str(features)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "场景 5 个" in result.stdout and "失败 1" in result.stdout
    assert "<td>2</td>" in target.read_text(encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "ledger.devtools.rulesreport", str(tmp_path / "missing.json"), str(target)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "无法读取" in bad.stderr


def test_the_service_serves_the_last_report_at_rules(cucumber, tmp_path, monkeypatch, database_url):
    from fastapi.testclient import TestClient

    from ledger.http.app import create_app

    data, _features = cucumber
    source = tmp_path / "cucumber.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_RULES_REPORT", str(source))
    with TestClient(create_app()) as client:
        page = client.get("/rules")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "场景 5 个" in page.text and "失败 1" in page.text and "失败的场景" in page.text


def test_before_any_test_run_the_rules_page_shows_the_scenarios_themselves():
    from ledger.http.app import REPO, scenarios_page

    page = scenarios_page(REPO / "features")
    features = sorted((REPO / "features").glob("*.feature"))
    assert "尚无运行结果" in page and len(features) > 5
    for path in features:  # every rule file is on the page, its text escaped
        first = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("功能:"))
        assert first.split(":", 1)[1].strip() in page
    assert "<script" not in page
