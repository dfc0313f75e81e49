#!/usr/bin/python
# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: provisioner
short_description: Manage the provisioners of an iidca CA
version_added: 0.1.0
description:
  - Runs on the CA host. Reads C(iidca provisioner list), compares the provisioner named
    I(name) with the options given, and runs C(iidca provisioner add), C(update) or C(remove).
  - Options that are omitted keep their current values on update, and iidca's defaults on add.
  - iidca writes the change to C(config/ca.yaml), and a running C(iidca serve) applies it when it
    restarts. Notify a handler that restarts the service when I(changed) is true.
  - In check mode, when C(config/ca.yaml) does not exist under I(iidca_dir) yet, the module
    reports the provisioner as one to add, without running iidca, because C(iidca init) creates
    a CA without provisioners.
options:
  name:
    description:
      - The provisioner's name, as clients pass it to C(iidca certificate --provisioner).
    type: str
    required: true
  state:
    description:
      - Whether the provisioner exists.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - The provisioner type. Only AWS is supported.
    type: str
    choices: [AWS]
    default: AWS
  aws_accounts:
    description:
      - The AWS account ids, 12 digits each, allowed to enroll. Required to add a provisioner.
      - The order does not matter.
    type: list
    elements: str
  disable_custom_sans:
    description:
      - Issue only the names AWS vouches for, the private IP and its DNS name.
    type: bool
  disable_trust_on_first_use:
    description:
      - Let an instance enroll more than once.
    type: bool
  instance_age:
    description:
      - Reject instances started longer ago than this duration, such as C(10m) or C(1h).
      - C(none) removes the limit.
    type: str
  aws_certificates:
    description:
      - A PEM file on the CA host with certificates to trust beside AWS's published ones.
      - iidca copies it under C(config/aws-certificates/). The copy is compared by content.
    type: path
extends_documentation_fragment:
  - iidca.pki.iidca
attributes:
  check_mode:
    support: full
    description: Reports the change without running iidca add, update or remove. Runs
      C(iidca provisioner list) only when C(config/ca.yaml) exists.
author:
  - iidca maintainers (@iidca)
'''

EXAMPLES = r'''
- name: Let two accounts enroll
  iidca.pki.provisioner:
    name: AWS IID Provisioner
    aws_accounts:
      - '123456789042'
      - '444455556666'
    instance_age: 1h
    iidca_dir: /var/lib/iidca
  notify: Reload iidca

- name: Remove a provisioner
  iidca.pki.provisioner:
    name: Old Provisioner
    state: absent
    iidca_dir: /var/lib/iidca
'''

RETURN = r'''
changes:
  description: The options that differed, and so were or would be set.
  returned: success
  type: list
  elements: str
  sample: [aws_accounts, instance_age]
command:
  description: The iidca provisioner command that ran, or would run in check mode.
  returned: changed
  type: list
  elements: str
  sample: [provisioner, update, AWS IID Provisioner, --instance-age, 1h]
provisioner:
  description: The provisioner as C(iidca provisioner list) shows it after the change.
  returned: success and state is present, except in check mode
  type: dict
  sample: {"name": "AWS IID Provisioner", "type": "AWS", "accounts": ["123456789042"]}
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iidca.pki.plugins.module_utils._iidca import (
    IIDCA_ARGUMENT_SPEC,
    IidcaRunner,
    parse_duration,
)

try:
    import yaml
except ImportError:
    HAS_YAML = False
else:
    HAS_YAML = True


def find_provisioner(listing, name):
    """Return the provisioner named name from the parsed list output, or None."""
    for provisioner in listing:
        if provisioner.get('name') == name:
            return provisioner
    return None


def same_duration(current, desired):
    """Compare a listed duration (absent when unlimited) with the option, none meaning absent."""
    if desired == 'none':
        return current in (None, '', 'none')
    if current in (None, '', 'none'):
        return False
    try:
        return parse_duration(current) == parse_duration(desired)
    except ValueError:
        # iidca may print a duration that this module cannot parse, such as 500ms, so set it again.
        return False


def differences(current, params, certificates_match):
    """Return the names of the options whose desired values differ from the provisioner."""
    changes = []
    if params['aws_accounts'] is not None and \
            sorted(set(params['aws_accounts'])) != sorted(set(current.get('accounts') or [])):
        changes.append('aws_accounts')
    flags = (('disable_custom_sans', 'disableCustomSANs'),
             ('disable_trust_on_first_use', 'disableTrustOnFirstUse'))
    for option, key in flags:
        if params[option] is not None and params[option] != bool(current.get(key)):
            changes.append(option)
    if params['instance_age'] is not None and \
            not same_duration(current.get('instanceAge'), params['instance_age']):
        changes.append('instance_age')
    if params['aws_certificates'] is not None and not certificates_match:
        changes.append('aws_certificates')
    return changes


def option_args(params, options, adding):
    """Return the command-line options that set the given module options."""
    args = []
    if 'aws_accounts' in options:
        for account in params['aws_accounts']:
            args += ['--aws-account', account]
    for option in ('disable_custom_sans', 'disable_trust_on_first_use'):
        if option in options:
            flag = '--' + option.replace('_', '-')
            if adding:
                args += [flag] if params[option] else []
            else:
                args.append('%s=%s' % (flag, 'true' if params[option] else 'false'))
    if 'instance_age' in options and not (adding and params['instance_age'] == 'none'):
        instance_age = params['instance_age']
        # iidca requires a unit, and this module documents a bare number as seconds.
        if instance_age.isdigit():
            instance_age += 's'
        args += ['--instance-age', instance_age]
    if 'aws_certificates' in options:
        args += ['--aws-certificates', params['aws_certificates']]
    return args


def configured_certificate_files(iidca_dir, name):
    """Return the awsCertificates paths of provisioner name in config/ca.yaml, or None."""
    if not HAS_YAML:
        return None
    path = os.path.join(iidca_dir, 'config', 'ca.yaml')
    try:
        with open(path, 'r') as handle:
            config = yaml.safe_load(handle) or {}
    except (IOError, OSError, yaml.YAMLError):
        return None
    for provisioner in config.get('provisioners') or []:
        if provisioner.get('name') == name:
            return [os.path.join(iidca_dir, entry)
                    for entry in provisioner.get('awsCertificates') or []]
    return None


def read_bytes(path):
    with open(path, 'rb') as handle:
        return handle.read()


def certificates_match(module, iidca_dir):
    """Return whether the provisioner's copied certificate file has aws_certificates' content.

    NOTE: without PyYAML on the CA host the copy cannot be found, so this returns False and
    the module updates the provisioner on every run.
    """
    desired = module.params['aws_certificates']
    if desired is None:
        return True
    if not os.path.exists(desired):
        module.fail_json(msg='provisioner: aws_certificates %s does not exist on the CA host'
                             % desired)
    copies = configured_certificate_files(iidca_dir, module.params['name'])
    if not copies or len(copies) != 1 or not os.path.exists(copies[0]):
        return False
    return read_bytes(copies[0]) == read_bytes(desired)


def list_provisioners(runner):
    stdout, dummy = runner.run(['provisioner', 'list'], 'provisioner')
    try:
        return json.loads(stdout)
    except ValueError as error:
        runner.module.fail_json(msg='provisioner: iidca provisioner list printed no JSON: %s'
                                    % error, stdout=stdout)


def plan(module, runner, current):
    """Return (changes, command) that bring the provisioner to the desired state."""
    params = module.params
    name = params['name']
    if params['state'] == 'absent':
        if current is None:
            return [], None
        return ['state'], ['provisioner', 'remove', name]
    if current is None:
        if not params['aws_accounts']:
            module.fail_json(msg='provisioner: aws_accounts is required to add provisioner %s, '
                                 'because without it every AWS account could enroll' % name)
        options = [option for option in ('aws_accounts', 'disable_custom_sans',
                                         'disable_trust_on_first_use', 'instance_age',
                                         'aws_certificates') if params[option] is not None]
        command = ['provisioner', 'add', name, '--type', params['type']]
        return ['state'] + options, command + option_args(params, options, adding=True)
    changes = differences(current, params, certificates_match(module, runner.iidca_dir))
    if not changes:
        return [], None
    return changes, ['provisioner', 'update', name] + option_args(params, changes, adding=False)


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        type=dict(type='str', choices=['AWS'], default='AWS'),
        aws_accounts=dict(type='list', elements='str'),
        disable_custom_sans=dict(type='bool'),
        disable_trust_on_first_use=dict(type='bool'),
        instance_age=dict(type='str'),
        aws_certificates=dict(type='path'),
    )
    argument_spec.update(IIDCA_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    instance_age = module.params['instance_age']
    if instance_age not in (None, 'none'):
        try:
            parse_duration(instance_age)
        except ValueError as error:
            module.fail_json(msg='provisioner: instance_age: %s' % error)

    runner = IidcaRunner(module)
    if module.check_mode and not os.path.exists(os.path.join(runner.iidca_dir, 'config',
                                                             'ca.yaml')):
        # In check mode, iidca init has not created the CA yet, and iidca itself may not be
        # installed yet. iidca init creates a CA without provisioners, so every one is added.
        current = None
    else:
        current = find_provisioner(list_provisioners(runner), module.params['name'])
    changes, command = plan(module, runner, current)
    result = dict(changed=bool(changes), changes=changes)
    if command:
        result['command'] = command
    if module.check_mode:
        module.exit_json(**result)
    if command:
        runner.run(command, 'provisioner')
    if module.params['state'] == 'present':
        result['provisioner'] = find_provisioner(list_provisioners(runner), module.params['name'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
