#!/usr/bin/python
# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: certificate
short_description: Enroll or renew a certificate from an iidca CA
version_added: 0.1.0
description:
  - Keeps a certificate and its private key on an instance, proving the instance's identity
    with its cloud's signed metadata through the iidca command.
  - Changes nothing when the certificate at I(path) is valid, chains to the bootstrapped root,
    has I(subject) as common name, holds I(subject) and every name in I(sans), has the requested
    key type, and is outside the renewal window.
  - Runs C(iidca renew --force) when only the renewal window is reached, and
    C(iidca certificate --force) when a file is missing, expired, does not chain to the root, or
    the names or key type differ.
  - The CA adds the names that AWS vouches for, the private IP and its DNS name, so the
    certificate may hold more names than requested.
options:
  provisioner:
    description:
      - The CA's provisioner to enroll with. Required when the module has to enroll.
    type: str
  subject:
    description:
      - The common name, also issued as a subject alternative name.
    type: str
    required: true
  sans:
    description:
      - More DNS names or IP addresses to request.
    type: list
    elements: str
    default: []
  path:
    description:
      - The certificate file. iidca writes the leaf followed by the intermediate, mode 0644.
    type: path
    required: true
  privatekey_path:
    description:
      - The private key file, written with mode 0600.
    type: path
    required: true
  kty:
    description:
      - The key type.
    type: str
    choices: [EC, RSA, OKP]
    default: EC
  curve:
    description:
      - The curve for I(kty=EC), C(P-256) when omitted. I(kty=OKP) always uses C(Ed25519).
    type: str
    choices: [P-256, P-384, P-521, Ed25519]
  size:
    description:
      - The RSA key size in bits for I(kty=RSA), 2048 when omitted.
    type: int
    choices: [2048, 3072, 4096]
  renew_within:
    description:
      - Renew when the certificate expires within this duration, such as C(8h), C(30m), C(1d)
        or a number of seconds.
      - When omitted, renew once two thirds of the lifetime have passed, as C(iidca renew) does.
    type: str
  root:
    description:
      - The root certificate that the certificate must chain to.
      - When omitted, C(certs/root_ca.crt) under I(iidca_dir), which M(iidca.pki.bootstrap) writes.
    type: path
  force:
    description:
      - Enroll again even when the certificate needs no change.
    type: bool
    default: false
extends_documentation_fragment:
  - iidca.pki.iidca
  - iidca.pki.iidca.CLIENT
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reports the action that would run, without running iidca.
author:
  - iidca maintainers (@iidca)
notes:
  - I(owner), I(group), I(mode) and the other file attributes apply to the certificate file.
    The private key gets I(owner) and I(group) too, and keeps mode 0600.
  - Reads and verifies certificates with the openssl command on the managed host.
'''

EXAMPLES = r'''
- name: Keep a certificate for the web server
  iidca.pki.certificate:
    provisioner: AWS IID Provisioner
    subject: web.internal.example.com
    sans:
      - www.internal.example.com
    path: /etc/iidca/certs/web.crt
    privatekey_path: /etc/iidca/certs/web.key
    renew_within: 8h
    group: www-data
    iidca_dir: /etc/iidca

- name: Use an RSA key
  iidca.pki.certificate:
    provisioner: AWS IID Provisioner
    subject: legacy.internal.example.com
    path: /etc/iidca/certs/legacy.crt
    privatekey_path: /etc/iidca/certs/legacy.key
    kty: RSA
    size: 3072
'''

RETURN = r'''
action:
  description: What ran, or would run in check mode.
  returned: success
  type: str
  choices: [none, enroll, renew]
  sample: renew
reason:
  description: Why the action ran. Empty when the action is C(none).
  returned: success
  type: str
  sample: the certificate expires within the renewal window of 28800 seconds
serial:
  description: The certificate's serial number in decimal, as C(iidca revoke) takes it.
  returned: success and a certificate exists
  type: str
  sample: '108843210943216781144313751390081481143'
not_before:
  description: Start of the validity period, UTC, ISO 8601.
  returned: success and a certificate exists
  type: str
  sample: '2026-12-04T17:48:34Z'
not_after:
  description: End of the validity period, UTC, ISO 8601.
  returned: success and a certificate exists
  type: str
  sample: '2026-12-05T17:49:34Z'
subject:
  description: The certificate's common name.
  returned: success and a certificate exists
  type: str
  sample: web.internal.example.com
sans:
  description: The DNS names and IP addresses of the certificate.
  returned: success and a certificate exists
  type: list
  elements: str
  sample: [web.internal.example.com, ip-10-0-0-1.ec2.internal, 10.0.0.1]
'''

import datetime
import ipaddress
import os

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
    IidcaRunner,
    parse_duration,
)

REPORTED_FACTS = ('serial', 'not_before', 'not_after', 'subject', 'sans')


def requested_key(params):
    """Return (kty, curve, size) with the defaults filled in, or raise ValueError."""
    kty = params['kty']
    curve = params.get('curve')
    size = params.get('size')
    if kty == 'EC':
        curve = curve or 'P-256'
        if curve == 'Ed25519' or size is not None:
            raise ValueError('kty EC takes curve P-256, P-384 or P-521 and no size, got curve '
                             '%s and size %s' % (curve, size))
        return kty, curve, None
    if kty == 'RSA':
        if curve is not None:
            raise ValueError('kty RSA takes size, not curve %s' % curve)
        return kty, None, size or 2048
    if curve not in (None, 'Ed25519') or size is not None:
        raise ValueError('kty OKP takes curve Ed25519 and no size, got curve %s and size %s'
                         % (curve, size))
    return kty, 'Ed25519', None


def renewal_due(not_before, not_after, now, renew_within_seconds):
    """Return True when now is inside the renewal window of a certificate.

    Without renew_within_seconds the window starts after two thirds of the lifetime, as
    `iidca renew` computes it.
    """
    if renew_within_seconds is None:
        lifetime = (not_after - not_before).total_seconds()
        return now >= not_before + datetime.timedelta(seconds=lifetime * 2 / 3)
    return now >= not_after - datetime.timedelta(seconds=renew_within_seconds)


def describe_key(key):
    """Format (kty, curve, size) as text, such as EC P-256 or RSA 2048."""
    kty, curve, size = key
    return ' '.join(str(part) for part in (kty, curve or size) if part)


def canonical_name(name):
    """Return a name in one form for comparison: DNS names in lower case without a final dot,
    IPv6 addresses as the eight lower-case groups that openssl x509 -text prints in upper case.
    """
    try:
        address = ipaddress.ip_address(u'%s' % name.strip())
    except ValueError:
        return name.strip().rstrip('.').lower()
    if address.version == 4:
        return str(address)
    return ':'.join('%x' % int(group, 16) for group in address.exploded.split(':'))


def decide(facts, subject, sans, key, now, renew_within_seconds):
    """Return (action, reason) for the facts of an existing leaf: none, enroll or renew.

    The chain is checked separately, because that needs openssl.
    """
    if canonical_name(facts['subject']) != canonical_name(subject):
        return 'enroll', 'the common name is %s, not %s' % (facts['subject'], subject)
    certificate_names = set(canonical_name(name) for name in facts["sans"])
    missing = sorted(name for name in set([subject] + list(sans))
                     if canonical_name(name) not in certificate_names)
    if missing:
        return 'enroll', 'the certificate does not hold the names %s' % ', '.join(missing)
    if tuple(facts['key']) != tuple(key):
        return 'enroll', 'the key is %s, not %s' % (describe_key(facts['key']),
                                                    describe_key(key))
    if now >= facts['not_after']:
        return 'enroll', 'the certificate expired at %s' % facts['not_after'].isoformat()
    if renewal_due(facts['not_before'], facts['not_after'], now, renew_within_seconds):
        if renew_within_seconds is None:
            return 'renew', 'two thirds of the lifetime have passed'
        return 'renew', 'the certificate expires within the renewal window of %d seconds' % (
            renew_within_seconds)
    return 'none', ''


def enroll_args(params, key, files_exist):
    """Return the arguments of `iidca certificate` for the module's parameters."""
    kty, curve, size = key
    args = ['certificate', params['subject'], params['path'], params['privatekey_path'],
            '--provisioner', params['provisioner'], '--kty', kty]
    if kty == 'RSA':
        args += ['--size', str(size)]
    elif kty == 'EC':
        args += ['--curve', curve]
    for san in params['sans']:
        args += ['--san', san]
    args += common_args(params)
    if files_exist:
        args.append('--force')
    return args


def renew_args(params):
    """Return the arguments of `iidca renew --force` for the module's parameters."""
    return ['renew', params['path'], params['privatekey_path'], '--force'] + common_args(params)


def common_args(params):
    args = []
    if params.get('ca_url'):
        args += ['--ca-url', params['ca_url']]
    if params.get('root'):
        args += ['--root', params['root']]
    return args


def current_state(module, openssl, root_path, key, renew_within_seconds):
    """Return (action, reason, facts) for the files on disk. facts is None without a leaf."""
    params = module.params
    for name in ('path', 'privatekey_path'):
        if not os.path.exists(params[name]):
            return 'enroll', '%s %s does not exist' % (name, params[name]), None
    try:
        blocks = read_pem_blocks(params['path'])
        facts = openssl.describe(blocks[0])
    except CertificateError as error:
        return 'enroll', 'the certificate cannot be read: %s' % error, None
    if params['force']:
        return 'enroll', 'force is true', facts
    action, reason = decide(facts, params['subject'], params['sans'], key, utcnow(),
                            renew_within_seconds)
    if action != 'enroll' and not openssl.key_matches(blocks[0], params['privatekey_path']):
        return 'enroll', '%s is not the key of the certificate' % params['privatekey_path'], \
            facts
    if action != 'enroll':
        if not os.path.exists(root_path):
            module.fail_json(msg='certificate: the root %s does not exist. Run '
                                 'iidca.pki.bootstrap first, or set root.' % root_path)
        problem = openssl.chain_problem(blocks, root_path)
        if problem:
            return 'enroll', 'the certificate does not chain to %s: %s' % (root_path, problem), \
                facts
    return action, reason, facts


def apply_file_attributes(module, changed):
    """Apply owner, group and mode to the certificate, and owner and group to the key."""
    certificate_args = module.load_file_common_arguments(module.params)
    changed = module.set_fs_attributes_if_different(certificate_args, changed)
    key_args = module.load_file_common_arguments(module.params,
                                                 path=module.params['privatekey_path'])
    key_args['mode'] = '0600'
    return module.set_fs_attributes_if_different(key_args, changed)


def main():
    argument_spec = dict(
        provisioner=dict(type='str'),
        subject=dict(type='str', required=True),
        sans=dict(type='list', elements='str', default=[]),
        path=dict(type='path', required=True),
        privatekey_path=dict(type='path', required=True, no_log=False),
        kty=dict(type='str', choices=['EC', 'RSA', 'OKP'], default='EC'),
        curve=dict(type='str', choices=['P-256', 'P-384', 'P-521', 'Ed25519']),
        size=dict(type='int', choices=[2048, 3072, 4096]),
        renew_within=dict(type='str'),
        root=dict(type='path'),
        force=dict(type='bool', default=False),
        ca_url=dict(type='str'),
    )
    argument_spec.update(IIDCA_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           add_file_common_args=True)
    params = module.params
    try:
        key = requested_key(params)
        renew_within_seconds = parse_duration(params['renew_within'])
    except ValueError as error:
        module.fail_json(msg='certificate: %s' % error)

    runner = IidcaRunner(module)
    openssl = OpenSSL(module)
    root_path = params['root'] or os.path.join(runner.iidca_dir, 'certs', 'root_ca.crt')
    action, reason, facts = current_state(module, openssl, root_path, key, renew_within_seconds)
    result = dict(changed=action != 'none', action=action, reason=reason)
    if facts is not None:
        result.update(public_facts(facts, REPORTED_FACTS))
    if module.check_mode:
        if action == 'none':
            result['changed'] = apply_file_attributes(module, False)
        module.exit_json(**result)

    if action == 'enroll':
        if not params['provisioner']:
            module.fail_json(msg='certificate: provisioner is required to enroll because %s'
                                 % reason)
        files_exist = os.path.exists(params['path']) or os.path.exists(params['privatekey_path'])
        runner.run(enroll_args(params, key, files_exist), 'certificate')
    elif action == 'renew':
        runner.run(renew_args(params), 'certificate')
    if action != 'none':
        try:
            facts = openssl.describe(read_pem_blocks(params['path'])[0])
        except CertificateError as error:
            module.fail_json(msg='certificate: iidca wrote %s, but %s' % (params['path'], error))
        result.update(public_facts(facts, REPORTED_FACTS))
    result['changed'] = apply_file_attributes(module, result['changed'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
