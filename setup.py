"""Packaging beyond pyproject.toml: the top-level folders scenarios/, examples/ and
experiments/ are shipped inside the package as paxsim/data/<folder>/ (package data
found with importlib.resources, see paxsim/data/__init__.py), without moving them
in the source tree. Everything else is declared in pyproject.toml."""

from setuptools import find_namespace_packages, setup

DATA = {"scenarios": ["*.toml"], "examples": ["*.py", "*.toml"], "experiments": ["*.toml"]}

setup(
    packages=find_namespace_packages(include=["paxsim", "paxsim.*"], exclude=["*.__pycache__"]) + [f"paxsim.data.{d}" for d in DATA],
    package_dir={f"paxsim.data.{d}": d for d in DATA},
    package_data={"paxsim": ["py.typed"],
                  "paxsim.diagram": ["view.js", "view.css"],  # the interactive view's script and style
                  **{f"paxsim.data.{d}": patterns for d, patterns in DATA.items()}},
)
