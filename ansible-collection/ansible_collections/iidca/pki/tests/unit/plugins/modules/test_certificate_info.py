# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.iidca.pki.plugins.modules.certificate_info import (
    parse_inspect_provisioner,
)

INSPECT = '''X.509v3 TLS Certificate (ECDSA P-256) [Serial: 1088...1143]
  Subject:     foo.local
               10.149.79.50
  Issuer:      My CA Intermediate CA
  Provisioner: AWS IID Provisioner [AWS, instance i-ee6ec70d13062ec37, account 123456789042]
  Valid from:  2026-12-04T17:48:34Z
'''


@pytest.mark.parametrize('output, provisioner', [
    (INSPECT, 'AWS IID Provisioner [AWS, instance i-ee6ec70d13062ec37, account 123456789042]'),
    ('X.509v3 TLS Certificate\n  Subject: foo.local\n', None),
    ('', None),
    (None, None),
])
def test_parse_inspect_provisioner(output, provisioner):
    assert parse_inspect_provisioner(output) == provisioner
