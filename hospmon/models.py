"""The pydantic base of config models kept as models (router, inventory, event rules).

Imported through `hospmon.config.StrictModel`, on first use: a process that validates only `Strict`
dataclasses in a child never loads pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base for config models: unknown keys are errors, values are immutable after load."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
