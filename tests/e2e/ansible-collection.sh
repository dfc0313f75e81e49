#!/usr/bin/env bash
# Runs the iidca.pki Ansible collection against a real CA: starts the metadata emulator and
# `iidca serve` on loopback ports, then runs ansible-playbook on the collection's integration
# targets (provisioner, bootstrap, certificate, certificate_info) and on the client and ca_server
# roles. Each assert task is a check: a first run changes, a rerun does not, check mode reports
# without changing, and a wrong fingerprint fails with a clear message. Each role also runs with
# --check --diff on a new work directory, where it must succeed, report changes and leave every
# file as it was, and again after the real runs, where it must report changed=0. Also runs
# ansible-doc, the unit tests, ansible-test sanity (after tests/prepare-offline-sanity.sh, which
# rewrites ansible-test's environments under ~/.ansible/test/venv), yamllint and ansible-lint on
# the collection. Needs Debian's ansible-core and the packages in scripts/install-deps; no root.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

COLLECTIONS_ROOT=$IIDCA_ROOT/ansible-collection
COLLECTION_DIR=$COLLECTIONS_ROOT/ansible_collections/iidca/pki
# Debian's python3, which has the ansible package: pyenv shims may come first in PATH.
SYSTEM_PYTHON=/usr/bin/python3
PROVISIONER_NAME="AWS IID Provisioner"
ROLE_PROVISIONER_NAME="Role Provisioner"

for tool in ansible-playbook ansible-doc ansible-test; do
  if ! command -v "$tool" >/dev/null; then
    skip_test "$tool not found: run scripts/install-deps as root"
  fi
done
ensure_built

make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
mkdir "$CAPTURE_DIR"
export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
echo "Work directory $WORK"

export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS_ROOT
export ANSIBLE_LOCAL_TEMP=$WORK/ansible-local
export ANSIBLE_REMOTE_TEMP=$WORK/ansible-remote
export ANSIBLE_NOCOLOR=1
export ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_PYTHON_INTERPRETER=$SYSTEM_PYTHON

for module in bootstrap certificate certificate_info provisioner; do
  run_captured "doc-$module" "" ansible-doc "iidca.pki.$module"
  expect_status "doc-$module" 0 "ansible-doc iidca.pki.$module renders"
done

# ansible-test must run from the collection's directory; it writes tests/output there.
echo "  \$ (cd $COLLECTION_DIR && ansible-test units --python 3.11)"
RC=0
(cd "$COLLECTION_DIR" && timeout --foreground "$CLIENT_TIMEOUT" \
  ansible-test units --python 3.11) >"$CAPTURE_DIR/units.out" 2>"$CAPTURE_DIR/units.err" || RC=$?
expect_status units 0 "ansible-test units --python 3.11"
grep -E '^=+ [0-9]+ passed' "$CAPTURE_DIR/units.out" | sed 's/^/  /' || true

# The seven sanity tests that install from PyPI get environments of Debian's packages first.
run_captured prepare-sanity "" "$COLLECTIONS_ROOT/tests/prepare-offline-sanity.sh"
expect_status prepare-sanity 0 "prepare-offline-sanity.sh"
echo "  \$ (cd $COLLECTION_DIR && ansible-test sanity --python 3.11)"
RC=0
(cd "$COLLECTION_DIR" && timeout --foreground "$CLIENT_TIMEOUT" \
  ansible-test sanity --python 3.11) >"$CAPTURE_DIR/sanity.out" 2>"$CAPTURE_DIR/sanity.err" ||
  RC=$?
expect_status sanity 0 "ansible-test sanity --python 3.11 ($(grep -c '^Running sanity test' \
  "$CAPTURE_DIR/sanity.out") tests)"

echo "  \$ (cd $COLLECTION_DIR && yamllint . && ansible-lint)"
RC=0
(cd "$COLLECTION_DIR" && yamllint .) >"$CAPTURE_DIR/yamllint.out" 2>"$CAPTURE_DIR/yamllint.err" ||
  RC=$?
expect_status yamllint 0 "yamllint on the collection"
RC=0
(cd "$COLLECTION_DIR" && timeout --foreground "$CLIENT_TIMEOUT" ansible-lint --nocolor) \
  >"$CAPTURE_DIR/ansible-lint.out" 2>"$CAPTURE_DIR/ansible-lint.err" || RC=$?
expect_status ansible-lint 0 "ansible-lint on the collection"

EMULATOR_PORT=$(pick_free_port)
start_emulator "" "127.0.0.1:$EMULATOR_PORT" "$WORK/emulator.pem" \
  "$CAPTURE_DIR/emulator.log" || abort_test "metadata emulator listens on 127.0.0.1:$EMULATOR_PORT"
pass "metadata emulator listens on $EMULATOR_URL"
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$EMULATOR_URL

CA_PORT=$(pick_free_port)
run_captured init "" "$IIDCA_BIN" init --name "My CA" --dns 127.0.0.1 \
  --address "127.0.0.1:$CA_PORT" --password-file "$WORK/pw"
require_status init 0 "iidca init"
ROOT_FINGERPRINT=$("$IIDCA_BIN" fingerprint "$IIDCA_PATH/certs/root_ca.crt")
run_captured provisioner-add "" "$IIDCA_BIN" provisioner add "$PROVISIONER_NAME" \
  --type AWS --aws-account "${AWS_ACCOUNT:-123456789042}" --aws-certificates "$WORK/emulator.pem"
require_status provisioner-add 0 "iidca provisioner add"
# The role enrolls the same emulated instance again, so its provisioner allows that.
run_captured role-provisioner-add "" "$IIDCA_BIN" provisioner add "$ROLE_PROVISIONER_NAME" \
  --type AWS --aws-account "${AWS_ACCOUNT:-123456789042}" --aws-certificates "$WORK/emulator.pem" \
  --disable-trust-on-first-use
require_status role-provisioner-add 0 "iidca provisioner add --disable-trust-on-first-use"

echo "  \$ iidca serve --password-file $WORK/pw &"
start_background "" "$CAPTURE_DIR/serve.log" "$IIDCA_BIN" serve --password-file "$WORK/pw"
if ! wait_for_health "" "$STARTED_PID" "$CA_PORT" "$IIDCA_PATH/certs/root_ca.crt"; then
  sed 's/^/  | /' "$CAPTURE_DIR/serve.log"
  abort_test "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"
fi
pass "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"

DISTRIBUTION_TARBALL=$(find "$IIDCA_ROOT/cli/target" -maxdepth 1 -name 'iidca-*.tar.gz' \
  -print -quit)
if [[ -z $DISTRIBUTION_TARBALL ]]; then
  abort_test "the distribution tarball cli/target/iidca-*.tar.gz exists"
fi

# A well-formed fingerprint that is not the root's.
WRONG_FINGERPRINT=$(printf 'not the root of %s' "$ROOT_FINGERPRINT" | sha256sum | cut -c 1-64)
cat >"$WORK/vars.json" <<JSON
{
  "iidca_bin": "$IIDCA_BIN",
  "ca_url": "https://127.0.0.1:$CA_PORT",
  "ca_dir": "$IIDCA_PATH",
  "client_dir": "$WORK/client",
  "work_dir": "$WORK",
  "root_fingerprint": "$ROOT_FINGERPRINT",
  "wrong_fingerprint": "$WRONG_FINGERPRINT",
  "provisioner_name": "$PROVISIONER_NAME",
  "emulator_certificates": "$WORK/emulator.pem",
  "role_provisioner_name": "$ROLE_PROVISIONER_NAME",
  "distribution_tarball": "$DISTRIBUTION_TARBALL"
}
JSON

run_captured playbook "" ansible-playbook -i localhost, -c local \
  -e "@$WORK/vars.json" "$COLLECTION_DIR/tests/integration/iidca-e2e.yml"

# One check per assert task: "All assertions passed" after its TASK line, or a failure.
while IFS=$'\t' read -r outcome task; do
  if [[ $outcome == PASS ]]; then
    pass "$task"
  else
    fail "$task"
  fi
done < <(awk '
  /^(TASK \[|PLAY RECAP)/ && failed != "" { print "FAIL\t" failed; failed = "" }
  /^TASK \[/ { task = $0; sub(/^TASK \[/, "", task); sub(/\] \**$/, "", task); next }
  /"msg": "All assertions passed"/ { print "PASS\t" task; next }
  /^fatal: / { failed = task }
  /^\.\.\.ignoring$/ { failed = "" }
  END { if (failed != "") print "FAIL\t" failed }
' "$CAPTURE_DIR/playbook.out")
expect_status playbook 0 "ansible-playbook on the integration targets"

# Each role runs in check mode on a new host first, as an operator runs `ansible-playbook
# --check --diff` before a change: it must succeed, report changes and write nothing. The digest
# leaves out the logs, Ansible's temporary directories and the directory of the running CA,
# which iidca serve writes to.
digest_work_dir() {
  tree_digest "$WORK" logs ansible-local ansible-remote ca
}

# The client role: a check run on a new host reports the installation, the bootstrap and the
# enrollment and writes nothing. The first run installs, bootstraps, enrolls and runs the reload
# command. The second run and a check run change nothing, so they do not run the reload command.
role_playbook=$COLLECTION_DIR/tests/integration/iidca-role-client.yml
digest_work_dir >"$CAPTURE_DIR/digest-before-client-check"
run_captured role-check-new "" ansible-playbook --check --diff -i localhost, -c local \
  -e "@$WORK/vars.json" "$role_playbook"
expect_status role-check-new 0 "check run of the client role on a new host"
expect_changes_reported role-check-new "check run of the client role on a new host reports changes"
expect_captured role-check-new out "A real run unpacks $DISTRIBUTION_TARBALL" \
  "check run of the client role says that a real run unpacks the tarball"
digest_work_dir >"$CAPTURE_DIR/digest-after-client-check"
expect_same_digest "$CAPTURE_DIR/digest-before-client-check" \
  "$CAPTURE_DIR/digest-after-client-check" \
  "check run of the client role on a new host changes no file"
run_captured role-first "" ansible-playbook -i localhost, -c local -e "@$WORK/vars.json" \
  "$role_playbook"
expect_status role-first 0 "first run of the client role"
expect_captured role-first out "changed: [localhost]" "first run of the client role changes"
role_files=$(cd "$WORK/role" && find etc/certs etc/renew-app.env iidca reloaded 2>&1 | sort |
  paste -sd ' ')
expect_equal "$role_files" "etc/certs etc/certs/.app.key.lock etc/certs/app.crt etc/certs/app.key \
etc/certs/root_ca.crt etc/renew-app.env iidca reloaded" \
  "client role wrote the root, the certificate, the key, its lock file and renew-app.env and ran \
the reload"
rm -f "$WORK/role/reloaded"
run_captured role-second "" ansible-playbook -i localhost, -c local -e "@$WORK/vars.json" \
  "$role_playbook"
expect_status role-second 0 "second run of the client role"
expect_captured role-second out "changed=0" "second run of the client role changes nothing"
if [[ -e $WORK/role/reloaded ]]; then
  fail "second run of the client role ran the reload command"
else
  pass "second run of the client role did not run the reload command"
fi
run_captured role-check-configured "" ansible-playbook --check --diff -i localhost, -c local \
  -e "@$WORK/vars.json" "$role_playbook"
expect_status role-check-configured 0 "check run of the client role after a real run"
expect_captured role-check-configured out "changed=0" \
  "check run of the client role after a real run reports no change"
if [[ -e $WORK/role/reloaded ]]; then
  fail "check run of the client role ran the reload command"
else
  pass "check run of the client role did not run the reload command"
fi

# The ca_server role, without the service. A check run on a new host reports init and the
# provisioner and writes nothing. The first run creates the CA and adds the provisioner, and
# the second run and a check run change nothing.
ca_role_playbook=$COLLECTION_DIR/tests/integration/iidca-role-ca-server.yml
digest_work_dir >"$CAPTURE_DIR/digest-before-ca-check"
run_captured ca-role-check-new "" ansible-playbook --check --diff -i localhost, -c local \
  -e "@$WORK/vars.json" "$ca_role_playbook"
expect_status ca-role-check-new 0 "check run of the ca_server role on a new host"
expect_changes_reported ca-role-check-new \
  "check run of the ca_server role on a new host reports changes"
expect_captured ca-role-check-new out "changed: [localhost] => (item=Role CA Provisioner)" \
  "check run of the ca_server role reports the provisioner to add"
digest_work_dir >"$CAPTURE_DIR/digest-after-ca-check"
expect_same_digest "$CAPTURE_DIR/digest-before-ca-check" \
  "$CAPTURE_DIR/digest-after-ca-check" \
  "check run of the ca_server role on a new host changes no file"
run_captured ca-role-first "" ansible-playbook -i localhost, -c local -e "@$WORK/vars.json" \
  "$ca_role_playbook"
expect_status ca-role-first 0 "first run of the ca_server role"
expect_captured ca-role-first out "Root fingerprint: " "ca_server role shows the root fingerprint"
run_captured ca-role-list "" env IIDCA_PATH="$WORK/role-ca" "$IIDCA_BIN" provisioner list
expect_captured ca-role-list out '"name" : "Role CA Provisioner"' \
  "ca_server role added Role CA Provisioner"
expect_equal "$(stat -c %a "$WORK/role-ca-secrets")" 700 \
  "ca_server role created the password file's directory with mode 0700"
expect_equal "$(stat -c %a "$WORK/role-ca-secrets/password")" 600 \
  "ca_server role's password file has mode 0600"
run_captured ca-role-second "" ansible-playbook -i localhost, -c local -e "@$WORK/vars.json" \
  "$ca_role_playbook"
expect_status ca-role-second 0 "second run of the ca_server role"
expect_captured ca-role-second out "changed=0" "second run of the ca_server role changes nothing"
run_captured ca-role-check-configured "" ansible-playbook --check --diff -i localhost, -c local \
  -e "@$WORK/vars.json" "$ca_role_playbook"
expect_status ca-role-check-configured 0 "check run of the ca_server role after a real run"
expect_captured ca-role-check-configured out "changed=0" \
  "check run of the ca_server role after a real run reports no change"
run_captured ca-role-new-password "" ansible-playbook -i localhost, -c local \
  -e "@$WORK/vars.json" -e '{"iidca_ca_server_password": "another role password"}' \
  "$ca_role_playbook"
expect_status ca-role-new-password 2 "the ca_server role fails on a new password for its CA"
expect_captured ca-role-new-password out "cannot change the password of an existing CA" \
  "the failure says that the CA's password cannot change"
expect_equal "$(cat "$WORK/role-ca-secrets/password")" "role test password" \
  "the CA's password file still holds its password"
if grep -qF -e "role test password" -e "another role password" \
  "$CAPTURE_DIR/ca-role-check-new.out" "$CAPTURE_DIR/ca-role-first.out" \
  "$CAPTURE_DIR/ca-role-second.out" "$CAPTURE_DIR/ca-role-check-configured.out" \
  "$CAPTURE_DIR/ca-role-new-password.out"; then
  fail "ca_server role printed the CA password"
else
  pass "ca_server role did not print the CA password"
fi

finish_test
