"""Signed checkpoints: what a forger with write access to the store cannot recompute.

The forger here edits stored bytes and then uses the ledger's own code to make the hash chain
and the read model agree again (so plain `verify` passes); the checkpoint, signed with a key
outside the store, still names what changed."""

from __future__ import annotations

import json

import pytest
from support import DEPARTMENT, SEED, YEAR
from sqlalchemy import text
from test_integrity import events_table, execute, state_at

from ledger.application.checkpoints import CheckpointError, generate_key, load, load_private_key, load_public_key
from ledger.application.commands import Adjust, LineSpec, Publish
from ledger.readmodel.chain import ChainProjector

LINE = LineSpec(code="2210399", kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel")


@pytest.fixture
def keys(tmp_path):
    private, public, _kid = generate_key(tmp_path / "signing.key")
    return load_private_key(private), load_public_key(public)


@pytest.fixture
def history(imported):
    """The reference budget, adjusted and published, then adjusted twice more (after the last
    publication, whose anchor would otherwise give an edit away)."""
    imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="10万元", reason="人员增资"))
    imported.publish(DEPARTMENT, YEAR, Publish(name="调整预算", reason="年中调整"))
    imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="2万元", reason="补发"))
    imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="3万元", reason="补发"))
    return imported


def signed(led, keys) -> dict:
    """A checkpoint as an auditor keeps it (the JSON outside the store), loaded back."""
    private, public = keys
    return load(json.dumps(led.checkpoint(private)).encode(), public)


def rechain_from(led, position: int) -> None:
    """What a forger does after editing events: drop the chain from a position, let the
    ledger's own chain projection hash the events again, rebuild the read model."""
    execute(led, "DELETE FROM ledger_chain WHERE position >= :p", p=position)
    with led.engine.connect() as conn:
        previous = conn.execute(text("SELECT MAX(position) FROM ledger_chain")).scalar() or 0
    execute(led, "UPDATE ledger_tracking SET position = :p WHERE name = 'chain'", p=previous)
    ChainProjector(led.log, led.engine).catch_up()
    led.rebuild()


def forge_amount(led, position: int, yuan: int) -> None:
    state = state_at(led, position)
    amount = state.split(b'"amount":{"_type_":"decimal_str","_data_":"')[1].split(b'"')[0]
    forged = state.replace(amount, str(int(float(amount)) + yuan).encode() + b".00", 1)
    assert forged != state
    table, pos = events_table(led)
    execute(led, f"UPDATE {table} SET state = :s WHERE {pos} = :p", s=forged, p=position)
    rechain_from(led, position)


def delete_last(led, count: int) -> list[int]:
    """Delete the last events of the store; returns their positions."""
    table, pos = events_table(led)
    with led.engine.connect() as conn:
        positions = [r[0] for r in conn.execute(text(f"SELECT {pos} FROM {table} ORDER BY {pos} DESC LIMIT :n"),
                                                {"n": count})]
    execute(led, f"DELETE FROM {table} WHERE {pos} >= :p", p=min(positions))
    return sorted(positions)


def test_a_good_store_extends_its_checkpoint(history, keys):
    checkpoint = signed(history, keys)
    assert checkpoint["position"] == history.last_position() and checkpoint["events"] == history.last_position()
    history.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="1万元", reason="又一笔"))
    report = history.verify(checkpoint)
    assert report.ok, report.problems
    assert report.checkpoint["position"] == checkpoint["position"] and report.checkpoint["after"] == 1


def test_an_edit_rehashed_with_our_own_code_passes_plain_verify_but_not_the_checkpoint(history, keys):
    checkpoint = signed(history, keys)
    position = history.last_position() - 1  # the 2万元 adjustment
    forge_amount(history, position, 100)
    plain = history.verify()
    assert plain.ok, plain.problems  # what plain verify cannot see: all of it is in the store
    report = history.verify(checkpoint)
    assert not report.ok
    assert any(p.startswith(f"位置 {position}: 事件内容与检查点") for p in report.problems), report.problems
    assert any("哈希链与检查点" in p and DEPARTMENT in p for p in report.problems), report.problems


def test_deleting_the_last_events_is_detected_by_plain_verify(history):
    last = history.last_position()
    deleted = delete_last(history, 2)
    report = history.verify()
    assert not report.ok
    assert any(f"事件库到位置 {deleted[0] - 1} 为止, 哈希链已记录到位置 {last}: 最后 2 个事件被删除" in p
               for p in report.problems), report.problems
    assert any(p.startswith(f"读模型已处理到位置 {last} (投影 chain、tables)") for p in report.problems), report.problems


def test_deleting_the_last_events_and_covering_up_is_detected_by_the_checkpoint(history, keys):
    """The forger deletes the last events with their chain rows, rewinds the tracking and
    rebuilds: plain verify has nothing left to compare; the checkpoint does."""
    checkpoint = signed(history, keys)
    deleted = delete_last(history, 2)
    rechain_from(history, deleted[0])
    assert history.verify().ok
    report = history.verify(checkpoint)
    assert not report.ok
    assert any(f"事件库到位置 {deleted[0] - 1} 为止, 而检查点 (位置 {checkpoint['position']}" in p
               for p in report.problems), report.problems

    # Then a new event: SQLite gives it a deleted event's position, PostgreSQL a new one.
    history.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="7万元", reason="重新记录"))
    report = history.verify(checkpoint)
    reused = history.last_position() <= checkpoint["position"]
    assert reused == (history.storage.kind == "sqlite")
    expected = (f"位置 {deleted[0]}: 事件内容与检查点" if reused else
                f"位置 {deleted[0]}: 检查点 (位置 {checkpoint['position']}")
    assert any(p.startswith(expected) for p in report.problems), report.problems


def test_a_checkpoint_signed_by_another_key_is_refused(history, keys, tmp_path):
    _private, public = keys
    other_key, _other_public, _kid = generate_key(tmp_path / "forger.key")
    forged = history.checkpoint(load_private_key(other_key))
    with pytest.raises(CheckpointError, match="不是由此公钥签署的"):
        load(json.dumps(forged).encode(), public)
    # Claiming the auditor's key id does not help without the auditor's private key.
    genuine = history.checkpoint(keys[0])
    forged = {**forged, "key_id": genuine["key_id"], "public_key": genuine["public_key"]}
    with pytest.raises(CheckpointError, match="签名与此公钥不符"):
        load(json.dumps(forged).encode(), public)
    # Nor does editing a genuine checkpoint (here: to a shorter history).
    edited = {**genuine, "position": genuine["position"] - 1}
    with pytest.raises(CheckpointError, match="签名与此公钥不符"):
        load(json.dumps(edited).encode(), public)
    assert load(json.dumps(genuine).encode(), public)["position"] == history.last_position()


def test_no_checkpoint_is_signed_over_a_broken_chain(history, keys):
    table, pos = events_table(history)
    position = history.last_position() - 1
    state = state_at(history, position)
    execute(history, f"UPDATE {table} SET state = :s WHERE {pos} = :p", s=state.replace(b"20000", b"20001", 1),
            p=position)
    with pytest.raises(CheckpointError, match=f"位置 {position}: 事件与哈希链 .* 不符, 未签署检查点"):
        history.checkpoint(keys[0])
    assert history.latest_checkpoint() is None


def test_no_checkpoint_is_signed_over_a_truncated_store(history, keys):
    delete_last(history, 1)
    with pytest.raises(CheckpointError, match="最后的事件被删除, 未签署检查点"):
        history.checkpoint(keys[0])
    assert history.latest_checkpoint() is None


def test_the_cli_signs_and_verifies_against_a_kept_checkpoint(cli, database_url, tmp_path):
    cli("import", str(SEED))
    cli("adjust", "-d", DEPARTMENT, "-y", str(YEAR), "--amount", "2万元", "--reason", "补发", "--code", "2210399",
        "--kind", "basic", "--economic", "基本工资/工资奖金津补贴", "--cost", "personnel")
    key = tmp_path / "auditor.key"
    assert "已生成签名密钥" in cli("keygen", "--out", str(key)).stdout
    assert (key.stat().st_mode & 0o777) == 0o600
    assert cli("keygen", "--out", str(key), check=False).returncode == 2  # never overwritten
    kept = tmp_path / "kept" / "checkpoint.json"
    kept.parent.mkdir()
    kept.write_text(cli("checkpoint", "--key", str(key)).stdout, encoding="utf-8")
    ran = cli("verify", "--against", str(kept), "--public-key", f"{key}.pub")
    assert "事件库延续检查点" in ran.stdout

    from ledger.application import Ledger

    with Ledger(database_url) as led:
        position = led.last_position()
        forge_amount(led, position, 100)
    assert cli("verify").returncode == 0
    ran = cli("verify", "--against", str(kept), "--public-key", f"{key}.pub", check=False)
    assert ran.returncode == 1
    assert f"位置 {position}: 事件内容与检查点" in ran.stderr

    other = tmp_path / "other.key"
    cli("keygen", "--out", str(other))
    ran = cli("verify", "--against", str(kept), "--public-key", f"{other}.pub", check=False)
    assert ran.returncode == 2 and "不是由此公钥签署的" in ran.stderr


def test_publications_are_signed_and_a_forged_anchor_fails_their_signature(imported, keys, tmp_path, monkeypatch):
    """With LEDGER_SIGNING_KEY, every publication carries an Ed25519 signature over its anchor
    (chain head and tables digest). A forger who edits an earlier event and then recomputes the
    publication's anchor with our own code passes plain verify, not the signature check."""
    from ledger.readmodel.chain import tables_digest
    from ledger.readmodel.queries import Point
    from ledger.tables import formats
    from test_integrity import position_of

    private, public = keys
    key_path = tmp_path / "signing.key"  # the fixture wrote it there
    monkeypatch.setenv("LEDGER_SIGNING_KEY", str(key_path))
    imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="10万元", reason="人员增资"))
    published = imported.publish(DEPARTMENT, YEAR, Publish(name="调整预算", reason="年中调整"))
    state = imported.log.decoder.decode(next(n for n in imported.log.notifications(published.position - 1, 1)))
    assert state["signature"] and state["key_id"]
    report = imported.verify(public_key=public)
    assert report.ok and report.unsigned == ["位置 90: 发布节点「年初预算」"]
    # the seed's own publication (年初预算) was recorded without a key: unsigned, and said so
    monkeypatch.delenv("LEDGER_SIGNING_KEY")

    edited = position_of(imported, "adjustment")
    old = state_at(imported, published.position)
    forge_amount(imported, edited, 1)
    with imported.engine.connect() as conn:
        head = conn.execute(text("SELECT global_chain FROM ledger_chain WHERE position = :p"),
                            {"p": state["chain_position"]}).scalar()
    digest = tables_digest(formats.to_tsv(imported.tables(DEPARTMENT, YEAR, point=Point(position=published.position))))
    forged = old.replace(state["chain_head"].encode(), head.encode()).replace(state["tables_digest"].encode(),
                                                                               digest.encode())
    table, pos = events_table(imported)
    execute(imported, f"UPDATE {table} SET state = :s WHERE {pos} = :p", s=forged, p=published.position)
    rechain_from(imported, published.position)
    assert imported.verify().ok  # the forgery is consistent: plain verify cannot see it
    problems = imported.verify(public_key=public).problems
    assert any(f"位置 {published.position}" in p and "签名与记录的链头和表格摘要不符" in p for p in problems), problems
    assert len(problems) == 1


def test_a_signing_key_that_cannot_be_read_refuses_the_publication(imported, tmp_path, monkeypatch):
    from ledger.domain.budget import RuleViolation

    monkeypatch.setenv("LEDGER_SIGNING_KEY", str(tmp_path / "missing.key"))
    before = imported.last_position()
    with pytest.raises(RuleViolation, match="LEDGER_SIGNING_KEY"):
        imported.publish(DEPARTMENT, YEAR, Publish(name="调整预算", reason="年中调整"))
    assert imported.last_position() == before
