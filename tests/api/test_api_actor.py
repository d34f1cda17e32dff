"""Who recorded each event, over HTTP (issue 20.3): a token has a name (`role name token` lines,
`role:name:token` items; the old forms keep working, named `<role>-<n>`), and every event a
write records names the token's role and name; the feed, lineage and diff show it."""

from __future__ import annotations

import secrets

import httpx
import pytest

from ledger.http.deps import Settings, TokenConfigError

from .api_support import BUDGET, SEED, Server, bearer

LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}


def token() -> str:
    return secrets.token_urlsafe(24)


def names(settings: Settings) -> list[tuple[str, str]]:
    return [(role, name) for role, _token, name in settings.tokens]


def test_tokens_have_names_and_the_old_forms_keep_working(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"# role [name] token\nofficer alice {token()}\nofficer {token()}\nadmin 运维 {token()}\n"
                    f"officer {token()}\n", encoding="utf-8")
    settings = Settings.from_env({"LEDGER_TOKENS_FILE": str(path),
                                  "LEDGER_TOKENS": f"reader:{token()},officer:bob:{token()},admin:{token()}"})
    assert names(settings) == [("officer", "alice"), ("officer", "officer-1"), ("admin", "运维"),
                               ("officer", "officer-2"), ("reader", "reader-1"), ("officer", "bob"),
                               ("admin", "admin-1")]
    secret = token()
    for bad, where in ((f"officer alice {secret}\nadmin alice {token()}", "重复"),
                       (f"officer {'x' * 65} {secret}", "令牌名称"),
                       (f"officer na\u200bme {secret}", "令牌名称"),
                       ("officer alice short", "至少16个字符")):
        path.write_text(bad + "\n", encoding="utf-8")
        with pytest.raises(TokenConfigError, match=where) as error:
            Settings.from_env({"LEDGER_TOKENS_FILE": str(path)})
        assert secret not in str(error.value)  # a message never shows a token
    with pytest.raises(TokenConfigError, match="令牌名称"):
        Settings.from_env({"LEDGER_TOKENS": f"officer::{token()}"})


@pytest.fixture
def named(database_url, tmp_path):
    """The real server (`ledger serve`) with named tokens and one of the old form, nothing imported."""
    tokens = {"alice": token(), "ops": token(), "plain": token()}
    env = {"LEDGER_TOKENS": f"officer:alice:{tokens['alice']},admin:ops:{tokens['ops']},officer:{tokens['plain']}"}
    running = Server(database_url, {}, tmp_path / "server.log", env=env)
    running.tokens = tokens
    yield running
    running.stop()


def test_every_event_a_write_records_names_the_token_and_the_history_shows_it(named):
    url, tokens = named.url, named.tokens
    imported = httpx.post(f"{url}/api/documents", files={"file": (SEED.name, SEED.read_bytes(), "text/plain")},
                          headers=bearer(tokens["ops"]), timeout=120)
    assert imported.status_code == 201, imported.text
    first, last = imported.json()["positions"]
    adjusted = httpx.post(f"{url}{BUDGET}/adjustments", headers=bearer(tokens["alice"]), timeout=60,
                          json={"line": LINE, "amount": "1000.00", "reason": "人员增资", "effective": "2024-06-30"})
    assert adjusted.status_code == 201, adjusted.text
    corrected = httpx.post(f"{url}{BUDGET}/corrections", headers=bearer(tokens["plain"]), timeout=60,
                           json={"event": adjusted.json()["position"], "reason": "录错", "effective": "2024-06-30"})
    assert corrected.status_code == 201, corrected.text

    feed = httpx.get(f"{url}/api/events", params={"limit": 1000}).json()["items"]
    assert {e["actor"] for e in feed if first <= e["position"] <= last} == {"admin:ops"}
    assert [e["actor"] for e in feed[-2:]] == ["officer:alice", "officer:officer-1"]
    own = httpx.get(f"{url}{BUDGET}/events", params={"after": last}).json()["items"]
    assert [(e["kind"], e["actor"]) for e in own] == [("adjustment", "officer:alice"),
                                                       ("correction", "officer:officer-1")]
    lineage = httpx.get(f"{url}{BUDGET}/tables/3/lineage", params={"row": "2210399", "column": "基本支出"}).json()
    assert [(c["kind"], c["actor"]) for c in lineage["contributions"]][-2:] == [
        ("adjustment", "officer:alice"), ("correction", "officer:officer-1")]
    assert {c["actor"] for c in lineage["contributions"][:-2]} == {"admin:ops"}
    diff = httpx.get(f"{url}{BUDGET}/diff", params={"from_as_of": last, "to_as_of": adjusted.json()["position"]})
    changes = diff.json()["changes"]
    assert changes and all([e["actor"] for e in c["events"]] == ["officer:alice"] for c in changes)
