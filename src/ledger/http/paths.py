"""The paths of one budget: /api/budgets/{department}/{fiscal_year}/…, where a department's
name may contain "/" (e.g. 「财政局/国资办」), sent as it is or encoded as %2F (the server
decodes %2F before routing, so both arrive as "/").

The department's segment is matched by its own convertor: any characters, "/" included,
except a "/" that begins a segment of digits only (that segment is the year). So
/api/budgets/财政局/国资办/2024/tables/3 is the department 「财政局/国资办」, year 2024, table 3,
on every route; a name with "/" before digits only is refused where names enter
(domain/names.py `department`)."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class DepartmentConvertor(Convertor[str]):
    regex = r"(?:[^/]|/(?![0-9]+(?:/|$)))+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("department", DepartmentConvertor())

# The prefix of every route of one budget (the OpenAPI document shows it as {department}).
BUDGET = "/api/budgets/{department:department}/{fiscal_year}"
