"""Names and free text as the ledger records them (issue 21.7): one rule for commands, the HTTP
paths and the importers.

A name (of a department, unit, project or publication, an approval number) is normalised
before use, and refused when it carries what a reader cannot see:

- NFC (Unicode canonical composition): the same text typed two ways is one name. NFC also
  maps the CJK Compatibility Ideographs (U+F900–U+FAFF, U+2F800–U+2FA1F) that have a unified
  twin to that ideograph (the twelve of them that are unified ideographs themselves stay).
- **Folded** (NFKC of that character alone): Kangxi radicals (U+2F00–U+2FDF, e.g. ⼈ U+2F08 →
  人) and the two CJK Radicals Supplement characters with a compatibility mapping (⺟ U+2E9F →
  母, ⻳ U+2EF3 → 龟): they print as the ideograph, so "长治市住房公积金管理中心" written with a
  radical is the same department. Nothing else is folded: full-width punctuation （）： stays
  as disclosures print it, and full-width digits and letters stay as written, in commands as
  in the text importer (an amount in full-width digits is refused by both: 不是金额).
- **Refused**, with a message naming the field: the other CJK Radicals Supplement characters
  (U+2E80–U+2EFF: look-alikes with no ideograph to fold to), zero-width characters (U+200B–
  U+200F, U+2060, U+FEFF), bidirectional controls (U+202A–U+202E, U+2066–U+2069) and C0/C1
  control characters. In free text (reasons) tab and line feed are allowed; the rest is refused
  the same way, and the text is NFC-normalised (nothing folded: a reason is quoted as written).

Stored events keep their bytes: the rule applies where text enters (commands, imports, the
names in a request's path), never to what is already recorded.
"""

from __future__ import annotations

import re
import unicodedata

ZERO_WIDTH = frozenset([*map(chr, range(0x200B, 0x2010)), "\u2060", "\ufeff"])
BIDI = frozenset([*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))])
_RADICAL_SUPPLEMENT = (0x2E80, 0x2EFF)
# Hidden characters in a document's text (tab, line feed and carriage return allowed).
DOCUMENT_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
_FOLDED = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf]")
_LOOK_ALIKE = re.compile("[\u2e80-\u2eff]")
# A "/" followed by a segment of digits only: the HTTP paths could not tell it from the year.
_SLASH_YEAR = re.compile(r"/[0-9]+(?:/|$)")


class TextRefused(ValueError):
    """Text that cannot be recorded; the message (Chinese) names the field."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}{message}")


def describe(ch: str) -> str | None:
    """Why a character cannot be in recorded text (None: it may)."""
    code = ord(ch)
    if ch in ZERO_WIDTH:
        return f"不可见的零宽字符 U+{code:04X}"
    if ch in BIDI:
        return f"改变显示顺序的双向控制字符 U+{code:04X}"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"控制字符 U+{code:04X}"
    return None


def hidden(text: str, allowed: str = "") -> str | None:
    """Why `text` cannot be recorded because of a character in it, or None."""
    for ch in text:
        if ch not in allowed:
            why = describe(ch)
            if why:
                return why
    return None


def fold(text: str) -> str:
    """The name as it is compared and recorded: NFC, radicals folded (refuses nothing: for looking up what may have been recorded before, and for a
    document's whole text)."""
    if text.isascii():
        return text
    text = _FOLDED.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def look_alike(text: str) -> re.Match[str] | None:
    """Where `text` has a character that only looks like an ideograph and is not folded."""
    return _LOOK_ALIKE.search(text)


def name(value: str, field: str) -> str:
    """A name as recorded, or TextRefused naming the field."""
    why = hidden(value)
    if why:
        raise TextRefused(field, f"含有{why}, 不能记录")
    folded = fold(value)
    found = look_alike(folded)
    if found is not None:
        left = found.group()
        raise TextRefused(field, f"含有部首字符 {left} (U+{ord(left):04X}, CJK 部首补充), 它只像汉字; 请写规范汉字")
    if not folded.strip():
        raise TextRefused(field, "不能为空")
    return folded


def department(value: str, field: str = "部门名称") -> str:
    """A department's name as recorded: a name, and no "/" before a segment of digits (the API's
    paths /api/budgets/{department}/{fiscal_year} could not tell it from the year)."""
    folded = name(value, field)
    if _SLASH_YEAR.search(folded):
        raise TextRefused(field, f"「{folded}」中「/」后面是纯数字, 无法在接口路径中与年度区分; 请改写")
    return folded


def text(value: str, field: str) -> str:
    """Free text (a reason) as recorded: NFC, tab and line feed allowed, hidden characters refused."""
    why = hidden(value, allowed="\t\n")
    if why:
        raise TextRefused(field, f"含有{why}, 不能记录")
    return unicodedata.normalize("NFC", value)
