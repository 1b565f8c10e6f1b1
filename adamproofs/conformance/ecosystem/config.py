"""The ecosystem matrix's configuration: a TOML file, validated into :class:`Config`.

Layout (every key not listed is refused, naming the key and what is allowed)::

    [run]                       # optional; the defaults of the run
    profile = "default"         # quick | default | thorough
    seeds = [0]
    dtypes = ["float32", "float64", "float16", "bfloat16"]
    properties = ["agreement", ...]     # optional; default: every property

    [libraries.torch]
    pip = ["torch==2.13.0"]     # what pip installs beside adamproofs (version ranges)
    modules = ["torch"]         # importable modules whose versions the page reports

    [[implementations]]
    id = "torch-adam"           # unique, [a-z0-9][a-z0-9_.-]*
    library = "torch"           # a key of [libraries]
    target = "torch"            # a built-in target name or module.path:attr
    kind = "torch"              # optional: the adapter to use for module.path:attr
    options = {foreach = false} # optional: the target's options (adamproofs check --option)
    variant = "paper"           # optional: the claimed variant (adamproofs check --variant)
    dtypes = ["float32"]        # optional: a subset of the run's dtypes
    note = "torch.optim.Adam"   # optional: shown on the page
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ...dtypes import as_dtype
from ...errors import ConfigError
from ...variants import parse_variant
from .._runner import PROFILES
from .._targets import BUILTINS, KINDS
from ..properties import PROPERTIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Target names and kinds of adapters that a build may or may not register; an entry naming
#: one that this build lacks is reported as "no adapter" instead of being run.
OPTIONAL_TARGETS: tuple[str, ...] = ("mlx", "tinygrad", "tensorflow")
OPTIONAL_KINDS: tuple[str, ...] = ("mlx", "tinygrad", "tensorflow", "functional")

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")
LIBRARY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
TARGET_PATTERN = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*\Z")
_CLAUSE = r"\s*(===|==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9.*+!_-]+\s*"
REQUIREMENT_PATTERN = re.compile(
    rf"[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,-]+\])?\s*({_CLAUSE}(,{_CLAUSE})*)?\Z"
)

TOP_KEYS = ("run", "libraries", "implementations")
RUN_KEYS = ("profile", "seeds", "dtypes", "properties")
LIBRARY_KEYS = ("pip", "modules")
ENTRY_KEYS = ("id", "library", "target", "kind", "options", "variant", "dtypes", "note")
DEFAULT_DTYPES = ("float32", "float64", "float16", "bfloat16")


def shipped_config() -> Path:
    """The ``ecosystem.toml`` shipped with the package."""
    return Path(str(resources.files(__package__).joinpath("ecosystem.toml")))


@dataclass(frozen=True)
class Library:
    """A library and what pip installs for it (beside adamproofs)."""

    name: str
    pip: tuple[str, ...]
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One implementation of the matrix."""

    id: str
    library: str
    target: str
    kind: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    variant: str | None = None
    dtypes: tuple[str, ...] | None = None
    note: str = ""

    @property
    def adapter_needed(self) -> str | None:
        """The optional adapter (:data:`OPTIONAL_TARGETS`, :data:`OPTIONAL_KINDS`) this entry
        needs, or None when it only needs the built-in ones."""
        if self.kind in OPTIONAL_KINDS:
            return self.kind
        if self.target in OPTIONAL_TARGETS:
            return self.target
        return None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "id": self.id,
            "library": self.library,
            "target": self.target,
            "kind": self.kind,
            "options": dict(self.options),
            "variant": self.variant,
            "dtypes": list(self.dtypes) if self.dtypes is not None else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class Config:
    """A validated configuration."""

    libraries: Mapping[str, Library]
    entries: tuple[Entry, ...]
    profile: str = "default"
    seeds: tuple[int, ...] = (0,)
    dtypes: tuple[str, ...] = DEFAULT_DTYPES
    properties: tuple[str, ...] = tuple(PROPERTIES)
    source: str = ""

    def entry_dtypes(self, entry: Entry) -> tuple[str, ...]:
        """The run's dtypes the entry is checked in (its own subset, if it names one)."""
        if entry.dtypes is None:
            return self.dtypes
        return tuple(d for d in self.dtypes if d in entry.dtypes)


def _where(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _refuse_unknown(table: Mapping[str, Any], allowed: tuple[str, ...], section: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(
                f"{_where(section, key)}: unknown key {key!r}; allowed: {', '.join(allowed)}"
            )


def _str(value: Any, where: str, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} = {value!r} must be a non-empty string")
    if pattern is not None and not pattern.match(value):
        raise ConfigError(f"{where} = {value!r} must be {what}")
    return value


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} = {value!r} must be a list of non-empty strings")
    return tuple(value)


def _dtype_list(value: Any, where: str) -> tuple[str, ...]:
    names = _str_list(value, where)
    if not names:
        raise ConfigError(f"{where} is empty; allowed: {', '.join(DEFAULT_DTYPES)}")
    out = []
    for name in names:
        try:
            out.append(as_dtype(name).name)
        except TypeError:
            raise ConfigError(
                f"{where}: {name!r} is not a dtype; allowed: {', '.join(DEFAULT_DTYPES)}"
            ) from None
    return tuple(dict.fromkeys(out))


def _run_settings(table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"run = {table!r} must be a table")
    _refuse_unknown(table, RUN_KEYS, "run")
    out: dict[str, Any] = {}
    if "profile" in table:
        if table["profile"] not in PROFILES:
            raise ConfigError(
                f"run.profile = {table['profile']!r} is not one of {', '.join(PROFILES)}"
            )
        out["profile"] = table["profile"]
    if "seeds" in table:
        seeds = table["seeds"]
        if (
            not isinstance(seeds, list)
            or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
        ):
            raise ConfigError(f"run.seeds = {seeds!r} must be a non-empty list of ints >= 0")
        out["seeds"] = tuple(dict.fromkeys(seeds))
    if "dtypes" in table:
        out["dtypes"] = _dtype_list(table["dtypes"], "run.dtypes")
    if "properties" in table:
        names = _str_list(table["properties"], "run.properties")
        for name in names:
            if name not in PROPERTIES:
                raise ConfigError(f"run.properties: {name!r} is not one of {', '.join(PROPERTIES)}")
        if not names:
            raise ConfigError(f"run.properties is empty; allowed: {', '.join(PROPERTIES)}")
        out["properties"] = tuple(dict.fromkeys(names))
    return out


def _library(name: str, table: Any) -> Library:
    where = f"libraries.{name}"
    _str(name, where, LIBRARY_PATTERN, "lower-case letters, digits, - and _")
    if not isinstance(table, dict):
        raise ConfigError(f"{where} = {table!r} must be a table")
    _refuse_unknown(table, LIBRARY_KEYS, where)
    pip = _str_list(table.get("pip", []), f"{where}.pip")
    for spec in pip:
        if not REQUIREMENT_PATTERN.match(spec.strip()):
            raise ConfigError(
                f"{where}.pip: {spec!r} is not a requirement (NAME[extras] with optional "
                "version ranges, e.g. 'optax>=0.2,<1')"
            )
    if "modules" not in table:
        raise ConfigError(f"{where}.modules is missing (the modules whose versions are reported)")
    modules = _str_list(table["modules"], f"{where}.modules")
    return Library(name=name, pip=pip, modules=modules)


def _kind(value: Any, where: str) -> str:
    allowed = KINDS + tuple(k for k in OPTIONAL_KINDS if k not in KINDS)
    if value not in allowed:
        raise ConfigError(f"{where} = {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _target(value: Any, where: str) -> str:
    builtins = BUILTINS + tuple(t for t in OPTIONAL_TARGETS if t not in BUILTINS)
    text = _str(value, where)
    if text not in builtins and not TARGET_PATTERN.match(text):
        raise ConfigError(
            f"{where} = {text!r} is neither a built-in ({', '.join(builtins)}) "
            "nor of the form module.path:attr"
        )
    return text


def _entry(table: Any, index: int, libraries: Mapping[str, Library]) -> Entry:
    where = f"implementations[{index}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} = {table!r} must be a table")
    if isinstance(table.get("id"), str):
        where = f"{where} ({table['id']})"
    _refuse_unknown(table, ENTRY_KEYS, where)
    for key in ("id", "library", "target"):
        if key not in table:
            raise ConfigError(f"{where}.{key} is missing")
    entry_id = _str(table["id"], f"{where}.id", ID_PATTERN, "lower-case [a-z0-9][a-z0-9_.-]*")
    library = _str(table["library"], f"{where}.library")
    if library not in libraries:
        raise ConfigError(
            f"{where}.library = {library!r} is not one of the [libraries]: "
            f"{', '.join(libraries) or '(none)'}"
        )
    kind = _kind(table["kind"], f"{where}.kind") if "kind" in table else None
    target = _target(table["target"], f"{where}.target")
    if kind is not None and ":" not in target:
        raise ConfigError(f"{where}.kind applies to module.path:attr targets, not to {target!r}")
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{where}.options = {options!r} must be a table")
    variant = table.get("variant")
    if variant is not None:
        _str(variant, f"{where}.variant")
        try:
            parse_variant(variant)
        except ConfigError as err:
            raise ConfigError(f"{where}.variant: {err}") from None
    dtypes = _dtype_list(table["dtypes"], f"{where}.dtypes") if "dtypes" in table else None
    note = table.get("note", "")
    if not isinstance(note, str):
        raise ConfigError(f"{where}.note = {note!r} must be a string")
    return Entry(
        id=entry_id,
        library=library,
        target=target,
        kind=kind,
        options=dict(options),
        variant=variant,
        dtypes=dtypes,
        note=note,
    )


def parse_config(data: Mapping[str, Any], source: str = "") -> Config:
    """A :class:`Config` from parsed TOML; :class:`~adamproofs.errors.ConfigError` names the
    first bad key or value and what is allowed."""
    _refuse_unknown(data, TOP_KEYS, "")
    settings = _run_settings(data.get("run", {}))
    libs = data.get("libraries")
    if not isinstance(libs, dict) or not libs:
        raise ConfigError("libraries: missing or empty; give at least one [libraries.NAME] table")
    libraries = {name: _library(name, table) for name, table in libs.items()}
    raw = data.get("implementations")
    if not isinstance(raw, list) or not raw:
        raise ConfigError("implementations: missing or empty; give [[implementations]] tables")
    entries = [_entry(t, i, libraries) for i, t in enumerate(raw)]
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise ConfigError(f"implementations: the id {entry.id!r} is used twice")
        seen.add(entry.id)
    return Config(libraries=libraries, entries=tuple(entries), source=source, **settings)


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate ``path`` (default: :func:`shipped_config`)."""
    file = Path(path) if path is not None else shipped_config()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"--config {str(file)!r}: cannot read it ({err.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"--config {str(file)!r}: not valid TOML: {err}") from None
    label = "ecosystem.toml (shipped)" if path is None else str(path)
    return parse_config(data, source=label)
