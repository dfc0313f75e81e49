#!/usr/bin/env bash
# Runs cloud-init/aws.yaml for real, as cloud-init would at an instance's first boot, in a
# Debian 12 root directory: the four cloud-init stages run in a chroot with private mount, UTS,
# IPC and PID namespaces, inside a network namespace where the metadata emulator owns
# 169.254.169.254:80 and iidca serve listens on 127.0.0.1:8443. The CA starts only after
# enroll.sh has failed once, so the retry is exercised too. Then it checks that the root holds
# a certificate issued by that CA, the bootstrapped root, iidca-renew@NAME.timer enabled, and
# the reload command's effect.
#
# Then it runs enroll.sh again in the chroot twice. First as another instance, as when an image
# is made from the enrolled instance: enroll.sh must move the certificate aside and enroll
# anew. Then with the CA down and a short timeout: enroll.sh must give up and enable
# iidca-enroll@NAME.service with its drop-in, which `systemd-analyze verify` accepts, and
# whose commands then enroll once the CA is back.
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

# start_serve: starts iidca serve in the namespace and waits until it responds.
start_serve() {
  start_background "$NETNS" "$CAPTURE_DIR/serve.log" "$IIDCA_BIN" serve \
    --password-file "$WORK/pw"
  SERVE_PID=$STARTED_PID
  if ! wait_for_health "$NETNS" "$SERVE_PID" "$CA_PORT" "$IIDCA_PATH/certs/root_ca.crt"; then
    sed 's/^/  | /' "$CAPTURE_DIR/serve.log"
    abort_test "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"
  fi
}

echo "  \$ iidca serve --password-file $WORK/pw &"
start_serve
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

# ---- An image of this instance boots as another instance ----
# run_in_root NAME COMMAND...: runs COMMAND in the chroot, in the namespace, with proc and a
# tmpfs /run mounted and the environment that cloud-init's stages get above.
run_in_root() {
  local name=$1
  shift
  # shellcheck disable=SC2016 # the inner script expands its own positional parameters
  run_captured "$name" "$NETNS" unshare --mount --uts --ipc --pid --fork --kill-child sh -c '
    root=$1
    shift
    mount -t proc proc "$root/proc"
    mount -t tmpfs tmpfs "$root/run"
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_OFFLINE=1 \
      chroot "$root" "$@"
  ' sh "$ROOT" "$@"
}

# run_enroll NAME: runs enroll.sh in the chroot as cloud-init runs it.
run_enroll() {
  run_in_root "$1" /usr/local/lib/iidca/enroll.sh /etc/iidca/enroll.conf
}

# instance_of FILE: prints the instance id in the certificate's iidca extension.
instance_of() {
  "$IIDCA_BIN" inspect --short "$1" | sed -n 's/.*\[AWS, instance \([^,]*\), account .*/\1/p'
}

OLD_INSTANCE=$(instance_of "$CERTS/$NAME.crt")
NEW_INSTANCE=i-0123456789abcdef0
[[ $OLD_INSTANCE == i-* ]] || abort_test "iidca inspect --short shows the certificate's instance"
OLD_KEY=$(cat "$CERTS/$NAME.key")

# switch_instance ID: restarts the metadata emulator as instance ID. It signs with new keys,
# which the CA trusts after the provisioner update, once iidca serve starts again.
switch_instance() {
  stop_background "$SERVE_PID"
  stop_background "$EMULATOR_PID"
  start_emulator "$NETNS" "$METADATA_ADDRESS:80" "$WORK/emulator-$1.pem" \
    "$CAPTURE_DIR/emulator-$1.log" --instance-id "$1" ||
    abort_test "metadata emulator of instance $1 listens on $METADATA_ADDRESS:80"
  run_captured "provisioner-update-$1" "$NETNS" "$IIDCA_BIN" provisioner update \
    "AWS IID Provisioner" --aws-certificates "$WORK/emulator-$1.pem"
  require_status "provisioner-update-$1" 0 "iidca provisioner update for instance $1"
}
switch_instance "$NEW_INSTANCE"
start_serve

run_enroll enroll-new-instance
expect_status enroll-new-instance 0 "enroll.sh as instance $NEW_INSTANCE"
expect_captured enroll-new-instance err \
  "is for instance $OLD_INSTANCE, but this is instance $NEW_INSTANCE" \
  "enroll.sh reports the certificate of instance $OLD_INSTANCE"
expect_equal "$(instance_of "$CERTS/$NAME.crt")" "$NEW_INSTANCE" \
  "$NAME.crt is now for instance $NEW_INSTANCE"
expect_differ "$(cat "$CERTS/$NAME.key")" "$OLD_KEY" "$NAME.key is a new key"
expect_equal "$(instance_of "$CERTS/$NAME.crt.instance-$OLD_INSTANCE" 2>&1)" "$OLD_INSTANCE" \
  "the old certificate is kept as $NAME.crt.instance-$OLD_INSTANCE"
expect_equal "$(cat "$CERTS/$NAME.key.instance-$OLD_INSTANCE" 2>&1)" "$OLD_KEY" \
  "the old key is kept as $NAME.key.instance-$OLD_INSTANCE"

run_enroll enroll-same-instance
expect_status enroll-same-instance 0 "enroll.sh again as instance $NEW_INSTANCE"
expect_captured enroll-same-instance err "$NAME.crt exists; not enrolling again" \
  "enroll.sh keeps the certificate of this instance"

# ---- Enrollment gives up while the CA is down, and the fallback unit takes over ----
# A fresh instance: another instance id, and none of the files of an enrollment.
FRESH_INSTANCE=i-0fedcba9876543210
switch_instance "$FRESH_INSTANCE"
rm -f -- "$CERTS/$NAME".* "$CERTS/root_ca.crt" "$ROOT/etc/iidca/config/defaults.yaml" \
  "$TIMER_LINK" "$ROOT$RELOAD_MARKER"
sed -i -e 's/^IIDCA_ENROLL_TIMEOUT=.*/IIDCA_ENROLL_TIMEOUT=3/' \
  -e 's/^IIDCA_RETRY_DELAY=.*/IIDCA_RETRY_DELAY=1/' "$ROOT/etc/iidca/enroll.conf"
run_enroll enroll-gives-up
expect_status enroll-gives-up 1 "enroll.sh exits 1 when it gives up"
expect_captured enroll-gives-up err "gave up after IIDCA_ENROLL_TIMEOUT=3s" \
  "enroll.sh reports that it gave up"
expect_captured enroll-gives-up err "enabled iidca-enroll@$NAME.service, which retries" \
  "enroll.sh reports the fallback unit"

ENROLL_LINK=$ROOT/etc/systemd/system/multi-user.target.wants/iidca-enroll@$NAME.service
expect_equal "$(readlink "$ENROLL_LINK" 2>&1)" /lib/systemd/system/iidca-enroll@.service \
  "iidca-enroll@$NAME.service is enabled (multi-user.target.wants link)"
expect_equal "$(readlink "$TIMER_LINK" 2>&1)" /lib/systemd/system/iidca-renew@.timer \
  "iidca-renew@$NAME.timer is enabled after giving up"
DROPIN=/etc/systemd/system/iidca-enroll@$NAME.service.d/fallback.conf
# shellcheck disable=SC2016 # systemd expands these variables, not the shell
bootstrap_line='ExecStartPre=/usr/bin/iidca bootstrap --ca-url ${IIDCA_CA_URL}'
# shellcheck disable=SC2016
bootstrap_line+=' --fingerprint ${IIDCA_FINGERPRINT}'
# shellcheck disable=SC2016
reload_line='ExecStartPost=/bin/sh -c ${IIDCA_RELOAD_COMMAND}'
for line in "AssertPathExists=" "$bootstrap_line" "$reload_line"; do
  if grep -qxF -- "$line" "$ROOT$DROPIN" 2>/dev/null; then
    pass "$DROPIN contains $line"
  else
    fail "$DROPIN contains $line: not found"
  fi
done
expect_equal "$(cat "$ROOT/etc/iidca/enroll-$NAME.env" 2>&1)" "$(printf '%s\n' \
  'IIDCA_PROVISIONER="AWS IID Provisioner"' "IIDCA_ENROLL_ARGS=" \
  "IIDCA_CA_URL=\"https://127.0.0.1:$CA_PORT\"" "IIDCA_FINGERPRINT=$ROOT_FINGERPRINT" \
  "IIDCA_RELOAD_COMMAND=\"touch $RELOAD_MARKER\"")" \
  "/etc/iidca/enroll-$NAME.env contains the settings of the unit and its drop-in"
# systemd-analyze verify exits 0 even on invalid lines, so its output is checked.
run_captured verify-unit "" chroot "$ROOT" systemd-analyze verify "iidca-enroll@$NAME.service"
expect_equal "$(cat "$CAPTURE_DIR/verify-unit.out" "$CAPTURE_DIR/verify-unit.err" |
  grep -c 'iidca' || true)" 0 "systemd-analyze verify reports nothing on iidca-enroll@$NAME.service"

# No systemd runs in the chroot, so the test runs the unit's commands in its order, with the
# environment file sourced: ExecStartPre=, ExecStart= of the shipped unit, ExecStartPost=.
start_serve
# shellcheck disable=SC2016 # the inner script expands its own variables
run_in_root fallback-unit env IIDCA_PATH=/etc/iidca sh -euc '
    set -a
    . /etc/iidca/enroll-$1.env
    set +a
    /usr/bin/iidca bootstrap --ca-url "$IIDCA_CA_URL" --fingerprint "$IIDCA_FINGERPRINT"
    /usr/bin/iidca certificate "$1" "/etc/iidca/certs/$1.crt" "/etc/iidca/certs/$1.key" \
      --provisioner "$IIDCA_PROVISIONER" $IIDCA_ENROLL_ARGS
    /bin/sh -c "$IIDCA_RELOAD_COMMAND"
  ' sh "$NAME"
expect_status fallback-unit 0 "the fallback unit's commands enroll once the CA is back"
expect_equal "$(instance_of "$CERTS/$NAME.crt" 2>&1)" "$FRESH_INSTANCE" \
  "the fallback unit's commands wrote $NAME.crt for instance $FRESH_INSTANCE"
if [[ -e $ROOT$RELOAD_MARKER ]]; then
  pass "the fallback unit's ExecStartPost= ran the reload command"
else
  fail "the fallback unit's ExecStartPost= ran the reload command: $RELOAD_MARKER not found"
fi

# The stages ran in a private mount namespace, so none of its mounts is visible here.
expect_equal "$(findmnt -rn -o TARGET | grep -cF "$ROOT/" || true)" 0 \
  "no proc, sysfs or tmpfs mount of the run is visible outside its namespace"

finish_test
