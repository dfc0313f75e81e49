#!/usr/bin/env bash
# Runs cloud-init/aws.yaml for real, as cloud-init would at an instance's first boot, in a
# Debian 12 root directory: the four cloud-init stages run in a chroot with private mount, UTS,
# IPC and PID namespaces, inside a network namespace where the metadata emulator owns
# 169.254.169.254:80 and iidca serve listens on 127.0.0.1:8443. The CA starts only after
# enroll.sh has failed once, so the retry is exercised too. Then it checks that the root holds
# a certificate issued by that CA, the bootstrapped root, iidca-renew@NAME.timer enabled, and
# the reload command's effect.
#
# The root is built with mmdebstrap from Debian's mirror on the first run (about a minute) and
# cached as a tarball under ${XDG_CACHE_HOME:-/var/cache}/iidca-e2e/; later runs extract it
# (a few seconds). Needs root; reports SKIP without root, ip netns or mmdebstrap.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

SUITE=bookworm
INCLUDE=systemd,cloud-init,python3,openjdk-17-jre-headless,ca-certificates
CACHE_DIR=${XDG_CACHE_HOME:-/var/cache}/iidca-e2e
# The package list is part of the name, so a changed list builds a new root.
ROOT_TARBALL=$CACHE_DIR/debian-$SUITE-$(printf '%s' "$INCLUDE" | sha256sum | cut -c 1-12).tar.zst
CA_PORT=8443
NAME=web.e2e.internal
RELOAD_MARKER=/var/tmp/iidca-e2e-reloaded
# Upper bounds, in seconds, for the first failed enrollment attempt and for the whole run.
FIRST_ATTEMPT_TIMEOUT=180
CLOUD_INIT_TIMEOUT=300

CLOUD_INIT_PID=
WORK=

# Stops cloud-init's namespaces before lib.sh's cleanup removes the root: the proc, sysfs and
# tmpfs mounts under it live in cloud-init's private mount namespace and end with it. A mount
# that is still visible here is detached lazily. If one remains, the root is left in place, so
# that rm -rf cannot reach into a mounted file system.
# shellcheck disable=SC2317 # the EXIT trap calls it
on_exit() {
  local status=$?
  set +e
  if [[ -n $CLOUD_INIT_PID ]]; then
    stop_process "$CLOUD_INIT_PID"
  fi
  if [[ -n $WORK ]] && findmnt -rn -o TARGET | grep -qF "$WORK/"; then
    findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r | xargs -r -n 1 umount -l
    if findmnt -rn -o TARGET | grep -qF "$WORK/"; then
      echo "cleanup: $WORK still has mounts, so it is left in place"
      CLEANUP_DIRS=()
    fi
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
for tool in unshare chroot zstd findmnt; do
  command -v "$tool" >/dev/null || skip_test "$tool not found"
done
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

# ---- The Debian root, with the package installed ----
extract_debian_root "$SUITE" "$INCLUDE" "$ROOT_TARBALL" "$ROOT"

cp -- "$DEB" "$ROOT/tmp/iidca.deb"
run_captured dpkg-install "" chroot "$ROOT" dpkg -i /tmp/iidca.deb
require_status dpkg-install 0 "chroot ROOT dpkg -i $(basename "$DEB")"
rm -f -- "$ROOT/tmp/iidca.deb"

# ---- The namespace, the emulator and the CA's files; iidca serve starts later ----
export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
create_metadata_netns e2e-cloud-init
echo "Namespace $NETNS"
start_emulator "$NETNS" "$METADATA_ADDRESS:80" "$WORK/emulator.pem" "$CAPTURE_DIR/emulator.log" ||
  abort_test "metadata emulator listens on $METADATA_ADDRESS:80 in $NETNS"
pass "metadata emulator listens on $EMULATOR_URL in $NETNS"

run_captured init "$NETNS" "$IIDCA_BIN" init --name "My CA" --dns ca.local --dns 127.0.0.1 \
  --address "127.0.0.1:$CA_PORT" --password-file "$WORK/pw"
require_status init 0 "iidca init"
ROOT_FINGERPRINT=$(sed -n 's/^Root fingerprint: \([0-9a-f]\{64\}\)$/\1/p' "$CAPTURE_DIR/init.out")
[[ -n $ROOT_FINGERPRINT ]] || abort_test "iidca init printed a root fingerprint"
run_captured provisioner-add "$NETNS" "$IIDCA_BIN" provisioner add "AWS IID Provisioner" \
  --type AWS --aws-account "${AWS_ACCOUNT:-123456789042}" --aws-certificates "$WORK/emulator.pem"
require_status provisioner-add 0 "iidca provisioner add"

# ---- The user data: cloud-init/aws.yaml with only its settings block filled in ----
# The settings are shell assignments, so a value with spaces is quoted.
USER_DATA=$WORK/user-data
settings=(
  "IIDCA_CA_URL=https://127.0.0.1:$CA_PORT"
  "IIDCA_FINGERPRINT=$ROOT_FINGERPRINT"
  "IIDCA_NAME=$NAME"
  "IIDCA_RELOAD_COMMAND='touch $RELOAD_MARKER'"
  "IIDCA_RETRY_DELAY=2"
  "IIDCA_ENROLL_TIMEOUT=$CLOUD_INIT_TIMEOUT"
)
cp "$IIDCA_ROOT/cloud-init/aws.yaml" "$USER_DATA"
for setting in "${settings[@]}"; do
  variable=${setting%%=*}
  sed -i "s|^\( *\)$variable=.*|\1$setting|" "$USER_DATA"
  expect_equal "$(grep -c "^ *$setting\$" "$USER_DATA")" 1 "user data sets $setting"
done
if command -v cloud-init >/dev/null; then
  run_captured schema "" cloud-init schema --config-file "$USER_DATA"
  expect_status schema 0 "cloud-init schema accepts the filled-in user data"
fi

SEED=$ROOT/var/lib/cloud/seed/nocloud
mkdir -p "$SEED"
cp "$USER_DATA" "$SEED/user-data"
printf 'instance-id: iid-iidca-e2e\nlocal-hostname: iidca-e2e\n' >"$SEED/meta-data"
# Only for this harness: NoCloud alone, and a locale that needs no locale-gen.
printf 'datasource_list: [NoCloud]\nlocale: C.UTF-8\n' \
  >"$ROOT/etc/cloud/cloud.cfg.d/99-iidca-e2e.cfg"

# ---- The four boot stages, in the background ----
# SYSTEMD_OFFLINE=1 lets systemctl enable work without a running systemd. env -i keeps this
# machine's PATH and JAVA_HOME out of the root. The script exits with the number of stages
# that failed.
# shellcheck disable=SC2016 # the inner script expands its own variables
start_background "$NETNS" "$CAPTURE_DIR/cloud-init.log" \
  unshare --mount --uts --ipc --pid --fork --kill-child sh -c '
    root=$1
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount -t tmpfs tmpfs "$root/run"
    failed=0
    for stage in "init --local" "init" "modules --mode config" "modules --mode final"; do
      echo "== cloud-init $stage"
      status=0
      # shellcheck disable=SC2086 # $stage is the subcommand and its options
      env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_OFFLINE=1 \
        chroot "$root" /usr/bin/cloud-init $stage || status=$?
      echo "== cloud-init $stage: exit $status"
      [ "$status" -eq 0 ] || failed=$((failed + 1))
    done
    exit "$failed"
  ' sh "$ROOT"
CLOUD_INIT_PID=$STARTED_PID
echo "  \$ cloud-init init --local; init; modules --mode config; modules --mode final &"

OUTPUT_LOG=$ROOT/var/log/cloud-init-output.log
show_cloud_init_logs() {
  sed 's/^/  | /' "$CAPTURE_DIR/cloud-init.log"
  if [[ -f $OUTPUT_LOG ]]; then
    echo "  /var/log/cloud-init-output.log:"
    sed 's/^/  | /' "$OUTPUT_LOG"
  fi
}

# The CA is down, so bootstrap fails first and enroll.sh logs a retry.
deadline=$((SECONDS + FIRST_ATTEMPT_TIMEOUT))
until grep -qs "iidca bootstrap --ca-url .* failed (attempt 1," "$OUTPUT_LOG"; do
  if ((SECONDS >= deadline)) || ! kill -0 "$CLOUD_INIT_PID" 2>/dev/null; then
    show_cloud_init_logs
    abort_test "enroll.sh reports a failed first bootstrap within ${FIRST_ATTEMPT_TIMEOUT}s"
  fi
  sleep 0.5
done
pass "enroll.sh retries bootstrap while the CA is down"

echo "  \$ iidca serve --password-file $WORK/pw &"
start_background "$NETNS" "$CAPTURE_DIR/serve.log" "$IIDCA_BIN" serve --password-file "$WORK/pw"
SERVE_PID=$STARTED_PID
if ! wait_for_health "$NETNS" "$SERVE_PID" "$CA_PORT" "$IIDCA_PATH/certs/root_ca.crt"; then
  sed 's/^/  | /' "$CAPTURE_DIR/serve.log"
  abort_test "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"
fi
pass "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"

deadline=$((SECONDS + CLOUD_INIT_TIMEOUT))
while kill -0 "$CLOUD_INIT_PID" 2>/dev/null && ((SECONDS < deadline)); do
  sleep 0.5
done
if kill -0 "$CLOUD_INIT_PID" 2>/dev/null; then
  show_cloud_init_logs
  abort_test "cloud-init finishes within ${CLOUD_INIT_TIMEOUT}s"
fi
cloud_init_status=0
wait "$CLOUD_INIT_PID" || cloud_init_status=$?
CLOUD_INIT_PID=
if ((cloud_init_status == 0)); then
  pass "all four cloud-init stages exit 0"
else
  fail "$cloud_init_status of the four cloud-init stages exit non-zero"
  show_cloud_init_logs
fi

# ---- What the instance contains afterwards ----
result_errors=$(/usr/bin/python3 -c 'import json, sys
print(json.dumps(json.load(open(sys.argv[1]))["v1"]["errors"]))' \
  "$ROOT/var/lib/cloud/data/result.json" 2>&1) || true
expect_equal "$result_errors" "[]" "cloud-init's result.json lists no errors"
# /var/lib/cloud/instance is an absolute link, which means the host's path outside the chroot.
BOOT_FINISHED=/var/lib/cloud/instances/iid-iidca-e2e/boot-finished
if [[ -f $ROOT$BOOT_FINISHED ]]; then
  pass "cloud-init wrote $BOOT_FINISHED"
else
  fail "cloud-init wrote $BOOT_FINISHED: not found"
fi
echo "  enroll.sh's log lines in /var/log/cloud-init-output.log:"
grep '^iidca-enroll: ' "$OUTPUT_LOG" | sed 's/^/  | /' || true
expect_equal "$(grep -c "^iidca-enroll: iidca certificate $NAME succeeded" "$OUTPUT_LOG")" 1 \
  "enroll.sh logged the successful enrollment"

CERTS=$ROOT/etc/iidca/certs
if cmp -s "$CERTS/root_ca.crt" "$IIDCA_PATH/certs/root_ca.crt"; then
  pass "/etc/iidca/certs/root_ca.crt is the CA's root"
else
  fail "/etc/iidca/certs/root_ca.crt is the CA's root: missing or different"
fi
[[ -f $CERTS/$NAME.crt ]] || abort_test "/etc/iidca/certs/$NAME.crt exists"
expect_equal "$(stat -c %a "$CERTS/$NAME.key")" 600 "/etc/iidca/certs/$NAME.key has mode 0600"
awk -v prefix="$WORK/chain-" \
  '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (prefix n ".pem") }' "$CERTS/$NAME.crt"
expect_equal "$(openssl verify -CAfile "$IIDCA_PATH/certs/root_ca.crt" \
  -untrusted "$WORK/chain-2.pem" "$WORK/chain-1.pem" 2>&1)" "$WORK/chain-1.pem: OK" \
  "$NAME.crt verifies against the CA's root (openssl verify)"
expect_equal "$(openssl pkey -in "$CERTS/$NAME.key" -pubout 2>&1)" \
  "$(openssl x509 -in "$WORK/chain-1.pem" -noout -pubkey 2>&1)" "$NAME.key is the leaf's key"
SAN=$(openssl x509 -in "$WORK/chain-1.pem" -noout -ext subjectAltName 2>&1)
if grep -qE "(^|[ ,])DNS:${NAME//./\\.}(,|$)" <<<"$SAN"; then
  pass "subjectAltName lists DNS:$NAME"
else
  fail "subjectAltName lists DNS:$NAME: got $SAN"
fi

TIMER_LINK=$ROOT/etc/systemd/system/timers.target.wants/iidca-renew@$NAME.timer
expect_equal "$(readlink "$TIMER_LINK" 2>&1)" /lib/systemd/system/iidca-renew@.timer \
  "iidca-renew@$NAME.timer is enabled (timers.target.wants link)"
expect_equal "$(cat "$ROOT/etc/iidca/renew-$NAME.env" 2>&1)" \
  "IIDCA_RENEW_ARGS=--exec \"touch $RELOAD_MARKER\"" \
  "/etc/iidca/renew-$NAME.env passes the reload command to iidca renew"
if [[ -e $ROOT$RELOAD_MARKER ]]; then
  pass "enroll.sh ran the reload command"
else
  fail "enroll.sh ran the reload command: $RELOAD_MARKER not found in the root"
fi

# The stages ran in a private mount namespace, so none of its mounts is visible here.
expect_equal "$(findmnt -rn -o TARGET | grep -cF "$ROOT/" || true)" 0 \
  "no proc, sysfs or tmpfs mount of the run is visible outside its namespace"

finish_test
