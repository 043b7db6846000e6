"""PEP 517 build backend for `pip install ./python`, standard library only (no index needed).

build_wheel builds the extension with the repository's CMake (the release preset into build/,
or $PAIRFLOW_BUILD_DIR when set), then packs build/python/pairflow (the extension and the Python
files next to it) into a wheel for this interpreter. Editable installs are not offered: use
PYTHONPATH=build/python for a development tree.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import pathlib
import subprocess
import sys
import sysconfig
import tomllib
import zipfile

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]
ROOT = PYTHON_DIR.parent


def _project() -> dict:
    with open(PYTHON_DIR / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _build_package() -> pathlib.Path:
    build = pathlib.Path(os.environ.get("PAIRFLOW_BUILD_DIR", ROOT / "build"))
    if not (build / "build.ninja").exists():
        if "PAIRFLOW_BUILD_DIR" in os.environ:
            raise RuntimeError(f"PAIRFLOW_BUILD_DIR={build}: not a configured build directory")
        subprocess.run(["cmake", "--preset", "release"], cwd=ROOT, check=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "pairflow_python_package"],
                   cwd=ROOT, check=True)
    package = build / "python" / "pairflow"
    if not any(package.glob("_core*.so")):
        raise RuntimeError(f"{package}: no extension module after the build (is "
                           "PAIRFLOW_PYTHON_MODULE off? it is with the sanitizers)")
    return package


def _tag() -> str:
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{python}-{python}-{platform}"


def _metadata(project: dict) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}",
             f"Summary: {project.get('description', '')}",
             f"Requires-Python: {project.get('requires-python', '')}"]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    return "\n".join(lines) + "\n"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    project = _project()
    dist_info = f"{project['name']}-{project['version']}.dist-info"
    path = pathlib.Path(metadata_directory) / dist_info
    path.mkdir(parents=True, exist_ok=True)
    (path / "METADATA").write_text(_metadata(project))
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    package = _build_package()
    name, version = project["name"], project["version"]
    dist_info = f"{name}-{version}.dist-info"
    wheel_name = f"{name}-{version}-{_tag()}.whl"
    files: list[tuple[str, bytes]] = []
    for path in sorted(package.iterdir()):
        if path.is_file() and not path.name.endswith(".pyc"):
            files.append((f"pairflow/{path.name}", path.read_bytes()))
    files.append((f"{dist_info}/METADATA", _metadata(project).encode()))
    wheel = (f"Wheel-Version: 1.0\nGenerator: pairflow_build\nRoot-Is-Purelib: false\n"
             f"Tag: {_tag()}\n")
    files.append((f"{dist_info}/WHEEL", wheel.encode()))
    record = [_record_line(n, d) for n, d in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    target = pathlib.Path(wheel_directory) / wheel_name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files:
            info = zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if n.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, d)
    target.write_bytes(buffer.getvalue())
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("pairflow has no source distribution: the extension builds from the "
                       "repository (pip install ./python from a checkout)")
