"""The JSON the API answers and accepts, as types: `serialize` builds these, `openapi` documents them."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from pydantic import Field, TypeAdapter

# pydantic reads TypedDicts from typing_extensions only, before Python 3.12 (pydantic depends on it).
from typing_extensions import TypedDict


class IncidentJson(TypedDict):
    """An incident as the API lists it."""

    id: int
    title: str
    status: str
    priority: str
    explanation: str
    owner_explanation: str
    severity: str
    alertname: str
    ci: str | None
    service: str | None
    team: str | None
    assignee: str | None
    departments: list[str]
    parent_id: int | None
    created_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    resolved_at: str | None
    closed_at: str | None
    escalation_step: int


class ErrorDetail(TypedDict):
    """What went wrong, with the id to find the request in the router's log."""

    status: int
    reason: str
    request_id: str


class ErrorJson(TypedDict):
    """The body of every error answer."""

    error: ErrorDetail


Text = Annotated[str, Field(max_length=10000)]
Prose = Annotated[
    str,
    Field(
        max_length=10000,
        description="Free text; refused (400, the field and the shape found) if it holds patient details: "
        "a name, ID, record, accession or sample number, phone or personal e-mail.",
    ),
]


class AssignBody(TypedDict):
    """Assign an incident to a person."""

    to: Text


class NoteBody(TypedDict):
    """Resolve or close an incident, with an optional note."""

    note: NotRequired[Prose]


class TextBody(TypedDict):
    """Add a note to an incident's timeline."""

    text: Prose


class SnoozeBody(TypedDict):
    """Quiet an open incident for some minutes; it pages again from step 1 unless resolved by then."""

    minutes: Annotated[int, Field(ge=1, le=1440)]


class ReassignBody(TypedDict):
    """Hand an incident to a team (its on-call person, unless `to` names one of it)."""

    team: NotRequired[Text]
    to: NotRequired[Text]


class MergeBody(TypedDict):
    """File an incident under another open one as caused by it."""

    into: int


class SplitBody(TypedDict):
    """Not caused by: free an incident from its cause, or move one of its alerts to an incident of its own."""

    alert_id: NotRequired[int]


SCHEMAS: tuple[type[Any], ...] = (
    IncidentJson,
    ErrorJson,
    AssignBody,
    NoteBody,
    TextBody,
    SnoozeBody,
    ReassignBody,
    MergeBody,
    SplitBody,
)


def json_schemas() -> dict[str, Any]:
    """Return the JSON Schema of every type above (and the types they use), by name."""
    found: dict[str, Any] = {}
    for kind in SCHEMAS:
        schema = TypeAdapter(kind).json_schema(ref_template="#/components/schemas/{model}")
        found.update(schema.pop("$defs", {}))
        found[kind.__name__] = schema
    return found
