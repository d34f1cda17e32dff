"""Steps about the explanation: year-over-year changes, shares, and the regenerated narrative
(第三部分 情况说明), all computed by the ledger from events."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import then

from .budget import DEPARTMENT, SEED, YEAR, Story
from .vocabulary import step

# Shares are taken of one whole: the narrative's wording for each whole.
WHOLES = {"支出总计": "kind", "收入总计": "source", "一般公共预算当年支出": "class"}


def _comparison(story: Story, label: str):
    explanation = story.ledger.explain(DEPARTMENT, YEAR)
    found = [c for c in explanation.comparisons if c.label == label]
    assert found, f"没有与上年比较的「{label}」(有: {'、'.join(c.label for c in explanation.comparisons)})"
    return found[0]


@then(step("「{label:L}」为 {current:Wan} 万元，比上年的 {prior:Wan} 万元{direction} {delta:Wan} 万元，{grow} {pct:Wan}%"))
def _(story: Story, label: str, current: Decimal, prior: Decimal, direction: str, delta: Decimal, grow: str,
      pct: Decimal):
    c = _comparison(story, label)
    assert (Decimal(c.current.wan), Decimal(c.prior.wan)) == (current, prior)
    assert c.direction == direction and {"增加": "增长", "减少": "下降"}[direction] == grow
    assert Decimal(c.delta.wan) == delta and Decimal(c.percent) == pct
    # The change is computed from exact amounts, not from the printed ones.
    assert abs(c.current.value - c.prior.value) == c.delta.value


@then(step("「{label:L}」为 {current:Wan} 万元，与上年的 {prior:Wan} 万元相同"))
def _(story: Story, label: str, current: Decimal, prior: Decimal):
    c = _comparison(story, label)
    assert (Decimal(c.current.wan), Decimal(c.prior.wan), c.direction) == (current, prior, "持平")


@then(step('「{label:L}」变动的原因记为 "{reason:Q}"'))
def _(story: Story, label: str, reason: str):
    assert reason in (_comparison(story, label).reason or "")


@then(step("「{label:L}」为 {amount:Wan} 万元，占{whole:L} {pct:Wan}%"))
def _(story: Story, label: str, amount: Decimal, whole: str, pct: Decimal):
    shares = story.ledger.explain(DEPARTMENT, YEAR).shares_of(WHOLES[whole])
    share = next((s for s in shares if s.label == label), None)
    assert share is not None, f"{whole}中没有「{label}」"
    assert (Decimal(share.amount.wan), Decimal(share.percent)) == (amount, pct)
    assert sum(s.amount.value for s in shares) == share.total.value, "各部分之和应等于整体"


def _document_form(text: str) -> str:
    """The document mixes ASCII and full-width punctuation (section 五 uses ','); compare
    sentences with both written full-width. Thousands separators stay as they are."""
    out = []
    for i, ch in enumerate(text):
        digit_around = 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()
        out.append({",": "，", ":": "：", "(": "（", ")": "）"}.get(ch, ch) if not (ch == "," and digit_around) else ch)
    return "".join(out)


@then(step('重新生成的情况说明写有 "{sentence:Q}"'))
def _(story: Story, sentence: str):
    text = story.ledger.explain_text(DEPARTMENT, YEAR)
    assert sentence in text, f"情况说明中没有「{sentence}」:\n{text}"


@then(step('重新生成的情况说明没有 "{sentence:Q}"'))
def _(story: Story, sentence: str):
    assert sentence not in story.ledger.explain_text(DEPARTMENT, YEAR)


@then(step('公开文件与重新生成的情况说明都写有 "{sentence:Q}"'))
def _(story: Story, sentence: str):
    document = _document_form(SEED.read_text(encoding="utf-8"))
    assert _document_form(sentence) in document, f"公开文件中没有「{sentence}」"
    text = story.ledger.explain_text(DEPARTMENT, YEAR)
    assert sentence in text, f"重新生成的情况说明中没有「{sentence}」:\n{text}"
