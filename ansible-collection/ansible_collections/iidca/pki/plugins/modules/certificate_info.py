#!/usr/bin/python
# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: certificate_info
short_description: Read the facts of a certificate issued by an iidca CA
version_added: 0.1.0
description:
  - Parses the first certificate in I(path) with the openssl command, and reads the
    provisioner that issued it from C(iidca inspect --short).
  - Never changes anything.
options:
  path:
    description:
      - The certificate file, PEM. Only the first certificate, the leaf, is described.
    type: path
    required: true
extends_documentation_fragment:
  - iidca.pki.iidca
attributes:
  check_mode:
    support: full
    description: Runs the same way in check mode.
author:
  - iidca maintainers (@iidca)
notes:
  - When the iidca command is not found, I(provisioner) is returned as null and the other
    facts are still returned.
'''

EXAMPLES = r'''
- name: Read the certificate's facts
  iidca.pki.certificate_info:
    path: /etc/iidca/certs/web.crt
  register: web_certificate

- name: Show when it expires
  ansible.builtin.debug:
    msg: "{{ web_certificate.serial }} expires at {{ web_certificate.not_after }}"
'''

RETURN = r'''
serial:
  description: The serial number in decimal, as C(iidca revoke) takes it.
  returned: success
  type: str
  sample: '108843210943216781144313751390081481143'
subject:
  description: The subject's common name.
  returned: success
  type: str
  sample: web.internal.example.com
sans:
  description: The DNS names and IP addresses of the certificate.
  returned: success
  type: list
  elements: str
  sample: [web.internal.example.com, 10.0.0.1]
issuer:
  description: The issuer's distinguished name, RFC 4514.
  returned: success
  type: str
  sample: CN=My CA Intermediate CA
not_before:
  description: Start of the validity period, UTC, ISO 8601.
  returned: success
  type: str
  sample: '2026-12-04T17:48:34Z'
not_after:
  description: End of the validity period, UTC, ISO 8601.
  returned: success
  type: str
  sample: '2026-12-05T17:49:34Z'
expired:
  description: Whether the end of the validity period has passed.
  returned: success
  type: bool
  sample: false
fingerprint:
  description: The SHA-256 of the certificate's DER encoding, lower-case hex.
  returned: success
  type: str
  sample: 5d15a9c0e3f4b8a1d2c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5
key_type:
  description: The key type, as the kty option of M(iidca.pki.certificate) names it.
  returned: success
  type: str
  sample: EC
provisioner:
  description: The provisioner line of C(iidca inspect --short), or null without iidca.
  returned: success
  type: str
  sample: AWS IID Provisioner [AWS, instance i-0b33274236dc82986, account 123456789042]
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iidca.pki.plugins.module_utils._certificate import (
    CertificateError,
    OpenSSL,
    public_facts,
    read_pem_blocks,
    utcnow,
)
from ansible_collections.iidca.pki.plugins.module_utils._iidca import (
    IIDCA_ARGUMENT_SPEC,
    resolve_iidca_dir,
)

_PROVISIONER_LINE = re.compile(r'^\s*Provisioner:\s*(.+?)\s*$', re.MULTILINE)
REPORTED_FACTS = ('serial', 'subject', 'sans', 'issuer', 'not_before', 'not_after',
                  'fingerprint')


def parse_inspect_provisioner(output):
    """Return the value of the Provisioner line of `iidca inspect --short`, or None."""
    match = _PROVISIONER_LINE.search(output or '')
    return match.group(1) if match else None


def main():
    argument_spec = dict(path=dict(type='path', required=True))
    argument_spec.update(IIDCA_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    path = module.params['path']
    try:
        facts = OpenSSL(module).describe(read_pem_blocks(path)[0])
    except CertificateError as error:
        module.fail_json(msg='certificate_info: %s is not a readable PEM certificate: %s'
                             % (path, error))
    result = public_facts(facts, REPORTED_FACTS)
    result['key_type'] = facts['key'][0]
    result['expired'] = utcnow() >= facts['not_after']
    result['provisioner'] = None
    binary = module.get_bin_path(module.params['iidca_path'])
    if binary:
        rc, stdout, dummy = module.run_command(
            [binary, 'inspect', '--short', path],
            environ_update={'IIDCA_PATH': resolve_iidca_dir(module.params['iidca_dir'])})
        if rc == 0:
            result['provisioner'] = parse_inspect_provisioner(stdout)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
