"""Parsing of the import commands' options, shared by gis's and incidents' commands."""

from __future__ import annotations

from django.core.management.base import CommandError


def pairs(values: list[str], option: str) -> dict[str, str]:
    """Repeated SOURCE=VALUE options as a mapping; `option` names the flag in the error."""
    mapping = {}
    for value in values:
        if "=" not in value:
            raise CommandError(f"{option} takes SOURCE=VALUE, got {value!r}")
        key, _, val = value.partition("=")
        mapping[key] = val
    return mapping


def layer(value: str | int) -> str | int:
    """A layer of a GDAL file by index (digits) or by name."""
    return int(value) if str(value).isdigit() else value
