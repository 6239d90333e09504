"""Prove that `pip install` of this project into a stock Odoo 18 Python moves no package Odoo pins.

Odoo 18's requirements.txt pins (constraints/odoo18-py311.txt, odoo18-py312.txt): pip's resolver
runs twice on a wheel of the project, in dry-run mode, ignoring what this machine has installed:

1. with the pin set as constraints: it must succeed, so the project fits inside those pins;
2. without constraints: every package that is not pinned must come out at the same version as in 1.

A plain `pip install` into an Odoo that holds the pins keeps what is installed when it satisfies the
new requirements and takes the newest release of anything new. If 2 picks a newer release of some
library than 1, that release needs a pinned package to move, and a plain install would move it.

Debian 12 (constraints/debian12.txt): Debian rewrites its packages' dependency metadata (its
requests 2.28.1 declares none, where PyPI's wants charset-normalizer<3 and Debian ships 3.0.1), so
PyPI's metadata cannot stand in for it. The check is the real thing instead: a venv of Debian's
/usr/bin/python3 that sees the system's packages (scripts/install puts them there), and a dry-run
`pip install` of the wheel in it, which must install none of them.

Exit status 0 when every set passes; 1 with one line per problem otherwise. Needs the network
(PyPI); nothing is installed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints"


@dataclass(frozen=True, slots=True)
class PinSet:
    file: str
    python: str  # the Python version that install runs


PIN_SETS = (
    PinSet("odoo18-py311.txt", "3.11"),
    PinSet("odoo18-py312.txt", "3.12"),
)
DEBIAN_PYTHON = Path("/usr/bin/python3")
DEBIAN_PINS = "debian12.txt"


def read_pins(path: Path) -> dict[str, str]:
    requirements = (
        Requirement(text) for line in path.read_text().splitlines() if (text := line.split("#")[0])
    )
    return {canonicalize_name(r.name): str(r.specifier).removeprefix("==") for r in requirements}


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=False, capture_output=True, text=True)


def installed_in(python: str) -> dict[str, str]:
    listed = run([python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"])
    return {canonicalize_name(p["name"]): p["version"] for p in json.loads(listed.stdout or "[]")}


def find_interpreter(python: str) -> str | None:
    """A CPython PYTHON ("3.12") with pip on this machine, on PATH or pyenv's, or None."""
    pyenv = Path.home() / ".pyenv" / "versions"
    for interpreter in [
        shutil.which(f"python{python}"),
        *sorted(pyenv.glob(f"{python}.*/bin/python{python}")),
    ]:
        if interpreter and run([str(interpreter), "-m", "pip", "--version"]).returncode == 0:
            return str(interpreter)
    return None


def pip_for(python: str, workdir: Path) -> list[str]:
    """pip run by that Python when the machine has it (pyenv's too), else this one's pip aimed at it."""
    if interpreter := find_interpreter(python):
        return [interpreter, "-m", "pip"]
    target = ["--target", str(workdir / "target")]  # pip takes --python-version only with --target
    return [sys.executable, "-m", "pip", "--python-version", python, "--only-binary=:all:", *target]


def dry_run(pip: list[str], report: Path, *arguments: str) -> tuple[dict[str, str], str]:
    """Versions a `pip install ARGUMENTS` would install, or ({}, pip's error)."""
    options = ["--dry-run", "--disable-pip-version-check", "-q", "--report", str(report)]
    result = run([*pip[:3], "install", *options, *pip[3:], *arguments])
    if result.returncode:
        errors = [line for line in result.stderr.splitlines() if "is ignored" not in line]
        return {}, "\n".join(errors[-12:])
    installs = json.loads(report.read_text())["install"]
    return {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}, ""


def check(pin_set: PinSet, wheel: Path, workdir: Path) -> list[str]:
    constraints = CONSTRAINTS / pin_set.file
    pins = read_pins(constraints)
    pip = pip_for(pin_set.python, workdir)
    fitted, error = dry_run(
        pip, workdir / "fitted.json", "--ignore-installed", "-c", str(constraints), str(wheel)
    )
    if error:
        return [f"{pin_set.file}: the project cannot be installed under these pins:\n{error}"]
    plain, error = dry_run(pip, workdir / "plain.json", "--ignore-installed", str(wheel))
    if error:
        return [f"{pin_set.file}: the project cannot be installed at all:\n{error}"]
    problems = [
        f"{pin_set.file}: a plain pip install takes {name} {plain[name]}, which needs a pinned package to "
        f"move (under the pins it would be {version}); cap {name} below that release"
        for name, version in sorted(fitted.items())
        if name not in pins and name in plain and plain[name] != version
    ]
    problems += [
        f"{pin_set.file}: {name} resolves to {version}, but Odoo pins {pins[name]}"
        for name, version in sorted(fitted.items())
        if name in pins and version != pins[name]
    ]
    touched = ", ".join(f"{name} {pins[name]}" for name in sorted(fitted) if name in pins) or "none"
    added = ", ".join(f"{name} {version}" for name, version in sorted(fitted.items()) if name not in pins)
    print(f"{pin_set.file} (Python {pin_set.python}, {' '.join(pip[:3])}):")
    print(f"  pinned by Odoo and kept: {touched}")
    print(f"  added: {added}")
    return problems


def check_debian(wheel: Path, workdir: Path) -> list[str]:
    pins = read_pins(CONSTRAINTS / DEBIAN_PINS)
    venv = workdir / "debian"
    made = run([str(DEBIAN_PYTHON), "-m", "venv", "--system-site-packages", str(venv)])
    if made.returncode:
        return [f"{DEBIAN_PINS}: no venv of {DEBIAN_PYTHON} (run scripts/install): {made.stderr.strip()}"]
    python = str(venv / "bin" / "python")
    installed = installed_in(python)
    missing = sorted(name for name in pins if installed.get(name) != pins[name])
    if missing:
        have = ", ".join(f"{name} {installed.get(name, 'missing')} (listed {pins[name]})" for name in missing)
        return [f"{DEBIAN_PINS}: Debian's python3 packages are not as listed (run scripts/install): {have}"]
    changes, error = dry_run([python, "-m", "pip"], workdir / "debian.json", str(wheel))
    if error:
        return [f"{DEBIAN_PINS}: the project cannot be installed beside Debian's packages:\n{error}"]
    print(f"{DEBIAN_PINS} (Debian's Python 3.11 and packages, in a venv that sees them):")
    print(f"  packaged by Debian and kept: {len(pins)} of {len(pins)}")
    print(f"  added: {', '.join(f'{name} {version}' for name, version in sorted(changes.items()))}")
    return [
        f"{DEBIAN_PINS}: a pip install would replace Debian's {name} {pins[name]} with {version}"
        for name, version in sorted(changes.items())
        if name in pins
    ]


def check_host(python: str, extras: list[str], workdir: Path) -> list[str]:
    """A dry-run install of this checkout (editable, as scripts/test installs it) into an existing
    Python: it may add packages, never change one that is there."""
    installed = installed_in(python)
    changes, error = dry_run([python, "-m", "pip"], workdir / "host.json", "-e", str(ROOT), *extras)
    if error:
        return [f"{python}: the project cannot be installed:\n{error}"]
    own = canonicalize_name("mail-crm-sync")
    added = [f"{name} {version}" for name, version in sorted(changes.items()) if name not in installed]
    print(f"{python}: adds {', '.join(added) or 'nothing'}")
    return [
        f"{python}: installing would replace {name} {installed[name]} with {version}"
        for name, version in sorted(changes.items())
        if name in installed and name != own and version != installed[name]
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--host-python",
        help="instead: check that installing this checkout (and EXTRA) there changes no installed package",
    )
    parser.add_argument(
        "extra", nargs="*", help="more requirements installed beside the project (--host-python)"
    )
    args = parser.parse_args()
    if args.host_python:
        with tempfile.TemporaryDirectory(prefix="mail_crm_sync_pins.") as tmp:
            problems = check_host(args.host_python, args.extra, Path(tmp))
        for problem in problems:
            print(f"FAIL {problem}")
        return 1 if problems else 0
    with tempfile.TemporaryDirectory(prefix="mail_crm_sync_pins.") as tmp:
        workdir = Path(tmp)
        build = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(workdir), str(ROOT)])
        if build.returncode:
            print(build.stderr, file=sys.stderr)
            return 1
        (wheel,) = workdir.glob("*.whl")
        problems = [problem for pin_set in PIN_SETS for problem in check(pin_set, wheel, workdir)]
        problems += check_debian(wheel, workdir)
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        return 1
    print(
        f"pins kept: the project installs under all {len(PIN_SETS) + 1} pin sets and moves none of their pins"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
