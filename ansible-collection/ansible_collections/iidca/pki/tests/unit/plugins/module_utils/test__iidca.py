# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.iidca.pki.plugins.module_utils._iidca import (
    normalize_fingerprint,
    parse_duration,
    read_simple_yaml,
    resolve_iidca_dir,
)

FINGERPRINT = '572fe45dfb0d66ea86955b623c4fbde2413e4f776fe5bcad3bd22d9fa14ebddf'


@pytest.mark.parametrize('value, seconds', [
    (None, None),
    ('90', 90),
    ('90s', 90),
    ('30m', 1800),
    ('1h30m', 5400),
    ('1d12h', 129600),
    ('8h', 28800),
    ('7d', 604800),
])
def test_parse_duration_valid(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize('value', ['', '8 hours', '1h 30m', '30m1', '-5m', 'h'])
def test_parse_duration_invalid(value):
    with pytest.raises(ValueError, match='invalid duration'):
        parse_duration(value)


@pytest.mark.parametrize('value', [
    FINGERPRINT,
    FINGERPRINT.upper(),
    ':'.join(FINGERPRINT[i:i + 2] for i in range(0, 64, 2)),
])
def test_normalize_fingerprint_accepts_forms(value):
    assert normalize_fingerprint(value) == FINGERPRINT


@pytest.mark.parametrize('value', [None, '', FINGERPRINT[:-1], FINGERPRINT[:-1] + 'g'])
def test_normalize_fingerprint_rejects(value):
    with pytest.raises(ValueError, match='64 hex digits'):
        normalize_fingerprint(value)


def test_read_simple_yaml_defaults(tmp_path):
    path = tmp_path / 'defaults.yaml'
    path.write_text('ca-url: https://127.0.0.1:8443\nfingerprint: "%s"\nroot: /x/root.crt\n'
                    % FINGERPRINT)
    assert read_simple_yaml(str(path)) == {
        'ca-url': 'https://127.0.0.1:8443',
        'fingerprint': FINGERPRINT,
        'root': '/x/root.crt',
    }


def test_read_simple_yaml_missing_file(tmp_path):
    assert read_simple_yaml(str(tmp_path / 'absent.yaml')) == {}


def test_resolve_iidca_dir_order(monkeypatch):
    monkeypatch.setenv('IIDCA_PATH', '/from/env')
    assert resolve_iidca_dir('/from/option') == '/from/option'
    assert resolve_iidca_dir(None) == '/from/env'
    monkeypatch.delenv('IIDCA_PATH')
    assert resolve_iidca_dir(None).endswith('/.iidca')
