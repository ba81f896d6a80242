"""Every scenario file in this folder, run through Alertmanager, the router, its worker and the sinks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hospmon.config import load
from tests.scenarios.chain import Chain
from tests.scenarios.checks import check
from tests.scenarios.model import Scenario
from tests.scenarios.runner import ScenarioRun
from tests.scenarios.setup import local_time

HERE = Path(__file__).parent


def _case(path: Path) -> Any:
    scenario = load(Scenario, path)
    marks = []
    if scenario.xfail:
        why = f"bug {scenario.xfail.bug} of issue 13: {scenario.xfail.reason}"
        marks.append(pytest.mark.xfail(strict=True, reason=why))
    return pytest.param(path, marks=marks, id=path.stem)


@pytest.mark.parametrize("path", [_case(p) for p in sorted(HERE.glob("*.yml"))])
def test_scenario(path: Path, chain: Chain, router_template: Path, tmp_path: Path) -> None:
    scenario = load(Scenario, path)
    run = ScenarioRun(scenario, path.stem, chain, tmp_path, router_template)
    try:
        start = local_time(scenario.start, dt.date.min).date()
        day = start
        for step in scenario.steps:
            day = local_time(step.at, day).date()
            run.do(step, day)
            if step.expect:
                check(run, step.expect, day)
        check(run, scenario.expect, start)
    finally:
        run.close()
