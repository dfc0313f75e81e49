#!/usr/bin/env bash
# Runs a real `packer build` of packer/test/null-chroot.pkr.hcl: the null builder logs in over
# SSH to an sshd that runs in a chroot of a Debian 12 root, and the real file and shell
# provisioners upload the .deb and run packer/scripts/bake.sh there. Checks what the baked root
# carries and what bake.sh removed. Then "boots" the baked root's first-boot unit: runs the
# ExecStart= line of the installed iidca-enroll@.service as systemd would, in the chroot, with
# no endpoint setting, so the client reaches the metadata emulator on 169.254.169.254. Checks
# that the certificate chains to the CA's root and that the unit's ConditionPathExists= skips
# a second start.
#
# Everything runs in the network namespace iidca-packer-PID, which owns 127.0.0.1 (the CA and
# sshd) and 169.254.169.254 (the emulator). The root is cached under
# ${XDG_CACHE_HOME:-/var/cache}/iidca-e2e/ like the one of tests/e2e/cloud-init-aws.sh, with
# openssh-server and sudo added (Packer's execute_command uses sudo). Needs root, ip netns,
# packer and, for the first run, mmdebstrap with Debian's repositories reachable; reports SKIP
# otherwise.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

SUITE=bookworm
INCLUDE=systemd,cloud-init,python3,openjdk-17-jre-headless,ca-certificates,openssh-server,sudo
CACHE_DIR=${XDG_CACHE_HOME:-/var/cache}/iidca-e2e
INCLUDE_HASH=$(printf '%s' "$INCLUDE" | sha256sum | cut -c 1-12)
ROOT_TARBALL=$CACHE_DIR/debian-$SUITE-sshd-$INCLUDE_HASH.tar.zst
NAME=web.packer.internal
UNIT=/lib/systemd/system/iidca-enroll@.service
# Upper bound, in seconds, for packer build: apt-get and two JVM starts in the chroot.
PACKER_TIMEOUT=300

WORK=
ROOT=
MOUNTS=()

# Stops the processes first, because sshd runs in the root and keeps its mounts busy, then
# unmounts in reverse order. If a mount remains, the work directory is left in place, so that rm -rf
# cannot reach into a mounted file system. lib.sh's cleanup then deletes the namespace.
# shellcheck disable=SC2317 # the EXIT trap calls it
on_exit() {
  local status=$? index
  set +e
  for index in "${!CLEANUP_PIDS[@]}"; do
    stop_process "${CLEANUP_PIDS[index]}"
  done
  for ((index = ${#MOUNTS[@]} - 1; index >= 0; index--)); do
    umount "${MOUNTS[index]}" 2>/dev/null || umount -l "${MOUNTS[index]}"
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
command -v packer >/dev/null || skip_test "packer not found (Debian package packer)"
if [[ ! -s $ROOT_TARBALL ]] && ! command -v mmdebstrap >/dev/null; then
  skip_test "mmdebstrap not found (Debian package mmdebstrap) and no cached $ROOT_TARBALL"
fi
for tool in chroot zstd ssh-keygen openssl findmnt; do
  command -v "$tool" >/dev/null || skip_test "$tool not found"
done
ensure_built

MAVEN_VERSION=$(sed -n '/<parent>/,/<\/parent>/s|.*<version>\(.*\)</version>.*|\1|p' \
  "$IIDCA_ROOT/cli/pom.xml")
DEB=$IIDCA_ROOT/cli/target/iidca_$(sed -e 's/-SNAPSHOT$/~snapshot/' -e 's/-/~/g' \
  <<<"$MAVEN_VERSION")_all.deb
if [[ ! -f $DEB ]]; then
  echo "Building the packages: mvn -B -q package -Dmaven.test.skip=true"
  (cd "$IIDCA_ROOT" && mvn -B -q package -Dmaven.test.skip=true)
fi
[[ -f $DEB ]] || abort_test "the build produced $DEB"

make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
ROOT=$WORK/root
mkdir "$CAPTURE_DIR" "$ROOT"
echo "Work directory $WORK"

# ---- 1. The Debian root with sshd ----
extract_debian_root "$SUITE" "$INCLUDE" "$ROOT_TARBALL" "$ROOT"

# mount_in_root TYPE SOURCE TARGET [OPTION...]: mounts under the root and records the mount
# for on_exit, which unmounts in reverse order.
mount_in_root() {
  local type=$1 source=$2 target=$ROOT$3
  shift 3
  if [[ $type == bind ]]; then
    mount --bind "$@" "$source" "$target"
  else
    mount -t "$type" "$@" "$source" "$target"
  fi
  MOUNTS+=("$target")
}
mount_in_root proc proc /proc
mount_in_root sysfs sysfs /sys
mount_in_root bind /dev /dev
mount_in_root tmpfs tmpfs /run -o mode=0755

# ---- 2. The namespace: emulator, CA and sshd ----
create_metadata_netns packer
echo "Network namespace $NETNS"
start_emulator "$NETNS" "$METADATA_ADDRESS:80" "$WORK/emulator.pem" \
  "$CAPTURE_DIR/emulator.log" || abort_test "the emulator listens on $METADATA_ADDRESS:80"
pass "the emulator listens on $METADATA_ADDRESS:80 in $NETNS"

export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
CA_PORT=8443
start_ca "$NETNS" "$CA_PORT" "$WORK/emulator.pem"

# The host key and authorized_keys live on the root's tmpfs /run, so they never reach the
# baked root, and bake.sh's removal of /etc/ssh/ssh_host_* does not stop sshd.
SSH_PORT=2222
SSHD_DIR=/run/iidca-packer-test
install -d -m 0700 "$ROOT$SSHD_DIR"
install -d -m 0755 "$ROOT/run/sshd"
ssh-keygen -q -t ed25519 -N '' -C host -f "$ROOT$SSHD_DIR/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C packer -f "$WORK/client_key"
install -m 0600 "$WORK/client_key.pub" "$ROOT$SSHD_DIR/authorized_keys"
start_background "$NETNS" "$CAPTURE_DIR/sshd.log" chroot "$ROOT" /usr/sbin/sshd -D -e \
  -p "$SSH_PORT" -o ListenAddress=127.0.0.1 -o "HostKey=$SSHD_DIR/ssh_host_ed25519_key" \
  -o "AuthorizedKeysFile=$SSHD_DIR/authorized_keys" -o PermitRootLogin=prohibit-password \
  -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o UsePAM=no \
  -o PidFile=none
SSHD_PID=$STARTED_PID
deadline=$((SECONDS + START_TIMEOUT))
until [[ -n $(ip netns exec "$NETNS" ss -Htln "sport = :$SSH_PORT") ]]; do
  if ! kill -0 "$SSHD_PID" 2>/dev/null || ((SECONDS >= deadline)); then
    sed 's/^/  | /' "$CAPTURE_DIR/sshd.log"
    abort_test "sshd in the chroot listens on 127.0.0.1:$SSH_PORT"
  fi
  sleep 0.2
done
pass "sshd in the chroot listens on 127.0.0.1:$SSH_PORT in $NETNS"

# ---- 3. packer build ----
# The test template's build block must run what packer/build.pkr.hcl runs: compare the two from
# the first provisioner to the end of the file.
TEMPLATE=$IIDCA_ROOT/packer/test/null-chroot.pkr.hcl
expect_equal "$(sed -n '/^  provisioner "file"/,$p' "$TEMPLATE" | sha256sum)" \
  "$(sed -n '/^  provisioner "file"/,$p' "$IIDCA_ROOT/packer/build.pkr.hcl" | sha256sum)" \
  "null-chroot.pkr.hcl has the provisioners and post-processor of packer/build.pkr.hcl"

# Packer 1.6.6 builds one directory, so stage the test template with the real variables and
# bake.sh (the template's ${path.root}/scripts/bake.sh).
STAGE=$WORK/packer
mkdir -p "$STAGE/scripts"
cp -- "$TEMPLATE" "$IIDCA_ROOT/packer/variables.pkr.hcl" "$STAGE/"
cp -- "$IIDCA_ROOT/packer/scripts/bake.sh" "$STAGE/scripts/"
# Give the build VM's state that bake.sh must remove; the host keys come from openssh-server.
echo 0123456789abcdef0123456789abcdef >"$ROOT/etc/machine-id"

CLIENT_TIMEOUT=$PACKER_TIMEOUT run_captured packer-build "$NETNS" env CHECKPOINT_DISABLE=1 \
  PACKER_NO_COLOR=1 packer build -color=false \
  -var "ca_url=https://127.0.0.1:$CA_PORT" -var "ca_fingerprint=$ROOT_FINGERPRINT" \
  -var "cert_name=$NAME" -var "enroll_args=--san api.internal" -var "package_file=$DEB" \
  -var "manifest_file=$WORK/packer-manifest.json" -var "ssh_port=$SSH_PORT" \
  -var "ssh_private_key_file=$WORK/client_key" "$STAGE"
require_status packer-build 0 "packer build of the null source over SSH into the chroot"
expect_captured packer-build out "bake: done: iidca-enroll@$NAME.service enrolls" \
  "packer's shell provisioner ran bake.sh to its end"
if grep -q '"builder_type": "null"' "$WORK/packer-manifest.json" 2>/dev/null; then
  pass "the manifest post-processor recorded the null build"
else
  fail "the manifest post-processor recorded the null build in $WORK/packer-manifest.json"
fi

# shellcheck disable=SC2016 # ${db:Status-Status} is dpkg-query's format, not a variable
if chroot "$ROOT" dpkg-query -W -f='${db:Status-Status}' iidca | grep -qx installed; then
  pass "the iidca package is installed"
else
  fail "the iidca package is installed: dpkg-query does not report it"
fi
if [[ -e $ROOT/tmp/iidca.deb ]]; then
  fail "bake.sh removed the uploaded /tmp/iidca.deb: it still exists"
else
  pass "bake.sh removed the uploaded /tmp/iidca.deb"
fi
if cmp -s "$ROOT/etc/iidca/certs/root_ca.crt" "$IIDCA_PATH/certs/root_ca.crt"; then
  pass "/etc/iidca/certs/root_ca.crt is the CA's root"
else
  fail "/etc/iidca/certs/root_ca.crt is the CA's root: missing or different"
fi
if grep -qF "https://127.0.0.1:$CA_PORT" "$ROOT/etc/iidca/config/defaults.yaml" 2>/dev/null; then
  pass "/etc/iidca/config/defaults.yaml names the CA's URL"
else
  fail "/etc/iidca/config/defaults.yaml names the CA's URL https://127.0.0.1:$CA_PORT"
fi
expect_equal "$(cd "$ROOT/etc/iidca" && find . -type f | sort | paste -sd ' ')" \
  "./certs/root_ca.crt ./config/defaults.yaml ./enroll-$NAME.env" \
  "/etc/iidca contains only the root, the defaults and the enroll settings (no key, no cert)"
WANTS=$ROOT/etc/systemd/system
expect_equal "$(readlink "$WANTS/multi-user.target.wants/iidca-enroll@$NAME.service" 2>&1)" \
  "$UNIT" "iidca-enroll@$NAME.service is enabled"
expect_equal "$(readlink "$WANTS/timers.target.wants/iidca-renew@$NAME.timer" 2>&1)" \
  /lib/systemd/system/iidca-renew@.timer "iidca-renew@$NAME.timer is enabled"
expect_equal "$(stat -c %s "$ROOT/etc/machine-id")" 0 "/etc/machine-id is empty"
if [[ -e $ROOT/var/lib/dbus/machine-id && ! -L $ROOT/var/lib/dbus/machine-id ]]; then
  fail "/var/lib/dbus/machine-id is removed: it is still a file"
else
  pass "/var/lib/dbus/machine-id is removed or a link to /etc/machine-id"
fi
expect_equal "$(find "$ROOT/etc/ssh" -name 'ssh_host_*' | wc -l)" 0 "no SSH host keys are left"

# ---- 4. The first boot ----
# unit_setting KEY: prints each value of KEY= in the installed unit, one a line, in order. As in
# systemd.syntax(7), a line that ends in a backslash continues on the next line, with the
# backslash replaced by a space, and lines that start with # or ; are comments. Section names
# are not checked: the keys read here occur once in the unit.
unit_setting() {
  awk -v key="$1" '
    !joined && /^[ \t]*[#;]/ { next }
    { line = joined ? line " " $0 : $0 }
    /\\$/ { sub(/\\$/, "", line); joined = 1; next }
    { joined = 0; if (index(line, key "=") == 1) print substr(line, length(key) + 2) }
  ' "$ROOT$UNIT"
}

# expand_specifiers TEXT: prints TEXT with systemd's %i replaced by the instance name and %% by
# %. The unit uses no other specifier, and one that remains makes the check below fail.
expand_specifiers() {
  local text=${1//%%/$'\x01'}
  text=${text//%i/$NAME}
  printf '%s' "${text//$'\x01'/%}"
}

# load_unit_environment: fills UNIT_ENVIRONMENT from the unit's Environment= assignments, then
# from each EnvironmentFile= in the root, which systemd applies after Environment=. A file line
# is KEY=VALUE, and double quotes around VALUE are removed, as systemd.exec(5) describes. Values
# with spaces in Environment= and escapes in files are not handled, and the unit has neither.
load_unit_environment() {
  local assignment file line key value
  UNIT_ENVIRONMENT=()
  while read -r assignment; do
    UNIT_ENVIRONMENT[${assignment%%=*}]=${assignment#*=}
  done < <(unit_setting Environment)
  while read -r file; do
    file=$(expand_specifiers "$file")
    # A leading - makes a missing file no error.
    if [[ ! -f $ROOT${file#-} ]]; then
      [[ $file == -* ]] && continue
      abort_test "EnvironmentFile $file of $UNIT exists in the baked root"
    fi
    while IFS= read -r line || [[ -n $line ]]; do
      [[ $line =~ ^[[:space:]]*([#;]|$) ]] && continue
      key=${line%%=*}
      value=${line#*=}
      if [[ $value =~ ^\"(.*)\"$ ]]; then
        value=${BASH_REMATCH[1]}
      fi
      UNIT_ENVIRONMENT[$key]=$value
    done <"$ROOT${file#-}"
  done < <(unit_setting EnvironmentFile)
}

# build_exec_start: fills EXEC_ARGV from the unit's ExecStart= line. Words are separated by
# whitespace (the line has no quotes). As systemd.service(5) describes, a word that is exactly
# ${VAR} becomes one argument and a word that is exactly $VAR becomes the value split at
# whitespace, possibly no argument at all.
build_exec_start() {
  local line word
  local -a words
  line=$(expand_specifiers "$(unit_setting ExecStart)")
  read -ra words <<<"$line"
  EXEC_ARGV=()
  for word in "${words[@]}"; do
    if [[ $word =~ ^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$ ]]; then
      EXEC_ARGV+=("${UNIT_ENVIRONMENT[${BASH_REMATCH[1]}]:-}")
    elif [[ $word =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
      # shellcheck disable=SC2206 # the split at whitespace is the point
      EXEC_ARGV+=(${UNIT_ENVIRONMENT[${BASH_REMATCH[1]}]:-})
    else
      EXEC_ARGV+=("$word")
    fi
  done
}

# path_conditions_hold KEY: returns 0 when every KEY= path check of the unit holds in the root:
# the path exists, or, with a leading !, it does not. The unit uses no | (triggering) checks.
path_conditions_hold() {
  local condition path
  while read -r condition; do
    condition=$(expand_specifiers "$condition")
    path=${condition#!}
    if [[ $condition == !* && -e $ROOT$path ]] || [[ $condition != !* && ! -e $ROOT$path ]]; then
      return 1
    fi
  done < <(unit_setting "$1")
}

declare -A UNIT_ENVIRONMENT
load_unit_environment
build_exec_start
expect_equal "${EXEC_ARGV[*]}" "/usr/bin/iidca certificate $NAME /etc/iidca/certs/$NAME.crt \
/etc/iidca/certs/$NAME.key --provisioner AWS IID Provisioner --san api.internal" \
  "ExecStart= of $UNIT expands with enroll-$NAME.env"
expect_equal "${EXEC_ARGV[6]:-}" "AWS IID Provisioner" \
  "\${IIDCA_PROVISIONER} stays one argument"

# start_unit NAME: starts the unit as systemd would at boot: skipped when a condition fails,
# failed when an assertion fails, else ExecStart= in the chroot with only the unit's
# environment. Sets UNIT_RESULT to skipped, failed or the exit status.
start_unit() {
  local -a environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  local key
  if ! path_conditions_hold ConditionPathExists; then
    UNIT_RESULT=skipped
    return 0
  fi
  if ! path_conditions_hold AssertPathExists; then
    UNIT_RESULT=failed
    return 0
  fi
  for key in "${!UNIT_ENVIRONMENT[@]}"; do
    environment+=("$key=${UNIT_ENVIRONMENT[$key]}")
  done
  run_captured "$1" "$NETNS" chroot "$ROOT" env -i "${environment[@]}" "${EXEC_ARGV[@]}"
  UNIT_RESULT=$RC
}

CERT=$ROOT/etc/iidca/certs/$NAME.crt
start_unit first-boot
expect_equal "$UNIT_RESULT" 0 "the first start of iidca-enroll@$NAME.service enrolls"
if [[ $UNIT_RESULT != 0 ]]; then
  show_captured first-boot
fi
[[ -f $CERT ]] || abort_test "/etc/iidca/certs/$NAME.crt exists after the first boot"
expect_equal "$(stat -c %a "$ROOT/etc/iidca/certs/$NAME.key")" 600 \
  "/etc/iidca/certs/$NAME.key has mode 0600"
awk -v prefix="$WORK/chain-" \
  '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (prefix n ".pem") }' "$CERT"
expect_equal "$(openssl verify -CAfile "$IIDCA_PATH/certs/root_ca.crt" \
  -untrusted "$WORK/chain-2.pem" "$WORK/chain-1.pem" 2>&1)" "$WORK/chain-1.pem: OK" \
  "$NAME.crt verifies against the CA's root (openssl verify)"
expect_equal "$(openssl x509 -in "$WORK/chain-1.pem" -noout -subject -nameopt RFC2253)" \
  "subject=CN=$NAME" "$NAME.crt has subject CN=$NAME"
if openssl x509 -in "$WORK/chain-1.pem" -noout -ext subjectAltName | grep -qF DNS:api.internal
then
  pass "$NAME.crt carries DNS:api.internal from IIDCA_ENROLL_ARGS"
else
  fail "$NAME.crt carries DNS:api.internal from IIDCA_ENROLL_ARGS"
fi
# env -i passed only PATH and the unit's environment, so the client's endpoint variable was
# unset and the identity document came from the emulator on the default address.
expect_equal "${UNIT_ENVIRONMENT[AWS_EC2_METADATA_SERVICE_ENDPOINT]-unset}" unset \
  "the first boot ran without AWS_EC2_METADATA_SERVICE_ENDPOINT (default $METADATA_ADDRESS)"

before=$(sha256sum <"$CERT")
start_unit second-boot
expect_equal "$UNIT_RESULT" skipped \
  "ConditionPathExists= skips the second start of iidca-enroll@$NAME.service"
expect_equal "$(sha256sum <"$CERT")" "$before" "the second boot left $NAME.crt unchanged"

finish_test
