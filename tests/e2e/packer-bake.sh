#!/usr/bin/env bash
# Runs packer/scripts/bake.sh, the script that the Packer templates run on the build VM, in a
# chroot of a Debian 12 root instead, against an iidca CA on 127.0.0.1. Checks what the image
# would carry: the package, the CA's root and defaults, the enroll settings, the enabled
# iidca-enroll@NAME.service and iidca-renew@NAME.timer, and no key, no certificate, no machine
# id, no SSH host keys and no cloud-init instance state. Then checks that bake.sh rejects a root
# that contains a private key, and that dpkg -r iidca then leaves no enabled unit link behind.
#
# The root comes from the tarball that tests/e2e/cloud-init-aws.sh caches under
# ${XDG_CACHE_HOME:-/var/cache}/iidca-e2e/, built with mmdebstrap when missing. The chroot runs
# in private mount, UTS, IPC and PID namespaces; it shares this machine's network only to reach
# the CA on 127.0.0.1. Needs root; reports SKIP without root or mmdebstrap.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

# The same root as tests/e2e/cloud-init-aws.sh, so both share one cached tarball.
SUITE=bookworm
INCLUDE=systemd,cloud-init,python3,openjdk-17-jre-headless,ca-certificates
CACHE_DIR=${XDG_CACHE_HOME:-/var/cache}/iidca-e2e
ROOT_TARBALL=$CACHE_DIR/debian-$SUITE-$(printf '%s' "$INCLUDE" | sha256sum | cut -c 1-12).tar.zst
NAME=web.bake.internal

if ((EUID != 0)); then
  skip_test "needs root for chroot and unshare"
fi
if [[ ! -s $ROOT_TARBALL ]] && ! command -v mmdebstrap >/dev/null; then
  skip_test "mmdebstrap not found (Debian package mmdebstrap) and no cached $ROOT_TARBALL"
fi
for tool in unshare chroot zstd dpkg-deb; do
  command -v "$tool" >/dev/null || skip_test "$tool not found"
done
ensure_built

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

extract_debian_root "$SUITE" "$INCLUDE" "$ROOT_TARBALL" "$ROOT"

# ---- The CA, on this machine's loopback ----
export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
PORT=$(pick_free_port)
run_captured init "" "$IIDCA_BIN" init --name "My CA" --dns 127.0.0.1 \
  --address "127.0.0.1:$PORT" --password-file "$WORK/pw"
require_status init 0 "iidca init"
ROOT_FINGERPRINT=$(sed -n 's/^Root fingerprint: \([0-9a-f]\{64\}\)$/\1/p' "$CAPTURE_DIR/init.out")
[[ -n $ROOT_FINGERPRINT ]] || abort_test "iidca init printed a root fingerprint"
start_background "" "$CAPTURE_DIR/serve.log" "$IIDCA_BIN" serve --password-file "$WORK/pw"
if ! wait_for_health "" "$STARTED_PID" "$PORT" "$IIDCA_PATH/certs/root_ca.crt"; then
  sed 's/^/  | /' "$CAPTURE_DIR/serve.log"
  abort_test "iidca serve responds to GET /health on 127.0.0.1:$PORT"
fi
pass "iidca serve responds to GET /health on 127.0.0.1:$PORT"

# ---- The build VM's state that bake.sh must remove ----
echo 0123456789abcdef0123456789abcdef >"$ROOT/etc/machine-id"
mkdir -p "$ROOT/etc/ssh" "$ROOT/var/lib/cloud/instances/i-build" "$ROOT/var/lib/dbus"
touch "$ROOT/etc/ssh/ssh_host_ed25519_key" "$ROOT/etc/ssh/ssh_host_ed25519_key.pub"
echo 0123456789abcdef0123456789abcdef >"$ROOT/var/lib/dbus/machine-id"
echo "build VM log" >"$ROOT/var/log/cloud-init.log"
cp -- "$DEB" "$ROOT/tmp/iidca.deb"
install -m 0755 "$IIDCA_ROOT/packer/scripts/bake.sh" "$ROOT/tmp/bake.sh"

# run-in-root.sh ROOT VAR=VALUE...: mounts proc and a tmpfs /run in the private mount namespace
# and runs /tmp/bake.sh in the chroot with only the given environment, as Packer's shell
# provisioner passes its environment_vars. The mounts end with the namespace.
cat >"$WORK/run-in-root.sh" <<'SCRIPT'
#!/bin/sh
set -eu
root=$1
shift
mount -t proc proc "$root/proc"
mount -t tmpfs tmpfs "$root/run"
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_OFFLINE=1 "$@" \
  chroot "$root" /tmp/bake.sh
SCRIPT

# run_bake NAME: runs bake.sh in the chroot with IIDCA_APT_UPDATE=0, because the root has the
# package's dependencies.
run_bake() {
  run_captured "$1" "" unshare --mount --uts --ipc --pid --fork --kill-child \
    sh "$WORK/run-in-root.sh" "$ROOT" IIDCA_PACKAGE_FILE=/tmp/iidca.deb \
    "IIDCA_CA_URL=https://127.0.0.1:$PORT" "IIDCA_FINGERPRINT=$ROOT_FINGERPRINT" \
    "IIDCA_PROVISIONER=AWS IID Provisioner" "IIDCA_NAME=$NAME" \
    "IIDCA_ENROLL_ARGS=--san api.internal" IIDCA_APT_UPDATE=0
}

run_bake bake
expect_status bake 0 "bake.sh in the chroot"

# shellcheck disable=SC2016 # ${db:Status-Status} is dpkg-query's format, not a variable
if chroot "$ROOT" dpkg-query -W -f='${db:Status-Status}' iidca | grep -qx installed; then
  pass "the iidca package is installed"
else
  fail "the iidca package is installed: dpkg-query does not report it"
fi
expect_equal "$(list_directory "$ROOT/tmp" | grep -c 'iidca.deb' || true)" 0 \
  "bake.sh removed the uploaded /tmp/iidca.deb"

if cmp -s "$ROOT/etc/iidca/certs/root_ca.crt" "$IIDCA_PATH/certs/root_ca.crt"; then
  pass "/etc/iidca/certs/root_ca.crt is the CA's root"
else
  fail "/etc/iidca/certs/root_ca.crt is the CA's root: missing or different"
fi
if grep -qF "https://127.0.0.1:$PORT" "$ROOT/etc/iidca/config/defaults.yaml" 2>/dev/null; then
  pass "/etc/iidca/config/defaults.yaml names the CA's URL"
else
  fail "/etc/iidca/config/defaults.yaml names the CA's URL https://127.0.0.1:$PORT"
fi
expect_equal "$(cat "$ROOT/etc/iidca/enroll-$NAME.env" 2>&1)" \
  "$(printf 'IIDCA_PROVISIONER="AWS IID Provisioner"\nIIDCA_ENROLL_ARGS=--san api.internal')" \
  "/etc/iidca/enroll-$NAME.env holds the provisioner and the enroll options"
expect_equal "$(cd "$ROOT/etc/iidca" && find . -type f | sort | paste -sd ' ')" \
  "./certs/root_ca.crt ./config/defaults.yaml ./enroll-$NAME.env" \
  "/etc/iidca holds only the root, the defaults and the enroll settings (no key, no certificate)"

WANTS=$ROOT/etc/systemd/system
expect_equal "$(readlink "$WANTS/multi-user.target.wants/iidca-enroll@$NAME.service" 2>&1)" \
  /lib/systemd/system/iidca-enroll@.service "iidca-enroll@$NAME.service is enabled"
expect_equal "$(readlink "$WANTS/timers.target.wants/iidca-renew@$NAME.timer" 2>&1)" \
  /lib/systemd/system/iidca-renew@.timer "iidca-renew@$NAME.timer is enabled"

expect_equal "$(stat -c %s "$ROOT/etc/machine-id")" 0 "/etc/machine-id is empty"
if [[ -e $ROOT/var/lib/dbus/machine-id ]]; then
  fail "/var/lib/dbus/machine-id is removed: it still exists"
else
  pass "/var/lib/dbus/machine-id is removed"
fi
expect_equal "$(find "$ROOT/etc/ssh" -name 'ssh_host_*' | wc -l)" 0 "no SSH host keys are left"
expect_equal "$(list_directory "$ROOT/var/lib/cloud")" "" \
  "cloud-init clean emptied /var/lib/cloud"
if [[ -e $ROOT/var/log/cloud-init.log ]]; then
  fail "cloud-init clean --logs removed /var/log/cloud-init.log: it still exists"
else
  pass "cloud-init clean --logs removed /var/log/cloud-init.log"
fi

# A key in /etc/iidca, as a careless earlier step might leave it, makes bake.sh fail.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
  -out "$ROOT/etc/iidca/certs/$NAME.key" 2>/dev/null
cp -- "$DEB" "$ROOT/tmp/iidca.deb"
run_bake bake-with-key
expect_status bake-with-key 1 "bake.sh rejects a root with a key in /etc/iidca"
expect_captured bake-with-key err "/etc/iidca contains files that an image must not contain:" \
  "bake.sh names the files that an image must not contain"
expect_captured bake-with-key err "/etc/iidca/certs/$NAME.key" "bake.sh names the key's path"

# Removing the package from the baked root disables the enabled instances, so that no link
# in /etc/systemd/system points to a removed template. No systemd runs in the chroot, so the
# package's prerm disables them offline.
# shellcheck disable=SC2016 # the inner script expands its own positional parameters
run_captured dpkg-remove "" unshare --mount --uts --ipc --pid --fork --kill-child sh -c '
  mount -t proc proc "$1/proc"
  mount -t tmpfs tmpfs "$1/run"
  exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot "$1" dpkg -r iidca
' sh "$ROOT"
expect_status dpkg-remove 0 "dpkg -r iidca in the chroot"
expect_equal "$(find "$WANTS" -name 'iidca-*' -printf '%P ' 2>&1)" "" \
  "no link to an iidca unit is left in /etc/systemd/system after dpkg -r"
if [[ -e $ROOT/lib/systemd/system/iidca-renew@.timer ]]; then
  fail "dpkg -r removed /lib/systemd/system/iidca-renew@.timer: it still exists"
else
  pass "dpkg -r removed /lib/systemd/system/iidca-renew@.timer"
fi

finish_test
