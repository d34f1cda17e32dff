"""Who recorded each event (issue 20.3): the ledger records the actor it is given on every event
a command or an import writes; the history (event feed, lineage, diff) shows it; a store
written before events had an actor opens, rebuilds and verifies, its events showing none.
On the CLI: the OS user by default, or --actor NAME."""

from __future__ import annotations

import getpass
import json
from datetime import date
from decimal import Decimal

import pytest
from eventsourcing.persistence import StoredEvent
from support import DEPARTMENT, YEAR

from ledger.application import Ledger
from ledger.application.commands import Adjust, Correct, LineSpec, Publish
from ledger.domain.budget import RuleViolation
from ledger.readmodel.queries import Point

PERSONNEL = LineSpec(code="2210399", kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel")


def all_events(led: Ledger):
    return led.event_feed(0, 10**6).items


def test_an_import_and_commands_record_their_actor_on_every_event(ledger, seed_bytes):
    result = ledger.import_document(seed_bytes, "seed.txt", actor="admin:ops")
    adjusted = ledger.adjust(DEPARTMENT, YEAR, Adjust(line=PERSONNEL, amount=Decimal("1000.00"), reason="人员增资",
                                                      effective=date(YEAR, 7, 1)), actor="officer:alice")
    ledger.correct(DEPARTMENT, YEAR, Correct(event=adjusted.event_id, reason="录错"), actor="officer:bob")
    ledger.publish(DEPARTMENT, YEAR, Publish(name="调整预算", reason="年中"))  # naming no one
    events = all_events(ledger)
    assert len(events) == result.recorded + 3
    assert {e.actor for e in events[:result.recorded]} == {"admin:ops"}  # every event of the import
    assert [e.actor for e in events[result.recorded:]] == ["officer:alice", "officer:bob", None]
    # Lineage and diff name who recorded each contribution.
    history = ledger.history(DEPARTMENT, YEAR, 3, "2210399", "基本支出")
    assert [(c.kind, c.actor) for c in history.contributions][-2:] == [
        ("adjustment", "officer:alice"), ("correction", "officer:bob")]
    assert {c.actor for c in history.contributions if c.kind == "appropriation"} == {"admin:ops"}
    diff = ledger.diff(DEPARTMENT, YEAR, Point(position=result.positions[1]), Point(position=adjusted.position))
    assert diff.changes and all([e.actor for e in c.events] == ["officer:alice"] for c in diff.changes)


@pytest.mark.parametrize("actor", ["", "   ", "a\x00b", "x" * 201])
def test_an_actor_that_is_not_printable_text_is_refused_and_nothing_is_recorded(imported, actor):
    before = imported.last_position()
    with pytest.raises(RuleViolation, match="记录人"):
        imported.adjust(DEPARTMENT, YEAR, Adjust(line=PERSONNEL, amount=Decimal("1.00"), reason="x"), actor=actor)
    assert imported.last_position() == before


def without_actor(led: Ledger) -> list[StoredEvent]:
    """Every stored event as code before issue 20 wrote it: the same state without `actor`."""
    transcoder = led.events.mapper.transcoder
    out = []
    for n in led.events.recorder.select_notifications(start=None, limit=10**9):
        state = transcoder.decode(n.state)
        assert "actor" in state
        del state["actor"]
        out.append(StoredEvent(n.originator_id, n.originator_version, n.topic, transcoder.encode(state)))
    return out


def test_a_store_written_before_events_had_an_actor_opens_rebuilds_and_verifies(ledger, seed_bytes, tmp_path):
    from support import new_database_url

    ledger.import_document(seed_bytes, "seed.txt", actor="admin:ops")
    ledger.adjust(DEPARTMENT, YEAR, Adjust(line=PERSONNEL, amount=Decimal("1000.00"), reason="人员增资",
                                           effective=date(YEAR, 7, 1)), actor="officer:alice")
    older = without_actor(ledger)
    tables = ledger.tables(DEPARTMENT, YEAR)
    url, drop = new_database_url(tmp_path / "older")
    try:
        with Ledger(url) as empty:
            empty.events.recorder.insert_events(older)
        with Ledger(url) as reopened:
            assert reopened.rebuild() == len(older)
            assert reopened.tables(DEPARTMENT, YEAR) == tables
            assert {e.actor for e in all_events(reopened)} == {None}
            assert {c.actor for c in reopened.history(DEPARTMENT, YEAR, 3, "2210399", "基本支出").contributions} == {None}
            assert reopened.verify().ok
            # The budget loads from its older events, and what is recorded now names its actor.
            recorded = reopened.adjust(DEPARTMENT, YEAR, Adjust(line=PERSONNEL, amount=Decimal("-1000.00"),
                                                                reason="冲回"), actor="cli:张三")
            assert all_events(reopened)[-1].actor == "cli:张三" and recorded.position == len(older) + 1
    finally:
        drop()



def test_the_cli_records_the_os_user_or_the_actor_given(cli, seed_bytes, tmp_path):
    seed = tmp_path / "seed.txt"
    seed.write_bytes(seed_bytes)
    cli("import", str(seed))
    cli("adjust", "-d", DEPARTMENT, "-y", str(YEAR), "--amount", "1000", "--reason", "人员增资", "--code", "2210399", "--kind", "basic",
        "--economic", "基本工资/工资奖金津补贴", "--cost", "personnel")
    cli("--actor", "张三", "adjust", "-d", DEPARTMENT, "-y", str(YEAR), "--amount", "-1000", "--reason", "冲回", "--code", "2210399",
        "--kind", "basic", "--economic", "基本工资/工资奖金津补贴", "--cost", "personnel")
    with Ledger(cli.env["LEDGER_DATABASE_URL"]) as led:
        events = all_events(led)
    user = f"cli:{getpass.getuser()}"
    assert {e.actor for e in events[:-2]} == {user}  # the import: every event
    assert [e.actor for e in events[-2:]] == [user, "cli:张三"]
    shown = cli("history", "-d", DEPARTMENT, "-y", str(YEAR), "-t", "3", "--row", "2210399",
                "--column", "基本支出").stdout
    assert user in shown and "cli:张三" in shown
    changed = cli("diff", "-d", DEPARTMENT, "-y", str(YEAR), "--from", str(events[-3].position),
                  "--to", str(events[-2].position)).stdout
    assert f"adjustment@{events[-2].position} ({user})" in changed
    refused = cli("--actor", " ", "adjust", "-d", DEPARTMENT, "-y", str(YEAR), "--amount", "1", "--reason", "x", "--code", "2210399",
                  "--kind", "basic", "--economic", "基本工资/工资奖金津补贴", "--cost", "personnel", check=False)
    assert refused.returncode != 0 and "记录人" in refused.stderr
