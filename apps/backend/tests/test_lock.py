"""uv.lock must install in the image: Debian 13, CPython 3.13, glibc 2.41, x86_64, no compiler.

The tests run on the host's Python 3.11, so this checks, from the universal
lock alone, that every runtime package has a wheel the image's Python accepts.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

LOCK = Path(__file__).resolve().parent.parent / "uv.lock"
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(41, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]
IMAGE_TAGS: set[Tag] = set(cpython_tags((3, 13), abis=["cp313"], platforms=PLATFORMS)) | set(
    compatible_tags((3, 13), interpreter="cp313", platforms=PLATFORMS)
)
IMAGE_ENV = {
    "python_version": "3.13",
    "python_full_version": "3.13.5",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "extra": "",
}


def runtime_closure(lock: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Packages the image installs: the project's runtime dependencies, followed through markers and extras."""
    packages = {canonicalize_name(p["name"]): p for p in lock["package"]}
    project = next(p for p in lock["package"] if p.get("source", {}).get("virtual") == ".")
    needed: dict[str, dict[str, Any]] = {}
    todo = list(project.get("dependencies", []))
    while todo:
        dependency = todo.pop()
        if "marker" in dependency and not Marker(dependency["marker"]).evaluate(IMAGE_ENV):
            continue
        name = canonicalize_name(dependency["name"])
        package = packages[name]
        extras = dependency.get("extra", [])
        if name not in needed:
            needed[name] = package
            todo.extend(package.get("dependencies", []))
        for extra in extras:
            todo.extend(package.get("optional-dependencies", {}).get(extra, []))
    return needed


def test_every_runtime_package_has_a_wheel_for_the_image() -> None:
    lock = tomllib.loads(LOCK.read_text())
    closure = runtime_closure(lock)
    assert {"fastapi", "asyncpg", "mcp", "cryptography", "greenlet", "pydantic-core"} <= set(closure)
    missing = []
    for name, package in sorted(closure.items()):
        wheels = [wheel["url"].rsplit("/", 1)[1] for wheel in package.get("wheels", [])]
        if not any(parse_wheel_filename(wheel)[3] & IMAGE_TAGS for wheel in wheels):
            missing.append(f"{name} {package['version']}")
    assert missing == [], f"no CPython 3.13 manylinux x86_64 wheel in uv.lock for: {', '.join(missing)}"


def test_dev_tools_stay_out_of_the_image() -> None:
    closure = runtime_closure(tomllib.loads(LOCK.read_text()))
    assert "pytest" not in closure
