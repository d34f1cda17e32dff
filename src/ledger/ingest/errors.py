"""Problems with a document are values that point at their place (line, table, row; or, in a
PDF, page and position: `location`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .source import Location


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str
    table: str | None = None
    location: Location | None = None

    def __str__(self) -> str:
        where = []
        if self.location is not None:
            where.append(self.location.describe())
        elif self.line is not None:
            where.append(f"第{self.line}行")
        if self.table:
            where.append(self.table)
        return ("".join(f"[{w}]" for w in where) + " " if where else "") + self.message

    @property
    def page(self) -> int | None:
        return self.location.page if self.location is not None else None


class DocumentRejected(Exception):
    """The document cannot be recorded; nothing was recorded."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
