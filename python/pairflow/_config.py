"""Configs as dicts: the `--set section.key=value` overrides the engine applies, and TOML text."""

from __future__ import annotations

import json
import math
import os

from ._core import Error


def _literal(value, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Error(f"config {where}: {value} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v, where) for v in value) + "]"
    raise TypeError(f"config {where}: {type(value).__name__} is not a TOML value")


def overrides(config: dict, prefix: str = "") -> list[str]:
    """{"pair_model": {"entry_z": 2.5}} -> ["pair_model.entry_z=2.5"] (nested dicts are tables)."""
    if not isinstance(config, dict):
        raise TypeError(f"config: expected a dict, got {type(config).__name__}")
    out = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += overrides(value, name + ".")
        else:
            if "." not in name:
                raise Error(
                    f"config: '{name}' is not in a section; give {{'section': {{'{name}': ...}}}}"
                )
            out.append(f"{name}={_literal(value, name)}")
    return out


def resolve(config, extra: dict | None = None) -> tuple[str, list[str]]:
    """config (None, a TOML path or a dict) and extra overrides -> (path, overrides)."""
    path, sets = "", []
    if config is None:
        pass
    elif isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
    elif isinstance(config, dict):
        sets = overrides(config)
    else:
        raise TypeError(f"config: expected None, a TOML path or a dict, got {type(config).__name__}")
    if extra:
        sets += overrides(extra)
    return path, sets


def to_toml(config: dict) -> str:
    """A config dict as the text of a pipeline TOML file, so a researched setting moves into a
    file unchanged.

    >>> print(pairflow.to_toml({"pair_model": {"entry_z": 2.5}}))
    [pair_model]
    entry_z = 2.5
    """
    lines: list[str] = []

    def section(name: str, table: dict) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if scalars:
            if lines:
                lines.append("")
            lines.append(f"[{name}]")
            for key, value in scalars.items():
                lines.append(f"{key} = {_literal(value, f'{name}.{key}')}")
        for key, value in table.items():
            if isinstance(value, dict):
                section(f"{name}.{key}", value)

    if not isinstance(config, dict):
        raise TypeError(f"to_toml: expected a dict, got {type(config).__name__}")
    for name, value in config.items():
        if not isinstance(value, dict):
            raise Error(f"to_toml: '{name}' is not in a section; give {{'section': {{...}}}}")
        section(name, value)
    return "\n".join(lines) + "\n"
