# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.iidca.pki.plugins.modules.certificate import (
    decide,
    enroll_args,
    renew_args,
    renewal_due,
    requested_key,
)

NOT_BEFORE = datetime.datetime(2026, 12, 4, 0, 0, 0)
NOT_AFTER = datetime.datetime(2026, 12, 5, 0, 0, 0)
EC_P256 = ('EC', 'P-256', None)


def facts(**overrides):
    values = dict(subject='foo.local', sans=['foo.local', 'bar.local', '10.0.0.1'],
                  key=EC_P256, not_before=NOT_BEFORE, not_after=NOT_AFTER)
    values.update(overrides)
    return values


def at(hours):
    return NOT_BEFORE + datetime.timedelta(hours=hours)


@pytest.mark.parametrize('params, key', [
    (dict(kty='EC'), ('EC', 'P-256', None)),
    (dict(kty='EC', curve='P-384'), ('EC', 'P-384', None)),
    (dict(kty='RSA'), ('RSA', None, 2048)),
    (dict(kty='RSA', size=4096), ('RSA', None, 4096)),
    (dict(kty='OKP'), ('OKP', 'Ed25519', None)),
    (dict(kty='OKP', curve='Ed25519'), ('OKP', 'Ed25519', None)),
])
def test_requested_key_defaults(params, key):
    assert requested_key(params) == key


@pytest.mark.parametrize('params, message', [
    (dict(kty='EC', curve='Ed25519'), 'kty EC takes curve'),
    (dict(kty='EC', size=2048), 'kty EC takes curve'),
    (dict(kty='RSA', curve='P-256'), 'kty RSA takes size'),
    (dict(kty='OKP', curve='P-256'), 'kty OKP takes curve Ed25519'),
    (dict(kty='OKP', size=2048), 'kty OKP takes curve Ed25519'),
])
def test_requested_key_rejects_mismatch(params, message):
    with pytest.raises(ValueError, match=message):
        requested_key(params)


@pytest.mark.parametrize('hours, renew_within, due', [
    (15.9, None, False),
    (16.0, None, True),
    (23.9, None, True),
    (15.9, 8 * 3600, False),
    (16.0, 8 * 3600, True),
    (1, 48 * 3600, True),
])
def test_renewal_due(hours, renew_within, due):
    assert renewal_due(NOT_BEFORE, NOT_AFTER, at(hours), renew_within) is due


@pytest.mark.parametrize('current, sans, key, hours, action, reason', [
    (facts(), ['bar.local'], EC_P256, 1, 'none', ''),
    (facts(), [], EC_P256, 1, 'none', ''),
    (facts(subject='old.local'), [], EC_P256, 1, 'enroll', 'the common name is old.local'),
    (facts(), ['baz.local'], EC_P256, 1, 'enroll', 'does not hold the names baz.local'),
    (facts(), [], ('RSA', None, 2048), 1, 'enroll', 'the key is EC P-256, not RSA 2048'),
    (facts(), [], EC_P256, 24, 'enroll', 'expired'),
    (facts(), [], EC_P256, 17, 'renew', 'two thirds of the lifetime'),
])
def test_decide(current, sans, key, hours, action, reason):
    decided_action, decided_reason = decide(current, 'foo.local', sans, key, at(hours), None)
    assert decided_action == action
    assert reason in decided_reason


@pytest.mark.parametrize('subject, sans', [
    ('Foo.Local', []),
    ('foo.local', ['BAR.local']),
    ('foo.local', ['::1']),
    ('foo.local', ['fd00::a']),
])
def test_decide_canonical_names(subject, sans):
    current = facts(subject='Foo.Local' if subject == 'Foo.Local' else 'foo.local',
                    sans=['foo.local', 'bar.local', '0:0:0:0:0:0:0:1', 'FD00:0:0:0:0:0:0:A'])
    action, reason = decide(current, subject, sans, EC_P256, at(1), None)
    assert action == 'none', reason


def test_decide_renew_within():
    action, reason = decide(facts(), 'foo.local', [], EC_P256, at(1), 48 * 3600)
    assert action == 'renew'
    assert reason == 'the certificate expires within the renewal window of 172800 seconds'


def params(**overrides):
    values = dict(subject='foo.local', path='/c/foo.crt', privatekey_path='/c/foo.key',
                  provisioner='AWS IID Provisioner', sans=[], ca_url=None, root=None)
    values.update(overrides)
    return values


def test_enroll_args_ec_with_sans_and_force():
    args = enroll_args(params(sans=['a.local', '10.0.0.9'], ca_url='https://127.0.0.1:1'),
                       EC_P256, files_exist=True)
    assert args == ['certificate', 'foo.local', '/c/foo.crt', '/c/foo.key',
                    '--provisioner', 'AWS IID Provisioner', '--kty', 'EC', '--curve', 'P-256',
                    '--san', 'a.local', '--san', '10.0.0.9',
                    '--ca-url', 'https://127.0.0.1:1', '--force']


def test_enroll_args_rsa_new_files():
    args = enroll_args(params(), ('RSA', None, 3072), files_exist=False)
    assert args == ['certificate', 'foo.local', '/c/foo.crt', '/c/foo.key',
                    '--provisioner', 'AWS IID Provisioner', '--kty', 'RSA', '--size', '3072']


def test_renew_args_with_root():
    assert renew_args(params(root='/r/root.crt')) == [
        'renew', '/c/foo.crt', '/c/foo.key', '--force', '--root', '/r/root.crt']
