#!/usr/bin/env bash
# Checks that iidca certificate checks and prepares its output files before it requests a
# certificate from the CA. Each of these fails without using up the instance's one enrollment:
# a path given twice, a parent that is a regular file, a directory at CRT, a read-only file
# system, a full one (a 64k tmpfs) and an immutable key file. A later enrollment of the same
# instance shows that the enrollment is still unused. Then a run with --force waits while
# another process holds the key's lock file, as iidca renew does.
# Needs root for mount and chattr; runs on loopback.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

((EUID == 0)) || skip_test "needs root to mount a tmpfs and to run chattr"
for tool in mount umount chattr dd sha256sum; do
  command -v "$tool" >/dev/null || skip_test "$tool not found"
done

MOUNTS=()
IMMUTABLE=()
# Undoes chattr +i and unmounts, before cleanup removes the work directory.
# shellcheck disable=SC2317 # run by the EXIT trap
undo_root_changes() {
  local status=$? file mount_point
  for file in "${IMMUTABLE[@]}"; do
    chattr -i "$file" 2>/dev/null || true
  done
  for mount_point in "${MOUNTS[@]}"; do
    umount "$mount_point" 2>/dev/null || echo "cannot unmount $mount_point" >&2
  done
  return "$status"
}
install_cleanup_trap
trap 'undo_root_changes; cleanup' EXIT

ensure_built
make_ca_work_dir
echo "Work directory $WORK"
start_emulator "" 127.0.0.1:0 "$WORK/emulator.pem" "$CAPTURE_DIR/emulator.log" ||
  abort_test "metadata emulator starts"
CA_PORT=$(pick_free_port)
start_ca "" "$CA_PORT" "$WORK/emulator.pem"

# certificate NAME CRT KEY [OPTIONS...]: enrolls the emulator's instance into CRT and KEY.
certificate() {
  local name=$1 crt=$2 key=$3
  shift 3
  run_captured "$name" "" env "AWS_EC2_METADATA_SERVICE_ENDPOINT=$EMULATOR_URL" "$IIDCA_BIN" \
    certificate foo.local "$crt" "$key" --provisioner "AWS IID Provisioner" "$@"
}

# The same path twice is a usage error.
certificate same "$WORK/same.pem" "$WORK/same.pem"
expect_status same 2 "the same path for CRT and KEY"
expect_captured same err "$WORK/same.pem" "the error names the path"

# A parent that is a regular file.
echo "not a directory" >"$WORK/file"
mkdir "$WORK/out"
certificate parent-file "$WORK/file/foo.crt" "$WORK/out/foo.key"
expect_status parent-file 1 "a parent of CRT that is a regular file"
expect_captured parent-file err "$WORK/file is not a directory" "the error names the file"

# A directory at CRT, with --force.
mkdir "$WORK/out/foo.crt"
certificate crt-directory "$WORK/out/foo.crt" "$WORK/out/foo.key" --force
expect_status crt-directory 1 "a directory at CRT with --force"
expect_captured crt-directory err "cannot write $WORK/out/foo.crt: it is a directory" \
  "the error names the directory"
expect_equal "$(list_directory "$WORK/out")" "foo.crt" "the failed runs wrote nothing in out"

# A read-only file system, which stops root too.
mkdir "$WORK/read-only"
mount -t tmpfs -o ro,size=64k tmpfs "$WORK/read-only"
MOUNTS+=("$WORK/read-only")
certificate read-only "$WORK/read-only/foo.crt" "$WORK/read-only/foo.key"
expect_status read-only 1 "CRT and KEY on a read-only file system"
expect_captured read-only err "cannot write $WORK/read-only/foo.key" "the error names the key file"
expect_captured read-only err "failed: Read-only file system" "the error names the reason"

# A full file system.
mkdir "$WORK/full"
mount -t tmpfs -o size=64k tmpfs "$WORK/full"
MOUNTS+=("$WORK/full")
dd if=/dev/zero of="$WORK/full/filler" bs=4k 2>/dev/null || true
certificate full "$WORK/full/foo.crt" "$WORK/full/foo.key"
expect_status full 1 "CRT and KEY on a full file system"
expect_captured full err "No space left on device" "the error names the reason"
expect_captured full err "The CA was not asked for a certificate" "the error says nothing was sent"
expect_equal "$(list_directory "$WORK/full")" ".foo.key.lock filler" \
  "the failed run left only the empty lock file on the tmpfs"

# None of the failures used up the instance's enrollment.
mkdir "$WORK/pair"
certificate enroll "$WORK/pair/foo.crt" "$WORK/pair/foo.key"
require_status enroll 0 "the same instance enrolls after the failed runs"
expect_equal "$(list_directory "$WORK/pair")" ".foo.key.lock foo.crt foo.key" \
  "enrollment wrote both files and the lock file"

# An immutable key file: --force fails before the request and keeps the pair.
pair_before=$(sha256sum "$WORK/pair/foo.crt" "$WORK/pair/foo.key")
chattr +i "$WORK/pair/foo.key"
IMMUTABLE+=("$WORK/pair/foo.key")
certificate immutable "$WORK/pair/foo.crt" "$WORK/pair/foo.key" --force
expect_status immutable 1 "--force over an immutable key file"
expect_captured immutable err "cannot write $WORK/pair/foo.key: Operation not permitted" \
  "the error names the key file and the reason"
expect_equal "$(sha256sum "$WORK/pair/foo.crt" "$WORK/pair/foo.key")" "$pair_before" \
  "the failed run left the pair unchanged"
expect_equal "$(list_directory "$WORK/pair")" ".foo.key.lock foo.crt foo.key" \
  "the failed run left no file"

# With the key replaceable again, --force presents the pair and enrolls again.
chattr -i "$WORK/pair/foo.key"
certificate force "$WORK/pair/foo.crt" "$WORK/pair/foo.key" --force
expect_status force 0 "--force after chattr -i"
expect_differ "$(sha256sum "$WORK/pair/foo.crt")" "$(head -n 1 <<<"$pair_before")" \
  "--force replaced the certificate"

# Another process holds the lock file, with the POSIX record lock (fcntl) that iidca renew
# takes: --force waits, writes nothing meanwhile, and enrolls once the lock is released.
pair_before=$(sha256sum "$WORK/pair/foo.crt" "$WORK/pair/foo.key")
python3 -c 'import fcntl, os, sys, time
with open(sys.argv[1], "a") as lock:
    fcntl.lockf(lock, fcntl.LOCK_EX)
    print("locked", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
        time.sleep(0.05)' "$WORK/pair/.foo.key.lock" "$WORK/release" >"$WORK/holder.out" &
holder=$!
# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds or time is up.
wait_until() {
  local tries=$(($1 * 10))
  shift
  while ((tries-- > 0)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
wait_until 10 grep -q locked "$WORK/holder.out" || abort_test "the lock holder starts"
# run_captured sets RC in its own shell, so the background run hands it over in a file.
(
  certificate waits "$WORK/pair/foo.crt" "$WORK/pair/foo.key" --force
  echo "$RC" >"$WORK/waits.status"
) &
enrolling=$!
if wait_until 60 grep -qsF "Another process, such as iidca renew, holds $WORK/pair/.foo.key.lock" \
  "$CAPTURE_DIR/waits.err"; then
  pass "the run says what it waits for"
else
  fail "iidca certificate did not say that it waits for the lock"
fi
expect_equal "$(sha256sum "$WORK/pair/foo.crt" "$WORK/pair/foo.key")" "$pair_before" \
  "the pair is unchanged while another process holds the lock"
expect_equal "$(list_directory "$WORK/pair")" ".foo.key.lock foo.crt foo.key" \
  "no pending key is written while another process holds the lock"
touch "$WORK/release"
wait "$holder"
wait "$enrolling"
RC=$(cat "$WORK/waits.status")
expect_status waits 0 "--force enrolls once the lock is released"
expect_differ "$(sha256sum "$WORK/pair/foo.crt")" "$(head -n 1 <<<"$pair_before")" \
  "--force replaced the certificate after the wait"

finish_test
