# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.iidca.pki.plugins.modules.bootstrap import bootstrap_reason

URL = 'https://127.0.0.1:8443'
FINGERPRINT = '572fe45dfb0d66ea86955b623c4fbde2413e4f776fe5bcad3bd22d9fa14ebddf'
OTHER = 'ab' * 32


@pytest.mark.parametrize('defaults, root_fingerprint, reason', [
    ({'ca-url': URL, 'fingerprint': FINGERPRINT}, FINGERPRINT, ''),
    ({'ca-url': URL, 'fingerprint': FINGERPRINT.upper()}, FINGERPRINT, ''),
    ({}, None, 'certs/root_ca.crt does not exist'),
    ({'ca-url': URL, 'fingerprint': FINGERPRINT}, OTHER,
     'certs/root_ca.crt has fingerprint %s, not %s' % (OTHER, FINGERPRINT)),
    ({'ca-url': 'https://other:1', 'fingerprint': FINGERPRINT}, FINGERPRINT,
     'config/defaults.yaml names ca-url https://other:1'),
    ({'ca-url': URL, 'fingerprint': OTHER}, FINGERPRINT,
     'config/defaults.yaml names fingerprint %s' % OTHER),
])
def test_bootstrap_reason(defaults, root_fingerprint, reason):
    result = bootstrap_reason(URL, FINGERPRINT, defaults, root_fingerprint)
    if reason:
        assert reason in result
    else:
        assert result == ''
