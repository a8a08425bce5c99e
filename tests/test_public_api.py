"""The public API is what `import s3audit` promises: lazy, complete, and never shadowed."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import types

import s3audit


def _import_every_submodule() -> None:
    for info in pkgutil.walk_packages(s3audit.__path__, prefix="s3audit."):
        if info.name.startswith("s3audit.commands") or info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)


def test_every_exported_name_resolves_to_its_object_even_after_all_submodules_are_imported() -> None:
    _import_every_submodule()
    for name, module_name in s3audit._EXPORTS.items():
        value = getattr(s3audit, name)
        assert not isinstance(value, types.ModuleType), f"s3audit.{name} is shadowed by a submodule"
        assert value is getattr(importlib.import_module(module_name), name)


def test_public_callables_are_documented_with_examples() -> None:
    missing = [name for name in s3audit._EXPORTS
               if callable(getattr(s3audit, name)) and not inspect.isclass(getattr(s3audit, name))
               and "Examples" not in (inspect.getdoc(getattr(s3audit, name)) or "")]
    assert not missing, f"public functions without an Examples section: {missing}"


def test_importing_the_package_does_no_work() -> None:
    code = ("import sys, s3audit; heavy = {'pandas', 'boto3', 'matplotlib', 'pyarrow', 'ipywidgets'};"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"import s3audit pulled in {out.strip()}"
