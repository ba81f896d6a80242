"""Asset lists in and out: the XLSX and CSV sheets finance and equipment departments keep, through a column
mapping file, to and from inventory CIs.

    # mapping.yml: inventory field -> the sheet's column header
    sheet: 资产台账            # optional; the first sheet otherwise
    columns: {asset_number: 资产编号, name: 设备名称, kind: 类别, service: 所属系统, model: 型号,
              serial: 序列号, location: 安装位置, department: 使用科室, purchased: 购置日期,
              warranty_end: 保修截止, supplier: 供应商, contract: 维保合同, vendor: 品牌}
    values: {kind: {交换机: switch, 服务器: server}}   # words in the sheet -> inventory values
    defaults: {service: network}                      # where the sheet has no column or an empty cell

Every row is checked on its own; a bad row is reported with its row number and column header and left out,
the good ones are kept. The id is the ``id`` column when mapped, else the asset number made id-safe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from pydantic import Field, ValidationError, model_validator

from hospmon.config import StrictModel, load
from hospmon.inventory.model import Inventory
from hospmon.inventory.schema import ConfigurationItem

FIELDS = set(ConfigurationItem.model_fields) - {"monitor", "depends_on"}
DATE_FIELDS = {"purchased", "warranty_end"}
_NOT_ID = re.compile(r"[^a-z0-9._-]+")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


class Mapping(StrictModel):
    """How a sheet's columns become CI fields."""

    sheet: str | None = None
    columns: dict[str, str] = Field(min_length=1)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_fields(self) -> Mapping:
        unknown = sorted((set(self.columns) | set(self.values) | set(self.defaults)) - FIELDS)
        if unknown:
            raise ValueError(f"unknown CI field(s) {', '.join(unknown)}; use {', '.join(sorted(FIELDS))}")
        if "id" not in self.columns and "asset_number" not in self.columns:
            raise ValueError("map an id or an asset_number column: every CI needs an id")
        return self


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file."""
    return load(Mapping, path)


@dataclass(frozen=True)
class Problem:
    """Why one cell (or row) was refused."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class Imported:
    """The CIs read from a sheet and the rows refused."""

    cis: list[ConfigurationItem]
    problems: list[Problem]
    rows: int


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a serial typed as a number
    return str(value).strip()


def read_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, dict[str, object]]]:
    """Yield (sheet row number, {header: cell}) of an XLSX or CSV file, from the row after the header."""
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for codec in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GB18030
            try:
                text = raw.decode(codec)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValueError(f"{path}: neither UTF-8 nor GB18030 text")
        for n, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
            yield n, dict(row)
        return
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ValueError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [_cell_text(h) for h in next(rows, ())]
        for n, values in enumerate(rows, start=2):
            if any(v not in (None, "") for v in values):
                yield n, dict(zip(header, values, strict=False))
    finally:
        book.close()


def _date(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _cell_text(value)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date; write it as 2024-03-31")


def _row_to_ci(n: int, row: dict[str, object], mapping: Mapping) -> tuple[dict[str, Any], list[Problem]]:
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    for field, header in mapping.columns.items():
        cell = row.get(header)
        if field in DATE_FIELDS and cell not in (None, ""):
            try:
                data[field] = _date(cell)
            except ValueError as exc:
                problems.append(Problem(n, header, str(exc)))
            continue
        text = _cell_text(cell)
        words = mapping.values.get(field)
        if text and words is not None:
            if text not in words and not _ID.fullmatch(text):  # ids pass through; other words need an entry
                problems.append(
                    Problem(n, header, f"{text!r} has no entry under values.{field} in the mapping")
                )
                continue
            text = words.get(text, text)
        if text:
            data[field] = {"zh": text} if field == "name" else text
    for field, value in mapping.defaults.items():
        data.setdefault(field, value)
    if "id" not in data and data.get("asset_number"):
        data["id"] = _NOT_ID.sub("-", str(data["asset_number"]).lower()).strip("-._")[:64]
    return data, problems


def import_assets(path: Path, mapping: Mapping, inv: Inventory | None = None) -> Imported:
    """Read every row; keep the valid ones as CIs, report the others with row and column."""
    header_of = {field: header for field, header in mapping.columns.items()}
    cis: list[ConfigurationItem] = []
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    count = 0
    for n, row in read_rows(path, mapping.sheet):
        count += 1
        data, found = _row_to_ci(n, row, mapping)
        if not found:
            try:
                ci = ConfigurationItem.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    field = str(err["loc"][0]) if err["loc"] else "id"
                    column = header_of.get(
                        field, field if field != "id" else header_of.get("asset_number", "id")
                    )
                    found.append(Problem(n, column, err["msg"]))
            else:
                found = _cross_checks(n, ci, inv, first_row, header_of)
                if not found:
                    cis.append(ci)
                    first_row[ci.id] = n
        problems.extend(found)
    return Imported(cis, problems, count)


def _cross_checks(
    n: int, ci: ConfigurationItem, inv: Inventory | None, first_row: dict[str, int], header_of: dict[str, str]
) -> list[Problem]:
    out = []
    id_column = header_of.get("id") or header_of["asset_number"]
    if ci.id in first_row:
        out.append(Problem(n, id_column, f"{ci.id!r} is also on row {first_row[ci.id]}"))
    if ci.purchased and ci.warranty_end and ci.warranty_end < ci.purchased:
        out.append(Problem(n, header_of.get("warranty_end", "warranty_end"), "warranty ends before purchase"))
    if inv is not None:
        known: list[tuple[str, str | None, set[str]]] = [
            ("service", ci.service, set(inv.services)),
            ("department", ci.department, set(inv.departments)),
            ("owner", ci.owner, set(inv.teams)),
        ]
        for field, value, table in known:
            if value and value not in table:
                message = f"unknown {field} {value!r} in the inventory"
                out.append(Problem(n, header_of.get(field, field), message))
    return out


def export_rows(inv: Inventory, mapping: Mapping) -> tuple[list[str], list[list[object]]]:
    """Return the header and one row per CI, in the mapping's column order (dates stay dates)."""
    reverse = {field: {v: k for k, v in words.items()} for field, words in mapping.values.items()}
    header = list(mapping.columns.values())
    rows = []
    for ci in sorted(inv.cis.values(), key=lambda c: c.id):
        row: list[object] = []
        for field in mapping.columns:
            value: object = getattr(ci, field)
            if field == "name":
                value = (ci.name.zh or ci.name.en) if ci.name else ""
            elif hasattr(value, "value"):
                value = value.value  # an enum such as kind
            if isinstance(value, str) and field in reverse:
                value = reverse[field].get(value, value)
            row.append("" if value is None else value)
        rows.append(row)
    return header, rows


def write_assets(inv: Inventory, mapping: Mapping, out: Path) -> int:
    """Write the inventory's CIs as an XLSX or CSV asset list; return the number of rows."""
    header, rows = export_rows(inv, mapping)
    if out.suffix.lower() == ".csv":
        with out.open("w", encoding="utf-8-sig", newline="") as handle:  # the BOM makes Excel read UTF-8
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([[v.isoformat() if isinstance(v, dt.date) else v for v in r] for r in rows])
        return len(rows)
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = mapping.sheet or "assets"
    ws.append(header)
    for row in rows:
        ws.append(row)
    for cells, field in zip(ws.iter_cols(min_row=2), mapping.columns, strict=False):
        if field in DATE_FIELDS:
            for cell in cells:
                cell.number_format = "yyyy-mm-dd"
    book.save(out)
    return len(rows)
