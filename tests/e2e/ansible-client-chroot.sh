#!/usr/bin/env bash
# Applies the iidca.pki.client role to a Debian 12 root directory through the
# community.general.chroot connection, as when an image is prepared offline: the playbook
# installs the .deb in the root, then the role bootstraps, enrolls and enables
# iidca-renew@NAME.timer. ansible-playbook runs inside a network namespace where the metadata
# emulator owns 169.254.169.254:80 and iidca serve listens on 127.0.0.1:8443. Then it checks
# that iidca runs in the root, that the certificate chains to the CA's root and lists the
# instance's private IP, that the timer is enabled, and that a second run changes nothing.
# Before that, the playbook and the ca_server role run with --check --diff on the new root and
# must succeed, report changes and leave the root as it was. After the real runs, a check run
# of the playbook must report no change.
#
# The root is the one that tests/e2e/cloud-init-aws.sh builds with mmdebstrap and caches under
# ${XDG_CACHE_HOME:-/var/cache}/iidca-e2e/; this script builds it the same way when the cache is
# missing. Needs root; reports SKIP without root, ip netns, ansible-playbook, the chroot
# connection, or both mmdebstrap and the cached root.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

# The same suite and package list as cloud-init-aws.sh, so both scripts share one cached root.
SUITE=bookworm
INCLUDE=systemd,cloud-init,python3,openjdk-17-jre-headless,ca-certificates
CACHE_DIR=${XDG_CACHE_HOME:-/var/cache}/iidca-e2e
ROOT_TARBALL=$CACHE_DIR/debian-$SUITE-$(printf '%s' "$INCLUDE" | sha256sum | cut -c 1-12).tar.zst
CA_PORT=8443
NAME=web.e2e.internal
# The emulated instance's address, which the AWS provisioner puts in the certificate's SANs.
PRIVATE_IP=10.20.30.40
COLLECTIONS_ROOT=$IIDCA_ROOT/ansible-collection
PROVISIONER_NAME="AWS IID Provisioner"

WORK=
MOUNTS=()

# Unmounts proc, sys and dev from the root, in reverse order and lazily when busy, before
# lib.sh's cleanup stops the processes and removes the work directory. If a mount remains, the
# work directory is left in place, so that rm -rf cannot reach into a mounted file system.
# shellcheck disable=SC2317 # the EXIT trap calls it
on_exit() {
  local status=$? index
  set +e
  for ((index = ${#MOUNTS[@]} - 1; index >= 0; index--)); do
    umount "${MOUNTS[index]}" 2>/dev/null || umount -l "${MOUNTS[index]}"
    cleanup_note "unmounted ${MOUNTS[index]}"
  done
  if [[ -n $WORK ]] && findmnt -rn -o TARGET | grep -qF "$WORK/"; then
    echo "cleanup: $WORK still has mounts, so it is left in place"
    CLEANUP_DIRS=()
  fi
  # cleanup reads the script's exit status from $?.
  (exit "$status")
  cleanup
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! netns_supported; then
  skip_test "needs root and a working 'ip netns' to own $METADATA_ADDRESS in a namespace"
fi
if [[ ! -s $ROOT_TARBALL ]] && ! command -v mmdebstrap >/dev/null; then
  skip_test "mmdebstrap not found (Debian package mmdebstrap) and no cached $ROOT_TARBALL"
fi
for tool in ansible-playbook ansible-doc chroot zstd findmnt openssl; do
  command -v "$tool" >/dev/null || skip_test "$tool not found"
done
if ! ansible-doc -t connection community.general.chroot >/dev/null 2>&1; then
  skip_test "the community.general.chroot connection is not installed"
fi
if ! command -v dpkg-deb >/dev/null; then
  skip_test "dpkg-deb not found, so the build makes no .deb to install"
fi
ensure_built
unset AWS_EC2_METADATA_SERVICE_ENDPOINT

MAVEN_VERSION=$(sed -n '/<parent>/,/<\/parent>/s|.*<version>\(.*\)</version>.*|\1|p' \
  "$IIDCA_ROOT/cli/pom.xml")
DEB=$IIDCA_ROOT/cli/target/iidca_$(sed -e 's/-SNAPSHOT$/~snapshot/' -e 's/-/~/g' \
  <<<"$MAVEN_VERSION")_all.deb
if [[ ! -f $DEB ]]; then
  echo "Building the packages: mvn -B -q package -DskipTests"
  (cd "$IIDCA_ROOT" && mvn -B -q package -DskipTests)
fi
[[ -f $DEB ]] || abort_test "the build produced $DEB"

make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
ROOT=$WORK/root
mkdir "$CAPTURE_DIR" "$ROOT"
echo "Work directory $WORK"

# ---- The Debian root ----
extract_debian_root "$SUITE" "$INCLUDE" "$ROOT_TARBALL" "$ROOT"
cp -- "$DEB" "$ROOT/tmp/iidca.deb"

# The JVM and Ansible's chroot detection read /proc, and Ansible's modules use /dev/null.
for directory in proc sys dev; do
  mount --bind "/$directory" "$ROOT/$directory"
  MOUNTS+=("$ROOT/$directory")
done

# ---- The namespace, the emulator and the CA ----
export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
create_metadata_netns e2e-ansible-chroot
echo "Namespace $NETNS"
start_emulator "$NETNS" "$METADATA_ADDRESS:80" "$WORK/emulator.pem" \
  "$CAPTURE_DIR/emulator.log" --private-ip "$PRIVATE_IP" ||
  abort_test "metadata emulator listens on $METADATA_ADDRESS:80 in $NETNS"
pass "metadata emulator listens on $EMULATOR_URL in $NETNS"

run_captured init "$NETNS" "$IIDCA_BIN" init --name "My CA" --dns ca.local --dns 127.0.0.1 \
  --address "127.0.0.1:$CA_PORT" --password-file "$WORK/pw"
require_status init 0 "iidca init"
ROOT_FINGERPRINT=$(sed -n 's/^Root fingerprint: \([0-9a-f]\{64\}\)$/\1/p' "$CAPTURE_DIR/init.out")
[[ -n $ROOT_FINGERPRINT ]] || abort_test "iidca init printed a root fingerprint"
run_captured provisioner-add "$NETNS" "$IIDCA_BIN" provisioner add "$PROVISIONER_NAME" \
  --type AWS --aws-account "${AWS_ACCOUNT:-123456789042}" --aws-certificates "$WORK/emulator.pem"
require_status provisioner-add 0 "iidca provisioner add"

echo "  \$ iidca serve --password-file $WORK/pw &"
start_background "$NETNS" "$CAPTURE_DIR/serve.log" "$IIDCA_BIN" serve --password-file "$WORK/pw"
if ! wait_for_health "$NETNS" "$STARTED_PID" "$CA_PORT" "$IIDCA_PATH/certs/root_ca.crt"; then
  sed 's/^/  | /' "$CAPTURE_DIR/serve.log"
  abort_test "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"
fi
pass "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"

# ---- The playbook: install the .deb, then the client role ----
# The role installs only from the tarball, so the playbook installs the Debian package itself.
# With creates, dpkg -i runs only once, which keeps the second run unchanged.
cat >"$WORK/playbook.yml" <<YAML
---
- name: Apply the client role to a Debian root
  hosts: all
  gather_facts: false
  pre_tasks:
    - name: Install the iidca package copied into the root
      ansible.builtin.command:
        cmd: dpkg -i /tmp/iidca.deb
        creates: /usr/bin/iidca
  roles:
    - role: iidca.pki.client
      vars:
        iidca_client_ca_url: "https://127.0.0.1:$CA_PORT"
        iidca_client_fingerprint: "$ROOT_FINGERPRINT"
        iidca_client_provisioner: "$PROVISIONER_NAME"
        iidca_client_name: "$NAME"
        iidca_client_subject: "$NAME"
YAML

export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS_ROOT
export ANSIBLE_LOCAL_TEMP=$WORK/ansible-local
export ANSIBLE_NOCOLOR=1
export ANSIBLE_RETRY_FILES_ENABLED=0
# Modules run inside the root, so they use its /usr/bin/python3, named to skip discovery.
playbook_command=(ansible-playbook -i "$ROOT," -c community.general.chroot
  -e ansible_python_interpreter=/usr/bin/python3 "$WORK/playbook.yml")

# ---- Check runs on the new root ----
# An operator runs `ansible-playbook --check --diff` before a change. On the new root, where
# the .deb is not installed yet, both roles must succeed, report changes and write nothing. The
# ca_server role manages its service here, so its check run also covers the user and the unit.
# It gets no real run, because systemctl daemon-reload fails where systemd is not running.
cat >"$WORK/ca-playbook.yml" <<YAML
---
- name: Apply the ca_server role to a Debian root
  hosts: all
  gather_facts: false
  roles:
    - role: iidca.pki.ca_server
      vars:
        iidca_ca_server_name: Chroot CA
        iidca_ca_server_dns: [ca.local]
        iidca_ca_server_password_file: /var/lib/iidca-password
        iidca_ca_server_password: chroot test password
        iidca_ca_server_provisioners:
          - name: $PROVISIONER_NAME
            aws_accounts: ["${AWS_ACCOUNT:-123456789042}"]
YAML
ca_check_command=(ansible-playbook --check --diff -i "$ROOT," -c community.general.chroot
  -e ansible_python_interpreter=/usr/bin/python3 "$WORK/ca-playbook.yml")
# The digest leaves out the mounts and Ansible's temporary directory in the root.
digest_root() {
  tree_digest "$ROOT" proc sys dev root/.ansible
}

digest_root >"$CAPTURE_DIR/digest-before-check"
run_captured playbook-check-new "$NETNS" "${playbook_command[@]}" --check --diff
expect_status playbook-check-new 0 "check run of the client role on the new root"
expect_changes_reported playbook-check-new \
  "check run of the client role on the new root reports changes"
expect_captured playbook-check-new out "A real run stops here unless an earlier task installs" \
  "check run of the client role says that iidca is not installed yet"
expect_captured playbook-check-new out "A real run enables it, and it starts at the next boot" \
  "check run of the client role says that a real run enables the timer"
run_captured ca-check-new "$NETNS" "${ca_check_command[@]}"
expect_status ca-check-new 0 "check run of the ca_server role on the new root"
expect_changes_reported ca-check-new \
  "check run of the ca_server role on the new root reports changes"
expect_captured ca-check-new out "A real run installs it, reloads systemd, enables iidca.service" \
  "check run of the ca_server role says that a real run enables and starts iidca.service"
if grep -qF "chroot test password" "$CAPTURE_DIR/ca-check-new.out"; then
  fail "check run of the ca_server role printed the CA password"
else
  pass "check run of the ca_server role did not print the CA password"
fi
digest_root >"$CAPTURE_DIR/digest-after-check"
expect_same_digest "$CAPTURE_DIR/digest-before-check" "$CAPTURE_DIR/digest-after-check" \
  "check runs of both roles change no file in the root"

# ---- The first real run ----
run_captured playbook-first "$NETNS" "${playbook_command[@]}"
require_status playbook-first 0 "first run of the client role in the chroot"
expect_captured playbook-first out "changed: [$ROOT]" "first run of the client role changes"

# ---- What the root contains afterwards ----
run_captured version "" chroot "$ROOT" /usr/bin/iidca version
expect_status version 0 "chroot ROOT iidca version"

CERTS=$ROOT/etc/iidca/certs
if cmp -s "$CERTS/root_ca.crt" "$IIDCA_PATH/certs/root_ca.crt"; then
  pass "/etc/iidca/certs/root_ca.crt is the CA's root"
else
  fail "/etc/iidca/certs/root_ca.crt is the CA's root: missing or different"
fi
[[ -f $CERTS/$NAME.crt ]] || abort_test "the role wrote /etc/iidca/certs/$NAME.crt"
pass "the role wrote /etc/iidca/certs/$NAME.crt"
expect_equal "$(stat -c %a "$CERTS/$NAME.key")" 600 "/etc/iidca/certs/$NAME.key has mode 0600"
# The file contains the leaf, then the intermediate.
awk -v prefix="$WORK/chain-" \
  '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (prefix n ".pem") }' "$CERTS/$NAME.crt"
expect_equal "$(openssl verify -CAfile "$IIDCA_PATH/certs/root_ca.crt" \
  -untrusted "$WORK/chain-2.pem" "$WORK/chain-1.pem" 2>&1)" "$WORK/chain-1.pem: OK" \
  "$NAME.crt verifies against the CA's root (openssl verify)"
SAN=$(openssl x509 -in "$WORK/chain-1.pem" -noout -ext subjectAltName 2>&1)
if grep -qE "(^|[ ,])IP Address:${PRIVATE_IP//./\\.}(,|$)" <<<"$SAN"; then
  pass "subjectAltName lists the instance's private IP $PRIVATE_IP"
else
  fail "subjectAltName lists the instance's private IP $PRIVATE_IP: got $SAN"
fi

TIMER_LINK=$ROOT/etc/systemd/system/timers.target.wants/iidca-renew@$NAME.timer
expect_equal "$(readlink "$TIMER_LINK" 2>&1)" /lib/systemd/system/iidca-renew@.timer \
  "iidca-renew@$NAME.timer is enabled (timers.target.wants link)"

run_captured playbook-second "$NETNS" "${playbook_command[@]}"
expect_status playbook-second 0 "second run of the client role in the chroot"
expect_captured playbook-second out "changed=0" "second run of the client role changes nothing"
run_captured playbook-check-configured "$NETNS" "${playbook_command[@]}" --check --diff
expect_status playbook-check-configured 0 "check run of the client role after a real run"
expect_captured playbook-check-configured out "changed=0" \
  "check run of the client role after a real run reports no change"

finish_test
