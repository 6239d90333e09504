"""Install the addon into bare Odoo 18 Pythons, as users do, and fail on any complaint.

    python3 scripts/check_install.py --odoo-host ~/odoo18 [TARGET ...]

The pin check (check_pins.py) asks pip's resolver; this runs the real thing. Each target is a Python
environment as one supported way of installing Odoo 18 leaves it, with nothing else in it:

- ``py311``, ``py312``: a venv of CPython 3.11 or 3.12 made from Odoo 18's requirements.txt alone,
  as Odoo's documentation builds one (python-ldap included; no pytest-odoo, no ``packaging``);
- ``debian``: Debian 12's /usr/bin/python3 seeing Debian's python3-* packages, the dependency set
  of the official Odoo 18 .deb (constraints/debian12-apt.txt; scripts/install installs them);
- ``wheel``: the ``py311`` venv with Odoo installed by pip, then the OCA-style wheel
  ``odoo-addon-mail_crm_sync`` (built by whool from mail_crm_sync/pyproject.toml) and the engine's
  wheel installed by pip, and Odoo run with no addons_path entry for this repository.

For each: ``pip install`` of the project into a fresh copy of the environment, which may add
packages and must change none; then ``odoo-bin -i mail_crm_sync`` on a fresh copy of the host's
``crm18`` database, which must end with the module installed and log no WARNING, ERROR or CRITICAL
line at all (a stock crm database logs none).
The environments are cached between runs under ~/.cache/mail_crm_sync (MAIL_CRM_SYNC_CACHE), keyed by
the requirements they were made from; a run copies them, so the cache stays bare.

Exit status 0 when every target passes; 1 with what failed, and the log to read, otherwise. Needs
the Odoo host of ../shared/ODOO_HOST.md (its source, PostgreSQL and crm18) and PyPI.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from check_pins import DEBIAN_PYTHON, find_interpreter

ROOT = Path(__file__).resolve().parent.parent
ADDON = "mail_crm_sync"
TEMPLATE = "crm18"
RECIPE = "2"  # how base_environment() makes an environment: a new recipe makes new ones
CACHE = Path(os.environ.get("MAIL_CRM_SYNC_CACHE", Path.home() / ".cache" / "mail_crm_sync"))
# What a log line must not say. Odoo's format: "date time pid LEVEL db logger: message".
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) ")
EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Warning): ")


class CheckFailed(Exception):
    """One target failed; the message says at which step and where its log is."""


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    python: str  # the CPython version ("3.11"), or "debian"
    wheel: bool = False  # install the OCA wheel instead of adding this repository to addons_path


TARGETS = (
    Target("py311", "3.11"),
    Target("py312", "3.12"),
    Target("debian", "debian"),
    Target("wheel", "3.11", wheel=True),
)


def run(command: list[str | Path], log: Path, **kwargs) -> int:
    """Run COMMAND, appending what it prints to LOG; its exit status."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(map(str, command))}\n")
        out.flush()
        return subprocess.run(
            list(map(str, command)), stdout=out, stderr=out, check=False, **kwargs
        ).returncode


def must(command: list[str | Path], log: Path, step: str, **kwargs) -> None:
    if run(command, log, **kwargs):
        raise CheckFailed(f"{step} failed; see {log}")


def base_environment(target: Target, host: Path, log: Path) -> Path:
    """The bare environment of TARGET, made once and cached: what Odoo's own install leaves."""
    requirements = host / "src" / "requirements.txt"
    if target.python == "debian":
        interpreter, key = str(DEBIAN_PYTHON), (ROOT / "constraints" / "debian12.txt").read_bytes()
    else:
        interpreter = find_interpreter(target.python)
        if not interpreter:
            raise CheckFailed(f"no CPython {target.python} on this machine (python{target.python}, pyenv)")
        key = requirements.read_bytes()
    recipe = f"{RECIPE}\n{interpreter}\n{host}\n".encode()
    digest = hashlib.sha256(recipe + key).hexdigest()[:12]
    base = CACHE / "odoo18-venvs" / f"{target.python}-{digest}"
    if (base / "ready").exists():
        return base
    shutil.rmtree(base, ignore_errors=True)
    base.parent.mkdir(parents=True, exist_ok=True)
    print(f"  making the bare {target.python} environment (once; cached in {base})", flush=True)
    python = base / "bin" / "python"
    if target.python == "debian":
        must([interpreter, "-m", "venv", "--system-site-packages", base], log, "venv")
    else:
        must([interpreter, "-m", "venv", base], log, "venv")
        # Exactly as Odoo's documentation does it: nothing but requirements.txt. Some of its pins
        # predate today's build tools (cbor2 5.4.2 fails to build with setuptools_scm 8): pip's
        # isolated builds get older ones, and the venv itself gets no build tool (setuptools_scm
        # would bring `packaging`, which a bare Odoo lacks and which hides the manifest's faults).
        constraints = base / "build-constraints.txt"
        constraints.write_text("setuptools<70\nsetuptools_scm<8\n")
        must(
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", requirements],
            log,
            "pip install -r requirements.txt",
            env={**os.environ, "PIP_CONSTRAINT": str(constraints)},
        )
        if run([python, "-c", "import packaging"], log) == 0:
            raise CheckFailed(f"the bare {target.python} venv has `packaging`, which Odoo 18 does not bring")
    (base / "ready").write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    return base


def freeze(python: Path, log: Path) -> dict[str, str]:
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode:
        raise CheckFailed(f"pip list failed: {listed.stderr.strip()}; see {log}")
    return dict(line.split("==", 1) for line in listed.stdout.splitlines() if "==" in line)


def build_wheels(into: Path, log: Path) -> list[Path]:
    """The engine's wheel and the addon's (whool, from a clean copy of the repository's committed
    files, as a release builds it)."""
    for project in (ROOT, ROOT / ADDON):
        must(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", into, project], log, "wheel build"
        )
    return sorted(into.glob("*.whl"))


def install_project(target: Target, python: Path, wheels: list[Path], host: Path, log: Path) -> str:
    """pip install as a user would; the changes to what was there, which must be none."""
    before = freeze(python, log)
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if target.wheel:
        # Odoo itself as pip installs it from its source (editable: the same files, no copy).
        constraints = python.parent.parent / "build-constraints.txt"
        environ = {**os.environ, "PIP_CONSTRAINT": str(constraints)}
        must([*pip, "--no-deps", "-e", host / "src"], log, "pip install of Odoo", env=environ)
        before = freeze(python, log)
        must([*pip, "--find-links", wheels[0].parent, f"odoo-addon-{ADDON}"], log, "pip install of the wheel")
    else:
        must([*pip, ROOT], log, "pip install of the project")
    after = freeze(python, log)
    moved = [
        f"{name} {before[name]} -> {after.get(name, 'removed')}"
        for name in before
        if after.get(name) != before[name]
    ]
    if moved:
        raise CheckFailed(f"pip install changed what Odoo had: {', '.join(moved)}; see {log}")
    return ", ".join(f"{name} {after[name]}" for name in sorted(after) if name not in before)


def module_state(python: Path, host: Path, addons_path: str, database: str, log: Path) -> str:
    """The addon's row in Apps after Odoo refreshed its list of modules, as Update Apps List does."""
    script = (
        "env['ir.module.module'].update_list()\n"
        f"print('STATE', env['ir.module.module'].search([('name', '=', '{ADDON}')]).state)\n"
        "env.cr.commit()\n"
    )
    command = [python, host / "src" / "odoo-bin", "shell", f"--addons-path={addons_path}", "-d", database]
    result = subprocess.run(
        [*map(str, command), "--no-http"], input=script, capture_output=True, text=True, check=False
    )
    with log.open("a") as out:
        out.write(f"\n$ odoo-bin shell (update_list, state of {ADDON})\n{result.stdout}{result.stderr}")
    states = re.findall(r"^STATE (\S+)$", result.stdout, re.M)
    return states[-1] if states else "not listed"


def complaints(odoo_log: Path) -> list[str]:
    found = []
    for line in odoo_log.read_text(errors="replace").splitlines():
        match = LOG_LINE.match(line)
        if not match:
            if EXCEPTION_LINE.match(line):  # what a traceback ends with: the reason
                found.append(line)
            continue
        level = match["level"]
        if level in {"WARNING", "ERROR", "CRITICAL"}:
            found.append(line)
    return found


def check(target: Target, host: Path, wheels: list[Path], workdir: Path) -> str:
    log = workdir / f"{target.name}.log"
    base = base_environment(target, host, log)
    venv = workdir / target.name
    # A copy: its interpreter finds its site-packages relative to itself, so the copy works alone.
    shutil.copytree(base, venv, symlinks=True)
    python = venv / "bin" / "python"
    added = install_project(target, python, wheels, host, log)
    addons_path = f"{host}/src/addons,{host}/src/odoo/addons"
    if not target.wheel:
        addons_path += f",{ROOT}"
    database = f"mcs_install_{target.name}_{os.getpid()}"
    must(["createdb", "-T", TEMPLATE, database], log, f"createdb from {TEMPLATE}")
    try:
        listed = module_state(python, host, addons_path, database, log)
        if listed != "uninstalled":
            raise CheckFailed(
                f"{ADDON} is {listed!r} in Apps before its install, not 'uninstalled'; see {log}"
            )
        odoo_log = workdir / f"{target.name}-odoo.log"
        odoo_log.touch()
        command = [python, host / "src" / "odoo-bin", f"--addons-path={addons_path}", "-d", database]
        status = run([*command, "-i", ADDON, "--stop-after-init", "--no-http"], odoo_log)
        problems = complaints(odoo_log)
        installed = module_state(python, host, addons_path, database, log)
    finally:
        run(["dropdb", "--if-exists", database], log)
    if status or problems or installed != "installed":
        shown = "\n    ".join(problems[:8])
        raise CheckFailed(
            f"odoo-bin -i {ADDON} exit {status}, module {installed!r}; see {odoo_log}"
            + (f"\n    {shown}" if shown else "")
        )
    return f"uninstalled -> installed, no warning or error; pip added {added or 'nothing'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--odoo-host", type=Path, default=Path(os.environ.get("ODOO_HOST", "~/odoo18")))
    parser.add_argument(
        "targets", nargs="*", help=f"some of {', '.join(t.name for t in TARGETS)}; default all"
    )
    parser.add_argument("--keep", action="store_true", help="keep the venvs and logs of this run")
    args = parser.parse_args()
    host = args.odoo_host.expanduser()
    targets = [t for t in TARGETS if not args.targets or t.name in args.targets]
    if unknown := set(args.targets) - {t.name for t in TARGETS}:
        parser.error(f"no such target: {', '.join(sorted(unknown))}")
    workdir = Path(tempfile.mkdtemp(prefix="mail_crm_sync_install."))
    failed = []
    try:
        wheels = (
            build_wheels(workdir / "wheels", workdir / "wheels.log") if any(t.wheel for t in targets) else []
        )
        for target in targets:
            started = time.monotonic()
            try:
                outcome = check(target, host, wheels, workdir)
            except CheckFailed as error:
                failed.append(target.name)
                outcome = f"FAIL {error}"
            print(f"{target.name}: {outcome} ({time.monotonic() - started:.0f} s)", flush=True)
    except CheckFailed as error:
        print(f"FAIL {error}")
        return 1
    finally:
        if not args.keep and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        print(f"install check FAILED for {', '.join(failed)}; the logs are in {workdir}")
        return 1
    print(f"installs cleanly into all {len(targets)} bare Odoo 18 environments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
