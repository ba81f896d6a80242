"""Asset lists in and out: the equipment department's 1,000-row 资产台账 with five bad rows, then the
inventory back out to XLSX and CSV for finance, and in again unchanged."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml

from hospmon.inventory import load_inventory
from hospmon.inventory.assets import import_assets, load_mapping, write_assets

REPO = Path(__file__).resolve().parents[2]
MAPPING = Path(__file__).parent / "asset-mapping.yml"
HEADER = ["资产编号", "设备名称", "类别", "所属系统", "品牌", "型号", "序列号", "安装位置", "使用科室"]
HEADER += ["购置日期", "保修截止", "供应商", "维保合同"]
KINDS = [("交换机", "网络", "华为", "S5735-L48T4X"), ("服务器", "HIS", "浪潮", "NF5280M6")]
KINDS += [("UPS", "机房", "山特", "C10KS"), ("存储", "PACS", "华为", "OceanStor 5310")]
DEPARTMENTS = ["急诊科", "信息科", "检验科", "放射科", "门诊"]
# (sheet row, column, the bad value, what the report must say)
BAD = {
    101: ("购置日期", "2019-13-45", "is not a date"),
    202: ("类别", "打印机", "'打印机' has no entry under values.kind in the mapping"),
    303: ("资产编号", "ZC-2019-00002", "is also on row 3"),
    404: ("保修截止", dt.datetime(2017, 1, 1), "warranty ends before purchase"),
    505: ("使用科室", "rehab", "unknown department 'rehab' in the inventory"),
}


def _row(n: int) -> list[object]:
    kind, system, brand, model = KINDS[n % len(KINDS)]
    bought = dt.datetime(2018 + n % 5, 1 + n % 12, 1 + n % 28)
    serial: object = 2102350000 + n if n % 7 == 0 else f"SN{n:06d}"  # some typed as numbers
    purchased: object = bought if n % 3 else bought.strftime("%Y/%m/%d")  # some typed as text
    return [f"ZC-2019-{n:05d}", f"{kind} {n}", kind, system, brand, model, serial, f"门诊楼 {n % 9 + 1} 层",
            DEPARTMENTS[n % len(DEPARTMENTS)], purchased, bought.replace(year=bought.year + 5),
            "华信科技有限公司", f"WB-{2018 + n % 5}-{n % 40:03d}"]  # fmt: skip


@pytest.fixture(scope="module")
def asset_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the 1,000-row sheet; the header is row 1, so asset n is on row n + 1."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "资产台账"
    sheet.append(HEADER)
    for n in range(1, 1001):
        row = _row(n)
        if n + 1 in BAD:
            column, value, _ = BAD[n + 1]
            row[HEADER.index(column)] = value
        sheet.append(row)
    path = tmp_path_factory.mktemp("assets") / "资产台账-2024.xlsx"
    book.save(path)
    return path


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the demo hospital's departments, teams and services, without its CIs."""
    folder = tmp_path_factory.mktemp("hospital")
    for name in ("00-hospital.yml", "10-departments.yml", "20-teams.yml", "30-services.yml"):
        shutil.copy(REPO / "demo" / "inventory" / name, folder / name)
    return folder


def test_995_rows_imported_and_the_five_bad_ones_reported(asset_list: Path, hospital: Path) -> None:
    result = import_assets(asset_list, load_mapping(MAPPING), load_inventory(hospital))
    assert (result.rows, len(result.cis)) == (1000, 995)
    found = {(p.row, p.column): p.message for p in result.problems}
    assert sorted(found) == sorted((row, column) for row, (column, _, _) in BAD.items())
    for row, (column, _, words) in BAD.items():
        assert words in found[(row, column)], (row, column, found[(row, column)])
    ci = next(c for c in result.cis if c.asset_number == "ZC-2019-00007")
    assert (ci.id, ci.kind.value, ci.service, ci.department, ci.serial) == (
        "zc-2019-00007", "storage", "pacs", "lab", "2102350007")  # fmt: skip
    assert ci.purchased == dt.date(2020, 8, 8) and ci.warranty_end == dt.date(2025, 8, 8)


def test_cli_writes_the_good_rows_and_names_the_bad(asset_list: Path, hospital: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported.yml"
    cmd = [
        sys.executable,
        "-m",
        "hospmon.cli",
        "inventory",
        "import",
        str(asset_list),
        "--mapping",
        str(MAPPING),
    ]
    result = subprocess.run(
        [*cmd, "--out", str(out), "--inventory", str(hospital)], capture_output=True, text=True
    )
    assert result.returncode == 4, result.stderr
    assert "995 of 1000 rows imported" in result.stdout
    assert "row 101, column 购置日期: '2019-13-45' is not a date" in result.stderr
    assert "row 202, column 类别: '打印机' has no entry under values.kind in the mapping" in result.stderr
    assert len(yaml.safe_load(out.read_text(encoding="utf-8"))["cis"]) == 995
    into = subprocess.run(
        [*cmd, "--out", str(hospital / "x.yml"), "--inventory", str(hospital)], capture_output=True, text=True
    )
    assert into.returncode == 1 and "never writes the inventory" in into.stderr


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_round_trips(
    asset_list: Path, hospital: Path, tmp_path: Path, suffix: str
) -> None:
    mapping = load_mapping(MAPPING)
    first = import_assets(asset_list, mapping, load_inventory(hospital))
    folder = tmp_path / "inv"
    shutil.copytree(hospital, folder)
    cis = [ci.model_dump(mode="json", exclude_defaults=True) for ci in first.cis]
    (folder / "40-assets.yml").write_text(yaml.safe_dump({"cis": cis}, allow_unicode=True), encoding="utf-8")
    inv = load_inventory(folder)
    out = tmp_path / f"export{suffix}"
    assert write_assets(inv, mapping, out) == len(cis)
    again = import_assets(out, mapping, inv)
    assert again.problems == []
    assert sorted(c.model_dump_json() for c in again.cis) == sorted(
        c.model_dump_json() for c in inv.cis.values()
    )
