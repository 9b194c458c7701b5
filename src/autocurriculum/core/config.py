"""Config dataclasses whose fields carry help text, and their checked construction from mappings."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import re
import types
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from autocurriculum.core.errors import ConfigError

C = TypeVar("C")


def option(default: Any, help: str, **kwargs: Any) -> Any:  # noqa: A002 - mirrors argparse/TRL naming
    """A dataclass field with help text (shown by the CLI and in generated docs).

    A mutable default is copied per instance; a dataclass *class* as default
    makes a fresh nested config per instance.
    """
    if isinstance(default, type) and dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=default, metadata={"help": help}, **kwargs)
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help}, **kwargs)
    return dataclasses.field(default=default, metadata={"help": help}, **kwargs)


def field_help(config_class: type) -> dict[str, str]:
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(config_class)}


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Convert ``value`` to the field's declared scalar type or raise a ConfigError naming ``where``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match {annotation}")
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "yes", "no"}:
            return value.lower() in {"true", "1", "yes"}
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if annotation in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if annotation is int and isinstance(value, numbers.Integral):
            return int(value)  # exactly: a round trip through float would change integers above 2**53
        if annotation is int and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass  # "2.0" or "1e3": read as a number below
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond float range
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
        if not math.isfinite(number):  # NaN slips through every range check; no setting means infinity
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        if annotation is int:
            if number != int(number):
                raise ConfigError(f"{where}: expected an integer, got {value!r}")
            return int(number)
        return number
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if isinstance(value, annotation):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping of {annotation.__name__} fields, got {value!r}")
        return build_config(annotation, value, source=where)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if origin in (list, tuple) and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(v, args[0], f"{where}[{i}]") if args else v for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if args and args[-1] is not Ellipsis and len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
        inner = [args[0]] * len(value) if args and args[-1] is Ellipsis else list(args)
        return tuple(
            _coerce(v, a, f"{where}[{i}]") if inner else v for i, (v, a) in enumerate(zip(value, inner, strict=False))
        )
    return value


def build_config(config_class: type[C], values: Mapping[str, Any] | None = None, source: str = "config") -> C:
    """Create ``config_class`` from a mapping, naming any unknown or ill-typed field.

    ``source`` prefixes error messages (for example a file name) so the user
    knows where to look.
    """
    values = dict(values or {})
    hints = typing.get_type_hints(config_class)
    fields = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - fields, key=repr)  # YAML keys may be numbers: do not compare them to strings
    if unknown:
        raise ConfigError(
            f"{source}: unknown field(s) {', '.join(map(repr, unknown))} for {config_class.__name__}; "
            f"valid fields: {', '.join(sorted(fields))}"
        )
    kwargs = {name: _coerce(v, hints[name], f"{source}.{name}") for name, v in values.items()}
    with config_section(source):  # a failed check names the file (or section) and the field
        config = config_class(**kwargs)
        validate = getattr(config, "validate", None)
        if callable(validate):
            validate()
    return config


_FIELD_PATH = re.compile(r"[A-Za-z_][\w\[\]]*(\.[A-Za-z_][\w\[\]]*)*")


def qualify(prefix: str, exc: ConfigError) -> ConfigError:
    """``exc`` with ``prefix`` in front of the field it names: ``rollouts: ...`` in ``rl`` -> ``rl.rollouts: ...``."""
    text = str(exc)
    head, sep, _ = text.partition(": ")
    joiner = "." if sep and _FIELD_PATH.fullmatch(head) else ": "
    return ConfigError(f"{prefix}{joiner}{text}")


@contextmanager
def config_section(prefix: str) -> Iterator[None]:
    """Re-raise a ConfigError from the block with ``prefix`` in front of the field it names (see ``qualify``)."""
    try:
        yield
    except ConfigError as exc:
        raise qualify(prefix, exc) from None


def load_config_file(path: Path | None) -> dict[str, Any]:
    """Settings from a YAML or JSON file (``--config``): {} for None, a ConfigError naming the file otherwise."""
    if path is None:
        return {}
    if not path.exists():
        raise ConfigError(f"--config: file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml  # only when a YAML file is read

            data = yaml.safe_load(text)
    except Exception as exc:  # parser errors carry line numbers; keep them
        raise ConfigError(f"{path}: cannot parse: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of settings, got {type(data).__name__}")
    return data


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it: nested mappings merge section by section, other values replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def require(condition: bool, field_name: str, message: str) -> None:
    """Raise a ConfigError for ``field_name`` unless ``condition`` holds."""
    if not condition:
        raise ConfigError(f"{field_name}: {message}")
