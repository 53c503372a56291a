"""Configuration: YAML -> frozen dataclasses, one way.

A run's settings are one frozen dataclass whose fields are values or nested dataclass sections,
each field with a docstring under it (``field_docs`` reads them: the command line's help). From
plain data (a YAML file, dotted overrides) to the dataclass and back:

    values = to_dict(ZeroShotConfig())                  # defaults, stated once in the class
    values = overlay(values, yaml.safe_load(text))      # a run file
    set_dotted(values, "eval.every", 2500)              # a flag or a Tune search-space value
    config = from_dict(ZeroShotConfig, values)          # checked: unknown keys and bad types raise

Pure: no Ray, no torch.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import textwrap
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A setting that cannot be used; the message says which and what would be valid."""


# --- dotted keys -----------------------------------------------------------------------------
def set_dotted(tree: dict, key: str, value: Any) -> None:
    """``set_dotted(d, "eval.every", 50)`` sets ``d["eval"]["every"]``."""
    *parents, last = key.split(".")
    node = tree
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{key}: {p} is not a section")
    node[last] = value


def overlay(base: dict, over: dict) -> dict:
    """A copy of ``base`` with ``over`` merged in (nested dicts merge; dotted keys allowed)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if "." in key:
            set_dotted(out, key, copy.deepcopy(value))
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = overlay(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML file holding a mapping (an empty file is an empty mapping)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no such config file: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return raw


# --- dataclasses <-> plain data ----------------------------------------------------------------
def is_section(tp: Any) -> bool:
    """Whether a field type is a nested dataclass section."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


@cache
def field_types(cls: type) -> dict[str, Any]:
    """Resolved annotations of a dataclass's fields."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def defaults(cls: type) -> dict[str, Any]:
    """The default values of a config dataclass as plain data, without building it (a config
    may need a setting the user must give, such as a data folder)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = field_types(cls)[f.name]
        if f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        elif is_section(tp):
            value = None
        else:
            raise ConfigError(f"{cls.__name__}.{f.name} has no default")
        if is_section(tp):
            value = defaults(tp) if value is None else to_dict(value)
        out[f.name] = copy.deepcopy(value)
    return out


def to_dict(config: Any) -> dict[str, Any]:
    """Plain nested dicts of a config dataclass (tuples stay tuples)."""
    return dataclasses.asdict(config)


def from_dict(cls: type, values: dict[str, Any], where: str = "") -> Any:
    """``cls`` built from plain data: sections from dicts, unknown keys and wrong types refused."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where or cls.__name__}: expected a mapping, got {values!r}")
    types_ = field_types(cls)
    unknown = set(values) - set(types_)
    if unknown:
        raise ConfigError(
            f"{where or cls.__name__}: unknown settings {sorted(unknown)}; "
            f"known: {', '.join(sorted(types_))}"
        )
    kwargs = {}
    for name, value in values.items():
        path = f"{where}.{name}" if where else name
        tp = types_[name]
        if is_section(tp):
            value = value if isinstance(value, tp) else from_dict(tp, value or {}, path)
        else:
            value = coerce(value, tp, path)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where + ': ' if where else ''}{e}") from None


def replace_dotted(config: Any, changes: dict[str, Any]) -> Any:
    """A copy of ``config`` with dotted keys set (``{"eval.every": 50, "overrides.lr": 1e-4}``);
    a key inside a ``dict`` field sets that dict's entry."""
    values = to_dict(config)
    for key, value in changes.items():
        set_dotted(values, key, value)
    return from_dict(type(config), values)


def coerce(value: Any, tp: Any, path: str) -> Any:
    """``value`` checked against (and, where lossless, converted to) the annotation ``tp``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return coerce(value, arg, path)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{path}: {value!r} fits none of {tp}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{path} must be one of {list(args)}, got {value!r}")
        return value
    if origin is tuple or tp is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path} must be a list, got {value!r}")
        item = args[0] if args else Any
        return tuple(coerce(v, item, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path} must be a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path} must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{path} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path} must be a string, got {value!r}")
        return value
    return value


# --- docstrings ----------------------------------------------------------------------------------
@cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a dataclass (and its bases), as one line of text."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0].body
        for node, after in zip(body, body[1:]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs
