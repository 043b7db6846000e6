"""The package itself: typed stubs that match the code, docstrings, errors, and a pip install
into a virtual environment with no index."""

import ast
import inspect
import os
import pathlib
import subprocess
import sys

import pytest

import pairflow

from conftest import BUILD, ROOT

MODULES = {
    "__init__": pairflow,
    "stats": pairflow.stats,
    "features": pairflow.features,
    "gen": pairflow.gen,
}


def stub_functions(module_name):
    path = ROOT / "python" / "pairflow" / f"{module_name}.pyi"
    tree = ast.parse(path.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            out[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                out[target.id] = node
    return out


def stub_parameters(node):
    args = node.args
    names = [(a.arg, "positional") for a in args.posonlyargs + args.args]
    if args.vararg:
        names.append((args.vararg.arg, "var"))
    names += [(a.arg, "keyword") for a in args.kwonlyargs]
    if args.kwarg:
        names.append((args.kwarg.arg, "varkw"))
    return names


def runtime_parameters(fn):
    kinds = {
        inspect.Parameter.POSITIONAL_ONLY: "positional",
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
        inspect.Parameter.VAR_POSITIONAL: "var",
        inspect.Parameter.KEYWORD_ONLY: "keyword",
        inspect.Parameter.VAR_KEYWORD: "varkw",
    }
    return [(p.name, kinds[p.kind]) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_public_function_has_a_matching_stub(name):
    module = MODULES[name]
    stubs = stub_functions(name)
    public = [n for n in getattr(module, "__all__", []) if not n.startswith("__")]
    assert public
    for attr in public:
        obj = getattr(module, attr)
        if inspect.ismodule(obj):
            continue
        assert attr in stubs, f"pairflow/{name}.pyi lacks {attr}"
        node = stubs[attr]
        if inspect.isfunction(obj) and isinstance(node, ast.FunctionDef):
            assert stub_parameters(node) == runtime_parameters(obj), f"{name}.{attr}"
        if inspect.isclass(obj) and isinstance(node, ast.ClassDef):
            methods = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
            for method, fn in inspect.getmembers(obj, inspect.isfunction):
                if method.startswith("_") and method != "__init__":
                    continue
                if fn.__qualname__.split(".")[0] != obj.__name__:
                    continue  # inherited (NamedTuple, dataclass machinery)
                if method == "__init__" and getattr(obj, "__dataclass_fields__", None):
                    continue
                assert method in methods, f"{name}.{attr}.{method} has no stub"
                assert stub_parameters(methods[method]) == runtime_parameters(fn), method


def test_public_functions_have_docstrings_with_examples():
    for name, module in MODULES.items():
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert obj.__doc__ and len(obj.__doc__.strip()) > 30, f"{name}.{attr}"
    for fn in (pairflow.screen, pairflow.backtest, pairflow.stats.coint,
               pairflow.stats.coint_all_pairs, pairflow.features.bars):
        assert ">>>" in fn.__doc__, fn.__name__


def test_error_is_a_value_error_with_one_line():
    assert issubclass(pairflow.Error, ValueError)
    with pytest.raises(pairflow.Error) as e:
        pairflow.stats.adfuller([1.0, 2.0, float("nan")] * 20)
    assert "\n" not in str(e.value)


def test_pip_install_into_a_venv_without_an_index(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    env = dict(os.environ, PAIRFLOW_BUILD_DIR=str(BUILD), PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index", "-q",
                        str(ROOT / "python")], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    code = ("import pairflow, numpy as np; rng = np.random.default_rng(1); "
            "x = np.cumsum(rng.standard_normal(300)); y = 2 * x + rng.standard_normal(300); "
            "print(pairflow.__file__); print(pairflow.stats.coint(y, x)[1] < 0.05)")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", code], env=env, cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    where, significant = r.stdout.split()
    assert pathlib.Path(where).is_relative_to(venv)
    assert significant == "True"
