"""The import contracts (pyproject.toml, checked by lint-imports in `make test`) only guard the
modules they name: every module and package of incidents/ must be in one of the layers, or it
escapes the rule that the domain never imports a face and faces never import each other."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_CODE = {"__init__", "apps", "migrations", "templates", "static", "locale", "__pycache__"}


def test_every_module_of_incidents_is_in_a_layer():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.replace("\\", " ").replace(":", "|").split("|")}
    modules = {f"incidents.{p.stem}" for p in (ROOT / "incidents").iterdir()
               if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())) and p.stem not in NOT_CODE}
    assert sorted(modules - named) == []
