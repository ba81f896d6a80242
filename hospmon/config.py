"""Typed YAML configuration: load once, validate everything, report every fault at once.

Every configuration file in hospmon (inventory, exporter configs, web config, router policy) is read through
`load_yaml` and validated with pydantic through `validate`: against a `StrictModel`, or against a frozen
dataclass deriving from `Strict`. A fault is reported as ``FILE: ENTRY: KEY: problem`` so the reader knows
where to look and what to change, and all faults of a file come in one `ConfigError` raised at start-up.

Importing this module does not import pydantic (it costs an exporter ~11 MiB for the process' life):
an exporter validates its config in a short-lived child process and serves with the plain dataclasses it
gets back (`exporters/core/isolate.py`). `StrictModel` is built on first use for the router, the inventory
and the event receiver, which keep pydantic models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from pydantic import ValidationError

    from hospmon.models import StrictModel as StrictModel  # noqa: PLC0414 - re-exported for mypy

T = TypeVar("T")

# Keys that would hold a secret in the config itself; every one has a *_file or *_env alternative.
SECRET_KEYS = frozenset(
    {"password", "passwd", "token", "secret", "client_secret", "priv_password", "community", "bearer_token"}
)


def __getattr__(name: str) -> type[StrictModel]:
    """Build `StrictModel` (and import pydantic) only for the code that asks for it."""
    if name == "StrictModel":
        from hospmon.models import StrictModel

        return StrictModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Strict:
    """Base of config dataclasses: validated as strictly as a `StrictModel`, plain objects once loaded.

    Declare them ``@dataclass(frozen=True, kw_only=True)``; pydantic reads ``__pydantic_config__`` when it
    validates one (unknown keys are errors, text is stripped), and nothing of pydantic stays in them.
    """

    __pydantic_config__: ClassVar[dict[str, object]] = {"extra": "forbid", "str_strip_whitespace": True}


class Check:
    """A check on a config dataclass field, as ``Annotated[str, Check(fn)]``: `fn` returns the value or raises
    `ValueError` with the message the fault carries. It runs after pydantic's own checks of the type, or
    before them with ``before=True`` (to turn text into the type). Only a validating process runs it."""

    def __init__(self, check: Callable[[Any], Any], *, before: bool = False) -> None:
        self.check = check
        self.before = before

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        """Wrap the field's schema with the check (pydantic's hook; imported lazily)."""
        from pydantic_core import core_schema

        if self.before:
            return core_schema.no_info_before_validator_function(self.check, handler(source))
        return core_schema.no_info_after_validator_function(self.check, handler(source))


@dataclass(frozen=True)
class ConfigFault:
    """One fault in one configuration file: where it is and what is wrong."""

    file: str
    entry: str
    key: str
    message: str

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.entry, self.key) if part)
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """Every fault found in a configuration, raised once at start-up or reload."""

    def __init__(self, faults: Iterable[ConfigFault]) -> None:
        self.faults = list(faults)
        super().__init__("\n".join(str(f) for f in self.faults))

    @classmethod
    def single(cls, file: str | Path, message: str, *, entry: str = "", key: str = "") -> ConfigError:
        """Build an error holding one fault."""
        return cls([ConfigFault(str(file), entry, key, message)])


@cache
def yaml_loader() -> Any:
    """Return the safe loader that leaves dates as text, so a bad date is reported by validation.

    libyaml's parser where PyYAML was built with it: a 5,000-CI inventory loads 4x faster and leaves 14 MiB
    less behind in a process that keeps running (the router's master and every worker forked from it).
    Built on first use: an exporter's serving process, which reads no YAML itself, never imports PyYAML.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a PyYAML built without libyaml has only this
    loader: Any = type("Loader", (base,), {})
    loader.add_constructor("tag:yaml.org,2002:timestamp", loader.construct_yaml_str)
    return loader


def read_text(path: str | Path, *, key: str = "") -> str:
    """Read a UTF-8 text file, turning I/O and decoding errors into a `ConfigError` naming file and offset."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError.single(path, f"cannot read file: {exc.strerror or exc}", key=key) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError.single(
            path,
            f"not UTF-8: byte offset {exc.start} (line {line}) cannot be decoded; save the file as UTF-8 "
            "(a comment typed in an editor set to GBK is the usual cause)",
            key=key,
        ) from None


def load_yaml(path: str | Path) -> Any:
    """Parse one YAML file, turning I/O, decoding and syntax errors into a `ConfigError` naming the file."""
    import yaml

    path = Path(path)
    text = read_text(path)
    try:
        return yaml.load(text, Loader=yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError.single(path, f"invalid YAML: {problem}", entry=where) from exc


def _entry_and_key(loc: Sequence[int | str], data: Any, id_field: str) -> tuple[str, str]:
    """Split a pydantic error location into a readable entry (``cis[core-sw-1]``) and the failing key."""
    entry_parts: list[str] = []
    node = data
    consumed = 0
    for i, part in enumerate(loc):
        if isinstance(part, int) and isinstance(node, list):
            item = node[part] if part < len(node) else None
            ident = item.get(id_field) if isinstance(item, dict) else None
            label = f"[{ident}]" if isinstance(ident, str | int) else f"[{part}]"
            if entry_parts:
                entry_parts[-1] += label
            else:
                entry_parts.append(label)
            node = item
            consumed = i + 1
            continue
        if isinstance(node, dict) and isinstance(part, str) and i + 1 < len(loc) and part in node:
            nxt = node[part]
            if isinstance(nxt, list | dict) and isinstance(loc[i + 1], int | str):
                entry_parts.append(part)
                node = nxt
                consumed = i + 1
                continue
        break
    key = ".".join(str(p) for p in loc[consumed:])
    if not key and entry_parts:
        key = entry_parts.pop()
    return ".".join(entry_parts), key


class OneOf:
    """A union chosen by one key of the entry: ``Annotated[A | B, OneOf("prober", {"a": A, "b": B}, "a")]``.

    An entry is validated only as the class its key names (`default` when the key is absent), and a key
    naming none of them is one fault saying which it may be.
    """

    def __init__(self, key: str, choices: dict[str, type], default: str | None = None) -> None:
        self.key = key
        self.choices = choices
        self.default = default

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        """Build pydantic's discriminated union (pydantic's hook; imported lazily)."""
        from typing import Annotated, Union

        from pydantic import Discriminator, Tag

        def tag(value: Any) -> str:
            if isinstance(value, dict):
                return str(value.get(self.key, self.default))
            return str(getattr(value, self.key, self.default))

        names = list(self.choices)
        listed = " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)
        members = tuple(Annotated[cls, Tag(name)] for name, cls in self.choices.items())
        union = Annotated[
            Union[members],  # type: ignore[valid-type]  # noqa: UP007 - built at run time from the choices
            Discriminator(
                tag, custom_error_type=self.key, custom_error_message=f"{self.key} must be {listed}"
            ),
        ]
        return handler.generate_schema(union)


# pydantic's error types for an unknown and a missing key, on models and on dataclasses
_UNKNOWN = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
_MISSING = frozenset({"missing", "missing_keyword_argument"})


def faults_from_validation(
    file: str | Path, exc: ValidationError, data: Any, *, id_field: str = "id"
) -> list[ConfigFault]:
    """Turn a pydantic error into faults naming file, entry and key."""
    faults = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        entry, key = _entry_and_key(loc, data, id_field)
        msg = err["msg"]
        if err["type"] in _UNKNOWN and loc and str(loc[-1]).lower() in SECRET_KEYS:
            msg = (
                f"a secret written into the config; put it in a file only the service can read and give "
                f"{loc[-1]}_file (or {loc[-1]}_env)"
            )
        elif err["type"] in _UNKNOWN:
            msg = "unknown key; remove it or check its spelling"
        elif err["type"] in _MISSING:
            msg = "required key is missing; add it"
        faults.append(ConfigFault(str(file), entry, key, msg))
    return faults


_ADAPTERS: dict[Any, Any] = {}


def validate(schema: type[T], data: Any, file: str | Path, *, id_field: str = "id") -> T:
    """Validate parsed YAML against a model or a `Strict` dataclass, raising one `ConfigError` with every
    fault."""
    from pydantic import BaseModel, TypeAdapter, ValidationError

    if data is None:
        data = {}
    try:
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return schema.model_validate(data)
        adapter = _ADAPTERS.get(schema)
        if adapter is None:
            adapter = _ADAPTERS[schema] = TypeAdapter(schema)
        result: T = adapter.validate_python(data)
        return result
    except ValidationError as exc:
        raise ConfigError(faults_from_validation(file, exc, data, id_field=id_field)) from None


def load(schema: type[T], path: str | Path, *, id_field: str = "id") -> T:
    """Read and validate one YAML file."""
    return validate(schema, load_yaml(path), path, id_field=id_field)


def read_secret(file: str | Path | None, env: str | None, *, what: str, config_file: str | Path) -> str:
    """Read a secret from a file or an environment variable, never from the config itself."""
    import os

    if file:
        try:
            raw = Path(file).read_bytes()
        except OSError as exc:
            raise ConfigError.single(
                config_file, f"cannot read secret file {file}: {exc.strerror}", key=what
            ) from exc
        try:
            return raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            # The offset only: the bytes are the secret.
            raise ConfigError.single(
                config_file, f"secret file {file} is not UTF-8 (byte offset {exc.start})", key=what
            ) from None
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError.single(config_file, f"environment variable {env} is not set", key=what)
        return value
    raise ConfigError.single(config_file, "give the secret as a *_file or *_env key", key=what)
