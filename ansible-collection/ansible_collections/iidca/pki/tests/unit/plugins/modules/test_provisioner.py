# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.iidca.pki.plugins.modules.provisioner import (
    differences,
    find_provisioner,
    option_args,
    same_duration,
)

CURRENT = {
    'type': 'AWS',
    'name': 'AWS IID Provisioner',
    'accounts': ['123456789042', '444455556666'],
    'disableCustomSANs': False,
    'disableTrustOnFirstUse': False,
    'instanceAge': '1h',
}


def params(**overrides):
    values = dict(aws_accounts=None, disable_custom_sans=None, disable_trust_on_first_use=None,
                  instance_age=None, aws_certificates=None)
    values.update(overrides)
    return values


def test_find_provisioner():
    listing = [dict(name='a'), CURRENT]
    assert find_provisioner(listing, 'AWS IID Provisioner') is CURRENT
    assert find_provisioner(listing, 'absent') is None


@pytest.mark.parametrize('current, desired, same', [
    ('1h', '1h', True),
    ('1h', '60m', True),
    ('1h', '2h', False),
    (None, '1h', False),
    (None, 'none', True),
    ('1h', 'none', False),
])
def test_same_duration(current, desired, same):
    assert same_duration(current, desired) is same


@pytest.mark.parametrize('desired, changes', [
    (params(), []),
    (params(aws_accounts=['444455556666', '123456789042']), []),
    (params(aws_accounts=['123456789042']), ['aws_accounts']),
    (params(disable_custom_sans=False, disable_trust_on_first_use=False), []),
    (params(disable_custom_sans=True), ['disable_custom_sans']),
    (params(disable_trust_on_first_use=True), ['disable_trust_on_first_use']),
    (params(instance_age='60m'), []),
    (params(instance_age='10m'), ['instance_age']),
    (params(instance_age='none'), ['instance_age']),
])
def test_differences(desired, changes):
    assert differences(CURRENT, desired, certificates_match=True) == changes


def test_differences_certificates():
    desired = params(aws_certificates='/x/emulator.pem')
    assert differences(CURRENT, desired, certificates_match=False) == ['aws_certificates']
    assert differences(CURRENT, desired, certificates_match=True) == []


def test_option_args_update_sets_booleans_explicitly():
    desired = params(aws_accounts=['1', '2'], disable_custom_sans=False, instance_age='none')
    args = option_args(desired, ['aws_accounts', 'disable_custom_sans', 'instance_age'],
                       adding=False)
    assert args == ['--aws-account', '1', '--aws-account', '2', '--disable-custom-sans=false',
                    '--instance-age', 'none']


def test_option_args_add_uses_flags():
    desired = params(aws_accounts=['1'], disable_custom_sans=True,
                     disable_trust_on_first_use=False, instance_age='none',
                     aws_certificates='/x/e.pem')
    options = ['aws_accounts', 'disable_custom_sans', 'disable_trust_on_first_use',
               'instance_age', 'aws_certificates']
    assert option_args(desired, options, adding=True) == [
        '--aws-account', '1', '--disable-custom-sans', '--aws-certificates', '/x/e.pem']
