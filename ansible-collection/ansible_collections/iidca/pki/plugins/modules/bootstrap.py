#!/usr/bin/python
# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bootstrap
short_description: Trust an iidca CA by the fingerprint of its root
version_added: 0.1.0
description:
  - Runs C(iidca bootstrap), which downloads the CA's root certificate, checks its SHA-256
    fingerprint and writes C(certs/root_ca.crt) and C(config/defaults.yaml) under C(iidca_dir).
  - Changes nothing when C(config/defaults.yaml) already names C(ca_url) and C(fingerprint) and
    C(certs/root_ca.crt) has that fingerprint.
  - A saved root with another fingerprint is replaced, after iidca has checked that the CA
    presents a root with the requested fingerprint.
options:
  ca_url:
    description:
      - The CA's URL, such as C(https://ca.internal.example.com).
    type: str
    required: true
  fingerprint:
    description:
      - The SHA-256 fingerprint of the CA's root, as C(iidca init) and C(iidca fingerprint) print
        it on the CA host. Colons and upper case are accepted.
    type: str
    required: true
extends_documentation_fragment:
  - iidca.pki.iidca
attributes:
  check_mode:
    support: full
    description: Reports whether bootstrap would run, without running it.
author:
  - iidca maintainers (@iidca)
notes:
  - The first download cannot verify the server because the root is not known yet. The
    fingerprint is what makes it safe, so take it from the CA host over a trusted channel.
'''

EXAMPLES = r'''
- name: Trust the CA
  iidca.pki.bootstrap:
    ca_url: https://ca.internal.example.com
    fingerprint: 572fe45dfb0d66ea86955b623c4fbde2413e4f776fe5bcad3bd22d9fa14ebddf
    iidca_dir: /etc/iidca
'''

RETURN = r'''
ca_url:
  description: The CA's URL saved in C(config/defaults.yaml).
  returned: success
  type: str
  sample: https://ca.internal.example.com
fingerprint:
  description: The root's SHA-256 fingerprint, 64 lower-case hex digits.
  returned: success
  type: str
  sample: 572fe45dfb0d66ea86955b623c4fbde2413e4f776fe5bcad3bd22d9fa14ebddf
root_path:
  description: The path of the saved root certificate.
  returned: success
  type: str
  sample: /etc/iidca/certs/root_ca.crt
reason:
  description: Why bootstrap ran, or would run in check mode. Empty when nothing changed.
  returned: success
  type: str
  sample: certs/root_ca.crt does not exist
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iidca.pki.plugins.module_utils._certificate import file_fingerprint
from ansible_collections.iidca.pki.plugins.module_utils._iidca import (
    IIDCA_ARGUMENT_SPEC,
    IidcaRunner,
    normalize_fingerprint,
    read_simple_yaml,
)


def bootstrap_reason(ca_url, fingerprint, defaults, root_fingerprint):
    """Return why bootstrap must run, or an empty string when the saved state matches."""
    if root_fingerprint is None:
        return 'certs/root_ca.crt does not exist or contains no certificate'
    if root_fingerprint != fingerprint:
        return 'certs/root_ca.crt has fingerprint %s, not %s' % (root_fingerprint, fingerprint)
    if defaults.get('ca-url') != ca_url:
        return 'config/defaults.yaml names ca-url %s, not %s' % (defaults.get('ca-url'), ca_url)
    if normalize_or_none(defaults.get('fingerprint')) != fingerprint:
        return 'config/defaults.yaml names fingerprint %s, not %s' % (
            defaults.get('fingerprint'), fingerprint)
    return ''


def normalize_or_none(value):
    """Return the normalized fingerprint, or None when value is not one."""
    try:
        return normalize_fingerprint(value)
    except ValueError:
        return None


def main():
    argument_spec = dict(
        ca_url=dict(type='str', required=True),
        fingerprint=dict(type='str', required=True),
    )
    argument_spec.update(IIDCA_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    ca_url = module.params['ca_url'].rstrip('/')
    try:
        fingerprint = normalize_fingerprint(module.params['fingerprint'])
    except ValueError as error:
        module.fail_json(msg='bootstrap: %s' % error)

    runner = IidcaRunner(module)
    root_path = os.path.join(runner.iidca_dir, 'certs', 'root_ca.crt')
    defaults = read_simple_yaml(os.path.join(runner.iidca_dir, 'config', 'defaults.yaml'))
    root_fingerprint = file_fingerprint(root_path)
    reason = bootstrap_reason(ca_url, fingerprint, defaults, root_fingerprint)
    result = dict(changed=bool(reason), reason=reason, ca_url=ca_url, fingerprint=fingerprint,
                  root_path=root_path)
    if not reason or module.check_mode:
        module.exit_json(**result)

    args = ['bootstrap', '--ca-url', ca_url, '--fingerprint', fingerprint]
    if root_fingerprint is not None and root_fingerprint != fingerprint:
        args.append('--force')
    command = [runner.binary] + args
    rc, stdout, stderr = module.run_command(command,
                                            environ_update={'IIDCA_PATH': runner.iidca_dir})
    if rc != 0:
        message = (stderr or stdout).strip()
        # iidca's own message states what to do about a connection or a usage error, so the hint
        # about where the fingerprint comes from is added only where the fingerprint is at fault.
        hint = ''
        if 'fingerprint' in message.lower():
            hint = (' Check that the fingerprint is the one that iidca init printed, or run '
                    'iidca fingerprint certs/root_ca.crt on the CA host.')
        module.fail_json(
            msg='bootstrap: iidca bootstrap --ca-url %s --fingerprint %s failed with exit status '
                '%d: %s.%s' % (ca_url, fingerprint, rc, message.rstrip('.'), hint),
            rc=rc, stdout=stdout, stderr=stderr, cmd=command)
    if file_fingerprint(root_path) != fingerprint:
        module.fail_json(msg='bootstrap: after iidca bootstrap, %s does not have fingerprint %s'
                             % (root_path, fingerprint))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
