# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options shared by the modules of iidca.pki."""

    DOCUMENTATION = r'''
options:
  iidca_path:
    description:
      - The iidca launcher to run.
      - A bare name is looked up on C(PATH); a name with a slash is used as it is.
    type: path
    default: iidca
  iidca_dir:
    description:
      - The directory that iidca keeps its files in, passed to iidca as C(IIDCA_PATH).
      - When omitted, the C(IIDCA_PATH) environment variable of the managed host applies, else
        C(~/.iidca).
    type: path
requirements:
  - The iidca command on the managed host.
'''

    CLIENT = r'''
options:
  ca_url:
    description:
      - The CA's URL, such as C(https://ca.internal.example.com).
      - Set it once for several tasks with C(module_defaults) and C(group/iidca.pki.iidca).
    type: str
'''
