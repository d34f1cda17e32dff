"""Signed checkpoints: tamper evidence that a forger with write access to the store cannot
recompute.

The hash chain (readmodel/chain.py) lives in the store: whoever can write an event can also
recompute its hashes with this very code and rebuild, and `verify` then passes. A checkpoint
is the chain as of one position, signed with an Ed25519 key that is kept outside the database
(`ledger keygen`): the last notification position, the global chain head over every event up
to it, each budget's chain head, the time, and a short fingerprint of every event (the first
4 bytes of its hash, so that a changed event can be named by its position). An auditor keeps
the checkpoint's JSON elsewhere; without the private key nobody can sign another one, so
`ledger verify --against CHECKPOINT.json --public-key PUB` proves that the store still
extends it: an event changed before its position, events missing (the log ending early, a
position reused with other content) and a budget chain that disagrees are all reported.

The signature covers the canonical JSON of every field but "signature" (keys sorted, UTF-8).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import insert, select

from ..readmodel import queries
from ..readmodel.chain import GENESIS, PAGE, chain, checkpoints, event_hash, link

if TYPE_CHECKING:
    from .ledger import Ledger

FORMAT = "ledger-checkpoint/1"
FINGERPRINT = 4  # bytes of each event's hash kept in a checkpoint


class CheckpointError(Exception):
    """A key or checkpoint that cannot be used (the message, in Chinese, says why)."""


# ------------------------------------------------------------------------------ keys

def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(out: Path) -> tuple[Path, Path, str]:
    """A new key pair: the private key (PKCS#8 PEM, readable by its owner only) at `out`, the
    public key (PEM) at `out`.pub. Refuses to overwrite either."""
    public_path = out.with_name(out.name + ".pub")
    for path in (out, public_path):
        if path.exists():
            raise CheckpointError(f"{path} 已存在, 未生成密钥 (不覆盖已有的密钥)")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise CheckpointError(f"无法写入 {out}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public = private.public_key()
    public_path.write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo))
    return out, public_path, key_id(public)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"无法读取私钥 {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} 不是未加密的 PEM 私钥 (用 ledger keygen 生成)") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} 不是 Ed25519 私钥 (用 ledger keygen 生成)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"无法读取公钥 {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} 不是 PEM 公钥 (ledger keygen 生成的 .pub 文件)") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} 不是 Ed25519 公钥")
    return key


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return orjson.dumps({k: v for k, v in body.items() if k != "signature"}, option=orjson.OPT_SORT_KEYS)


# ------------------------------------------------------------------------- making one

def _runs(positions: list[int]) -> list[list[int]]:
    """Positions as runs [first, last] of consecutive positions (PostgreSQL leaves gaps)."""
    runs: list[list[int]] = []
    for p in positions:
        if runs and runs[-1][1] == p - 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return runs


def make(ledger: Ledger, private: Ed25519PrivateKey) -> dict[str, Any]:
    """Sign the chain as recomputed from the stored events up to the last position, after
    checking it against the stored chain (nothing is signed over a chain already broken);
    store the checkpoint in ledger_checkpoints and return it."""
    log = ledger.log
    ledger.catch_up()  # the chain, and the read model for the budgets' names
    # Up to what the chain covers (events recorded meanwhile wait for the next checkpoint).
    last, _head = ledger.chain.head()
    if log.last_position() < last:
        raise CheckpointError(f"事件库到位置 {log.last_position()} 为止, 哈希链已记录到位置 {last}: "
                              "最后的事件被删除, 未签署检查点; 先运行 ledger verify")
    head = GENESIS
    budgets: dict[str, dict[str, Any]] = {}
    positions: list[int] = []
    prints = bytearray()
    start = 0
    while start < last:
        page = [n for n in log.notifications(start, PAGE) if n.id <= last]
        if not page:
            break
        with ledger.engine.connect() as conn:
            stored = {r.position: r for r in conn.execute(
                select(chain).where(chain.c.position > start, chain.c.position <= page[-1].id))}
        for n in page:
            h = event_hash(n)
            bid = str(n.originator_id)
            budget = budgets.setdefault(bid, {"version": 0, "head": GENESIS})
            budget["head"] = link(budget["head"], h, n.originator_version)
            budget["version"], budget["position"] = n.originator_version, n.id
            head = link(head, h, n.id)
            row = stored.get(n.id)
            if row is None or row.event_hash != h or row.global_chain != head or row.budget_chain != budget["head"]:
                raise CheckpointError(f"位置 {n.id}: 事件与哈希链 (ledger_chain) 不符, 未签署检查点; "
                                      "先运行 ledger verify 查明原因")
            positions.append(n.id)
            prints += bytes.fromhex(h[: 2 * FINGERPRINT])
        start = page[-1].id
    with ledger.engine.connect() as conn:
        for b in queries.list_budgets(conn):
            if b.budget_id in budgets:
                budgets[b.budget_id].update(department=b.department, fiscal_year=b.fiscal_year)
    public = private.public_key()
    created = datetime.now(timezone.utc)
    body: dict[str, Any] = {
        "format": FORMAT,
        "position": positions[-1] if positions else 0,
        "events": len(positions),
        "chain_head": head,
        "budgets": budgets,
        "created_at": created.isoformat(timespec="seconds"),
        "key_id": key_id(public),
        "public_key": base64.b64encode(public.public_bytes(serialization.Encoding.Raw,
                                                           serialization.PublicFormat.Raw)).decode(),
        "positions": _runs(positions),
        "fingerprint_bytes": FINGERPRINT,
        "fingerprints": base64.b64encode(bytes(prints)).decode(),
    }
    body["signature"] = base64.b64encode(private.sign(canonical(body))).decode()
    with ledger.engine.begin() as conn:
        conn.execute(insert(checkpoints).values(position=body["position"], created_at=created,
                                                key_id=body["key_id"], document=orjson.dumps(body).decode()))
    return body


def latest(ledger: Ledger) -> str | None:
    """The latest stored checkpoint's JSON, as it was signed (None: there is none)."""
    with ledger.engine.connect() as conn:
        return conn.execute(select(checkpoints.c.document).order_by(checkpoints.c.id.desc()).limit(1)).scalar()


# ------------------------------------------------------------------------ checking one

def load(document: bytes, public: Ed25519PublicKey, where: str = "检查点") -> dict[str, Any]:
    """A checkpoint whose signature the public key verifies; CheckpointError otherwise."""
    try:
        body = orjson.loads(document)
    except orjson.JSONDecodeError as exc:
        raise CheckpointError(f"{where} 不是 JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise CheckpointError(f"{where} 不是本系统的检查点 (format 应为 {FORMAT})")
    try:
        signature = base64.b64decode(body["signature"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{where} 缺少签名或签名不是 base64 (signature)") from exc
    expected = key_id(public)
    if body.get("key_id") != expected:
        raise CheckpointError(f"{where} 不是由此公钥签署的 (检查点的 key_id 为 {body.get('key_id')}, "
                              f"给出的公钥为 {expected}), 拒绝使用")
    try:
        public.verify(signature, canonical(body))
    except InvalidSignature as exc:
        raise CheckpointError(f"{where} 的签名与此公钥不符 (检查点内容被改动, 或由另一把私钥签署), 拒绝使用") from exc
    try:
        _check_shape(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{where} 的字段不完整 ({type(exc).__name__}: {exc})") from exc
    return body


def _check_shape(body: dict[str, Any]) -> None:
    int(body["position"]), int(body["events"]), str(body["chain_head"])
    for item in body["budgets"].values():
        int(item["version"]), str(item["head"])
    prints = base64.b64decode(body["fingerprints"], validate=True)
    count = sum(last - first + 1 for first, last in body["positions"])
    if count != body["events"] or len(prints) != count * int(body["fingerprint_bytes"]):
        raise ValueError("positions / fingerprints 与 events 的数目不符")


@dataclass
class Against:
    """The stored events compared, one at a time in position order, with a checkpoint."""

    checkpoint: dict[str, Any]
    after: int = 0  # events recorded after the checkpoint's position
    problems: dict[str, str] = field(default_factory=dict)
    _heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    _head: str = GENESIS

    def __post_init__(self) -> None:
        self.position = int(self.checkpoint["position"])
        self.size = int(self.checkpoint["fingerprint_bytes"])
        self.prints = base64.b64decode(self.checkpoint["fingerprints"])
        self._expected = self._positions()
        self._next = next(self._expected, None)
        self.signed_at = f"检查点 (位置 {self.position}, {self.checkpoint['created_at']} 签署)"

    def _positions(self) -> Iterator[tuple[int, bytes]]:
        i = 0
        for first, last in self.checkpoint["positions"]:
            for p in range(first, last + 1):
                yield p, self.prints[i * self.size:(i + 1) * self.size]
                i += 1

    def _missing(self, position: int) -> None:
        self.problems.setdefault("missing", f"位置 {position}: {self.signed_at}中的事件已不在事件库中 (被删除)")

    def event(self, n: Any, h: str, budget_head: str, global_head: str) -> None:
        if n.id > self.position:
            self.after += 1
            return
        while self._next is not None and self._next[0] < n.id:
            self._missing(self._next[0])
            self._next = next(self._expected, None)
        if self._next is not None and self._next[0] == n.id:
            if bytes.fromhex(h[: 2 * self.size]) != self._next[1]:
                self.problems.setdefault("changed", f"位置 {n.id}: 事件内容与{self.signed_at}时不同 "
                                                    "(被修改, 或被删除后此位置记录了其他内容)")
            self._next = next(self._expected, None)
        else:
            self.problems.setdefault("inserted", f"位置 {n.id}: {self.signed_at}时没有此事件 (事后插入)")
        self._heads[str(n.originator_id)] = (n.originator_version, budget_head)
        self._head = global_head

    def finish(self, last_position: int) -> list[str]:
        if self._next is not None:
            self._missing(self._next[0])
        if last_position < self.position:
            self.problems["truncated"] = (f"事件库到位置 {last_position} 为止, 而{self.signed_at}时已到位置 "
                                          f"{self.position}: 最后的事件被删除")
        for bid, signed in self.checkpoint["budgets"].items():
            version, head = self._heads.get(bid, (0, GENESIS))
            if (version, head) != (signed["version"], signed["head"]):
                name = f"{signed.get('department', '')} {signed.get('fiscal_year', '')}年".strip()
                self.problems.setdefault(
                    "budget", f"预算 {bid} ({name}): 哈希链与{self.signed_at}不符 (检查点: 版本 {signed['version']}; "
                              f"由事件重算: 版本 {version}{', 链头不同' if version == signed['version'] else ''})")
        for bid in set(self._heads) - set(self.checkpoint["budgets"]):
            self.problems.setdefault("budget", f"预算 {bid}: {self.signed_at}时没有此预算的事件 (事后插入)")
        if not self.problems and self._head != self.checkpoint["chain_head"]:
            self.problems["head"] = f"位置 {self.position}: 由事件重算的全局链头与{self.signed_at}不符"
        return list(self.problems.values())


# --------------------------------------------------------------------- publications

def publication_signer(private: Ed25519PrivateKey):
    """What Budget.publish calls to sign a publication's anchor: its fields → (signature, key id)."""
    kid = key_id(private.public_key())

    def sign(anchor: dict[str, Any]) -> tuple[str, str]:
        return base64.b64encode(private.sign(canonical(anchor))).decode(), kid

    return sign


def check_publication(state: dict[str, Any], budget: str, public: Ed25519PublicKey) -> str | None:
    """None when a stored publication's signature verifies with the key; else why not."""
    if not state.get("signature"):
        return "未签名"
    if state.get("key_id") != key_id(public):
        return f"由另一把密钥签名 (key_id {state.get('key_id')})"
    anchor = {"budget": budget, "name": state["name"], "chain_position": state["chain_position"],
              "chain_head": state["chain_head"], "tables_digest": state["tables_digest"], "layout": state.get("layout")}
    try:
        public.verify(base64.b64decode(state["signature"]), canonical(anchor))
    except (InvalidSignature, ValueError):
        return "签名与记录的链头和表格摘要不符"
    return None


def signing_key_from_env() -> Ed25519PrivateKey | None:
    """The key that signs publications: LEDGER_SIGNING_KEY (a private key file of `ledger keygen`)."""
    path = os.environ.get("LEDGER_SIGNING_KEY", "").strip()
    return load_private_key(Path(path)) if path else None
