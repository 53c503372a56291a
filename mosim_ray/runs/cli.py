"""The command line of every run kind, built from its config dataclass.

Every field is a flag (``--eval.every 2500``; sections by dots), its docstring the help.
Settings come in layers, later ones winning: the dataclass defaults, ``--config file.yaml`` (the
run's fields; a sweep or experiment file's ``run:`` section works too), the flags, then
``--set section.field=value`` (YAML values; the only way into dict fields such as
``overrides``). Library errors become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from mosim_ray.config import (
    ConfigError,
    defaults,
    field_docs,
    field_types,
    from_dict,
    is_section,
    load_yaml,
    overlay,
    set_dotted,
    to_dict,
)
from mosim_ray.runs import get_kind
from mosim_ray.runs.kind import RunKind, check_inputs
from mosim_ray.runs.provenance import provenance, write_json

USER_ERRORS = (ConfigError, ValueError, FileNotFoundError, FileExistsError, RuntimeError)
"""Errors a user's input can cause: printed as one line (``MOSIM_DEBUG=1`` shows tracebacks)."""


def _none_or(parse):
    def convert(text: str):
        return None if text.lower() in ("none", "null") else parse(text)

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def _flag_options(tp: Any) -> dict[str, Any] | None:
    """argparse options of a field type; None where the field is reached by ``--set`` only."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    optional = origin in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            return None
        tp, origin, args = rest[0], typing.get_origin(rest[0]), typing.get_args(rest[0])
    if tp is bool:
        return {"action": argparse.BooleanOptionalAction}
    if tp in (int, float, str):
        return {"type": _none_or(tp) if optional else tp, "metavar": tp.__name__.upper()}
    if origin is typing.Literal:
        return {"choices": list(args)}
    if origin is tuple and args and args[0] in (int, float, str):
        return {"type": args[0], "nargs": "+", "metavar": args[0].__name__.upper()}
    return None


def _add_fields(parser, group, cls: type, prefix: str, defaults: dict, set_only: list) -> None:
    docs = field_docs(cls)
    for name, tp in field_types(cls).items():
        path = f"{prefix}{name}"
        if is_section(tp):
            title = f"{path} (section)"
            sub = parser.add_argument_group(title, docs.get(name))
            _add_fields(parser, sub, tp, f"{path}.", defaults[name], set_only)
            continue
        options = _flag_options(tp)
        if options is None:
            set_only.append(f"{path} ({docs.get(name, 'see the docs')})")
            continue
        default = defaults[name]
        text = docs.get(name, "")
        help_text = f"{text} (default: {default})" if text else f"default: {default}"
        flag = "--" + path.replace("_", "-")
        group.add_argument(
            flag, dest=path, default=argparse.SUPPRESS, help=help_text.replace("%", "%%"), **options
        )


def build_parser(kind: RunKind) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"pipelines/{kind.name}.py",
        description=kind.doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run = parser.add_argument_group("running")
    run.add_argument("--config", help="run file (YAML) with any of the settings below")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any setting by its dotted name, the value in YAML (eval.every=2500, "
        "overrides.actor_lr=1e-4); repeatable",
    )
    run.add_argument("--out", help="output folder (default: see below)")
    run.add_argument("--json", help="also write the result JSON here")
    run.add_argument("--address", help="Ray cluster address (default: an embedded local Ray)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--print-config", action="store_true", help="print the settings as YAML and exit"
    )
    set_only: list[str] = []
    settings = parser.add_argument_group("settings")
    _add_fields(parser, settings, kind.config, "", defaults(kind.config), set_only)
    if set_only:
        parser.epilog = "settings given with --set only:\n  " + "\n  ".join(set_only)
    return parser


def run_values(path: str | Path, kind: str) -> dict[str, Any]:
    """The run settings in a YAML file: the whole mapping, or its ``run:`` section (a sweep or
    experiment file, whose ``kind`` must then be ``kind``)."""
    raw = load_yaml(path)
    if "run" in raw and isinstance(raw.get("run"), dict):
        if raw.get("kind", kind) != kind:
            raise ConfigError(f"{path} is a {raw['kind']!r} file, not {kind!r}")
        return raw["run"]
    return raw


def parse_config(kind: RunKind, args: argparse.Namespace) -> Any:
    """The run's config from defaults, ``--config``, flags and ``--set``, checked."""
    values = defaults(kind.config)
    if args.config:
        values = overlay(values, run_values(args.config, kind.name))
    common = {"config", "set", "out", "json", "address", "no_progress", "print_config"}
    for key, value in vars(args).items():
        if key not in common:
            set_dotted(values, key, list(value) if isinstance(value, list) else value)
    for item in args.set:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set wants KEY=VALUE, got {item!r}")
        try:
            set_dotted(values, key.strip(), yaml.safe_load(text))
        except yaml.YAMLError as e:
            raise ConfigError(f"--set {item}: not a YAML value ({e})") from None
    return from_dict(kind.config, values)


def main(name: str, argv: list[str] | None = None) -> int:
    """Parse, run, write ``<out>/result.json`` and print the kind's summary line."""
    kind = get_kind(name)
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(kind).parse_args(argv)
    debug = bool(os.environ.get("MOSIM_DEBUG"))
    try:
        config = parse_config(kind, args)
        if args.print_config:
            print(yaml.safe_dump(to_dict(config), sort_keys=False), end="")
            return 0
        check_inputs(kind, config)
        out = Path(args.out or kind.default_out(config))
        record = provenance(" ".join([f"python pipelines/{name}.py", *argv]))
        result = _run(kind, config, out, args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as e:
        if debug:
            raise
        print(f"error: {_message(e)}", file=sys.stderr)
        return 2
    result["provenance"] = record
    write_json(result, out / "result.json", *([args.json] if args.json else []))
    print(kind.summary(result) + f" -> {out}")
    return 0


def _run(kind: RunKind, config: Any, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    progress = not args.no_progress and sys.stderr.isatty()

    def show(point: dict[str, Any]) -> None:
        print(kind.point(point), flush=True)

    report = show if kind.point else None
    if not kind.uses_ray:
        return kind.run(config, out, report=report, progress=progress)
    import ray

    from mosim_ray.actors.ray_session import start_ray

    started = start_ray(args.address)
    try:
        return kind.run(config, out, report=report, progress=progress)
    finally:
        if started:
            ray.shutdown()


def _message(e: BaseException) -> str:
    """One line: a remote error's own message, not Ray's wrapping of it."""
    cause = getattr(e, "cause", None)
    text = str(cause if isinstance(cause, BaseException) else e)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if len(lines) > 1 and "Traceback" in text else " ".join(lines)
