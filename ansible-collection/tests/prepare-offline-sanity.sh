#!/usr/bin/env bash
# Prepares the virtual environments of the seven `ansible-test sanity` tests that would install
# pip and pinned packages from PyPI (ansible-doc, import, pep8, pylint, runtime-metadata,
# validate-modules, yamllint), so that `ansible-test sanity --python 3.11` runs offline.
#
# Each environment becomes `python3.11 -m venv --without-pip --system-site-packages`, which can
# import Debian's packages (ansible-core, pylint, python3-pycodestyle, python3-voluptuous,
# python3-yaml), plus the three files that ansible-test writes once an environment is complete.
#
# NOTE: this depends on ansible-test 2.14's private layout: environments live in
# ~/.ansible/test/venv/sanity.TEST/3.11/HASH/, where HASH is computed by
# ansible_test._internal.commands.sanity.hash_pip_commands from the test's requirements. The
# script asks that function for the hash. Debian's package versions differ from the pinned ones,
# so results may differ from ansible-test run with network access.
set -euo pipefail

SYSTEM_PYTHON=/usr/bin/python3
PYTHON_VERSION=3.11

if [[ ! -x /usr/bin/python$PYTHON_VERSION ]]; then
  echo "prepare-offline-sanity: /usr/bin/python$PYTHON_VERSION not found" >&2
  exit 1
fi

# Prints one environment path a line, for each label that the seven tests use.
environment_paths() {
  "$SYSTEM_PYTHON" - "$PYTHON_VERSION" <<'PYTHON'
import os
import sys

from ansible_test._internal.commands.sanity import hash_pip_commands
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import collect_requirements

version = sys.argv[1]
python = NativePythonConfig(version=version, path='/usr/bin/python' + version)
# (requirements name, minimize) as ansible-test 2.14 passes them to create_sanity_virtualenv.
tests = [
    ('ansible-doc', False),
    ('import', False),
    ('import.module', True),
    ('import.plugin', True),
    ('pep8', False),
    ('pylint', False),
    ('runtime-metadata', False),
    ('validate-modules', False),
    ('yamllint', False),
]
for name, minimize in tests:
    commands = collect_requirements(python=python, controller=True, virtualenv=False,
                                    command=None, ansible=False, cryptography=False,
                                    coverage=False, minimize=minimize, sanity=name)
    label = 'sanity.' + name if commands else 'sanity'
    print(os.path.join(os.path.expanduser('~/.ansible/test/venv'), label, version,
                       hash_pip_commands(commands)))
PYTHON
}

mapfile -t paths < <(environment_paths)
if ((${#paths[@]} == 0)); then
  echo "prepare-offline-sanity: could not compute the environment paths" >&2
  exit 1
fi
for path in "${paths[@]}"; do
  if [[ -f $path/marker.txt && -f $path/pyvenv.cfg ]] &&
    grep -q '^include-system-site-packages = true' "$path/pyvenv.cfg"; then
    echo "prepare-offline-sanity: $path is ready"
    continue
  fi
  rm -rf -- "$path"
  "/usr/bin/python$PYTHON_VERSION" -m venv --without-pip --system-site-packages "$path"
  echo '[]' >"$path/meta.install.json"
  echo 'true' >"$path/meta.yaml.json"
  : >"$path/marker.txt"
  echo "prepare-offline-sanity: created $path"
done
