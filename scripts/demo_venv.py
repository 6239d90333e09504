"""The demo's own Python: a venv per checkout, so that the demo installs into no existing Python.

    PYTHON scripts/demo_venv.py VENV [--over-host]

Made from PYTHON's base interpreter; this checkout (not editable) and what the demo runs beside it
are pip-installed into it, and nowhere else. With ``--over-host``, PYTHON is the Odoo host's: a
``.pth`` file in the venv adds the host's site-packages after the venv's own, so Odoo and its
libraries are imported from where the host's installer put them, nothing copied, and pip, which sees
them, adds only what is missing, at the host's versions wherever the host has the package (they are
its constraints): the demo's Odoo runs on the libraries the host's does. pip removes nothing outside
the venv it runs in, so the host's Python stays as it was, editable installs of other checkouts
included; this checkout's engine, in the venv's site-packages, comes before any of them on sys.path,
and that is checked.

Run again, the venv is kept and the checkout reinstalled, so edits show; it is made anew when
PYTHON or the host changes. Prints the venv's Python.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import venv
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DISTRIBUTION = "mail-crm-sync"
ENGINE = "mail_crm_sync_engine"
# The harness SMTP server (the demo's and the engine's testing package import it); without a host,
# whose Odoo brings it, cryptography for the harness Dovecot's certificate too.
BESIDE = ("aiosmtpd",)
BESIDE_ENGINE_ONLY = ("aiosmtpd", "cryptography")
MADE_FROM = "demo_venv.json"
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv*", "build", "*.egg-info", "__pycache__", ".*_cache")


class VenvError(Exception):
    """A step failed; the message says which, with pip's output."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", type=Path)
    parser.add_argument("--over-host", action="store_true", help="this Python is the Odoo host's")
    args = parser.parse_args(argv)
    venv_dir = args.venv.resolve()
    host_site = sysconfig.get_paths()["purelib"] if args.over_host else None
    try:
        python = _venv(venv_dir, host_site)
        _install(python, venv_dir, host_site)
        _check_engine(python, venv_dir)
    except VenvError as error:
        print(f"scripts/demo_venv.py: {error}", file=sys.stderr)
        return 1
    print(python)
    return 0


def _venv(venv_dir: Path, host_site: str | None) -> Path:
    """The venv at ``venv_dir``, made anew unless this Python over this host made it."""
    made_from = {"base_prefix": sys.base_prefix, "version": sys.version, "host_site_packages": host_site}
    marker = venv_dir / MADE_FROM
    python = venv_dir / "bin" / "python"
    if python.exists() and marker.exists() and json.loads(marker.read_text()) == made_from:
        return python
    if venv_dir.exists():
        shutil.rmtree(venv_dir)
    # Over a host its pip is the venv's too (through the .pth): no second pip or setuptools that
    # would come before the host's in Odoo's sys.path.
    venv.EnvBuilder(symlinks=True, with_pip=host_site is None).create(venv_dir)
    if host_site:
        site_packages = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
        # addsitedir appends the host's site-packages and runs its .pth files (Odoo's editable finder).
        line = f"import site; site.addsitedir({host_site!r})\n"
        (Path(site_packages.strip()) / "odoo_host.pth").write_text(line)
    marker.write_text(json.dumps(made_from, indent=1) + "\n")
    return python


def _install(python: Path, venv_dir: Path, host_site: str | None) -> None:
    """This checkout as a wheel, reinstalled even at the same version; then what it and the demo
    need that the venv, or the host, lacks."""
    pip = ["-m", "pip", "--disable-pip-version-check", "--no-input"]
    with tempfile.TemporaryDirectory(prefix="mcs-demo-wheel-") as work:
        # From a copy: setuptools leaves build/ in the tree it builds, whose files a later wheel
        # would ship even once deleted from the checkout.
        source = shutil.copytree(REPOSITORY, Path(work) / "source", ignore=NOT_SOURCE)
        # Built by the pip of the Python running this script over a host: in the venv, pip's
        # isolated build would still see the host's site-packages (the .pth), and its old setuptools.
        builder = sys.executable if host_site else python
        _run([builder, *pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", work, source])
        [wheel] = Path(work).glob("*.whl")
        # Only the venv's copy is replaced: pip removes nothing outside the venv it runs in.
        _run([python, *pip, "install", "--quiet", "--force-reinstall", "--no-deps", wheel])
        command = [python, *pip, "install", "--quiet", wheel, *(BESIDE if host_site else BESIDE_ENGINE_ONLY)]
        if host_site:
            # The host's packages, this project aside (another checkout's may be there).
            listed = _run([sys.executable, *pip, "list", "--format=freeze", "--exclude", DISTRIBUTION])
            constraints = venv_dir / "host-constraints.txt"
            constraints.write_text(listed)
            command += ["--constraint", constraints]
        _run(command)


def _check_engine(python: Path, venv_dir: Path) -> None:
    """The engine Odoo will import is the one just installed, whatever else the host holds."""
    where = _run([python, "-c", f"import {ENGINE}; print({ENGINE}.__file__)"], cwd=tempfile.gettempdir())
    if not Path(where.strip()).is_relative_to(venv_dir):
        raise VenvError(f"{python} imports {ENGINE} from {where.strip()}, not from this checkout's install")


def _run(command: list, cwd: str | Path = REPOSITORY) -> str:
    result = subprocess.run(list(map(str, command)), cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode:
        raise VenvError(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


if __name__ == "__main__":
    sys.exit(main())
