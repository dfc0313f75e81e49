# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0
#
# Private to this collection: the interface may change without notice.

"""Run the iidca command for the modules of iidca.pki and read the files it writes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# The options that every module of the collection accepts, as documented in the
# iidca.pki.iidca documentation fragment.
IIDCA_ARGUMENT_SPEC = dict(
    iidca_path=dict(type='path', default='iidca'),
    iidca_dir=dict(type='path'),
)

# A number of seconds, or one or more parts such as 1h30m, as iidca itself prints durations.
_DURATION_PATTERN = re.compile(r'^(?:\d+|(?:\d+[dhms])+)$')
_DURATION_PART = re.compile(r'(\d+)([dhms]?)')
_DURATION_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}
_FINGERPRINT_PATTERN = re.compile(r'^[0-9a-f]{64}$')


def parse_duration(value):
    """Parse a duration such as 90s, 30m, 8h, 1h30m, 7d or 3600 (seconds) into seconds.

    Return None for None, and raise ValueError for anything else that is not a duration.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not _DURATION_PATTERN.match(text):
        raise ValueError('invalid duration %r: use a number with s, m, h or d, such as 8h or '
                         '1h30m' % value)
    return sum(int(number) * _DURATION_UNITS[unit]
               for number, unit in _DURATION_PART.findall(text))


def normalize_fingerprint(value):
    """Return a SHA-256 fingerprint as 64 lower-case hex digits, accepting colons and spaces.

    Raise ValueError when the result is not 64 hex digits.
    """
    normalized = re.sub(r'[\s:]', '', value or '').lower()
    if not _FINGERPRINT_PATTERN.match(normalized):
        raise ValueError('invalid fingerprint %r: expected the 64 hex digits of a SHA-256 '
                         'fingerprint, as iidca init and iidca fingerprint print it' % value)
    return normalized


def resolve_iidca_dir(iidca_dir):
    """Return the directory iidca uses: the option, else $IIDCA_PATH, else ~/.iidca."""
    if iidca_dir:
        return iidca_dir
    return os.environ.get('IIDCA_PATH') or os.path.expanduser('~/.iidca')


def read_simple_yaml(path):
    """Read the top-level `key: value` lines of a flat YAML file such as defaults.yaml.

    Return an empty dict when the file does not exist. Values lose surrounding quotes.
    NOTE: nested mappings and lists are skipped, which is enough for defaults.yaml.
    """
    values = {}
    if not os.path.exists(path):
        return values
    with open(path, 'r') as handle:
        for line in handle:
            match = re.match(r'^([A-Za-z0-9_-]+):\s*(.*?)\s*$', line)
            if match and match.group(2):
                values[match.group(1)] = match.group(2).strip('\'"')
    return values


class IidcaRunner(object):
    """Run the iidca binary for one module invocation, with IIDCA_PATH set from iidca_dir."""

    def __init__(self, module):
        self.module = module
        self.iidca_dir = resolve_iidca_dir(module.params.get('iidca_dir'))
        self._binary = None

    @property
    def binary(self):
        """Return the iidca launcher's path, failing the module when it is not found."""
        if self._binary is None:
            configured = self.module.params.get('iidca_path') or 'iidca'
            if os.sep in configured:
                if not os.access(configured, os.X_OK):
                    self.module.fail_json(
                        msg='iidca_path %s is not an executable file: install iidca there or '
                            'set iidca_path to the launcher, such as /usr/bin/iidca' % configured)
                self._binary = configured
            else:
                found = self.module.get_bin_path(configured)
                if not found:
                    self.module.fail_json(
                        msg='iidca_path %s was not found on PATH: install iidca or set '
                            'iidca_path to the launcher\'s full path' % configured)
                self._binary = found
        return self._binary

    def run(self, args, stage):
        """Run `iidca ARGS` and return (stdout, stderr), or fail the module with stderr.

        stage names the operation in the failure message, such as `bootstrap`.
        """
        command = [self.binary] + list(args)
        environ_update = {'IIDCA_PATH': self.iidca_dir}
        rc, stdout, stderr = self.module.run_command(command, environ_update=environ_update)
        if rc != 0:
            self.module.fail_json(
                msg='%s: iidca %s failed with exit status %d: %s'
                    % (stage, args[0], rc, (stderr or stdout).strip()),
                rc=rc, stdout=stdout, stderr=stderr, cmd=command)
        return stdout, stderr
