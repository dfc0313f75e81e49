#!/usr/bin/env bash
# Changes the provisioners of a running iidca serve with SIGHUP, as `systemctl reload iidca`
# does. A provisioner that `iidca provisioner add` writes signs only after the signal. A
# configuration file that does not load changes nothing: the log names the error and the CA
# keeps signing. A removed provisioner rejects enrollments after the next signal. The process
# stays the same throughout. Runs on loopback and needs no root.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

ensure_built
make_ca_work_dir
CONFIG=$IIDCA_PATH/config/ca.yaml

start_emulator "" 127.0.0.1:0 "$WORK/emulator.pem" "$CAPTURE_DIR/emulator.log" ||
  abort_test "the metadata emulator starts"
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$EMULATOR_URL
CA_PORT=$(pick_free_port)
start_ca "" "$CA_PORT" "$WORK/emulator.pem"
STARTED_SERVE=$SERVE_PID

# enroll LABEL PROVISIONER: runs iidca certificate in a new directory $WORK/out-LABEL.
enroll() {
  local label=$1 provisioner=$2
  mkdir "$WORK/out-$label"
  cd "$WORK/out-$label"
  run_captured "certificate-$label" "" "$IIDCA_BIN" certificate foo.local foo.crt foo.key \
    --provisioner "$provisioner"
  cd "$WORK"
}

# reload LABEL TEXT: sends serve SIGHUP and waits until its log has one more line containing
# TEXT than before the signal.
reload() {
  local label=$1 text=$2 before deadline
  before=$(grep -cF -- "$text" "$CAPTURE_DIR/serve.log" || true)
  echo "  \$ kill -HUP $SERVE_PID"
  kill -HUP "$SERVE_PID"
  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if (($(grep -cF -- "$text" "$CAPTURE_DIR/serve.log" || true) > before)); then
      pass "$label: the log says \"$text\""
      return 0
    fi
    sleep 0.2
  done
  fail "$label: no new log line \"$text\" within 30 s of SIGHUP; the log's end:"
  tail -n 20 "$CAPTURE_DIR/serve.log" | sed 's/^/  | /'
  finish_test
}

enroll second-before Second
expect_status certificate-second-before 3 "enrollment with provisioner Second before it exists"
expect_captured certificate-second-before err "Second" \
  "the error names the provisioner Second"
expect_equal "$(list_directory out-second-before)" ".foo.key.lock" \
  "the failed enrollment wrote no file but the key's empty lock file"

run_captured provisioner-add-second "" "$IIDCA_BIN" provisioner add Second --type AWS \
  --aws-account 123456789042 --aws-certificates "$WORK/emulator.pem"
require_status provisioner-add-second 0 "iidca provisioner add Second"
expect_captured provisioner-add-second err "SIGHUP" \
  "provisioner add says that SIGHUP applies the change"

enroll second-unsignalled Second
expect_status certificate-second-unsignalled 3 \
  "enrollment with Second before serve receives SIGHUP"

reload added "provisioners reloaded: added [Second], removed [], changed []"
enroll second Second
expect_status certificate-second 0 "enrollment with Second after SIGHUP"
expect_equal "$(list_directory out-second)" ".foo.key.lock foo.crt foo.key" \
  "the enrollment with Second wrote foo.crt and foo.key"

cp "$CONFIG" "$WORK/ca.yaml.good"
printf 'unknownSetting: 1\n' >>"$CONFIG"
reload broken "cannot reload the provisioners from $CONFIG"
if grep -F "cannot reload the provisioners from $CONFIG" "$CAPTURE_DIR/serve.log" |
  grep -qF unknownSetting; then
  pass "the log names the setting that did not load"
else
  fail "the log does not name unknownSetting"
fi
enroll first-after-broken "AWS IID Provisioner"
expect_status certificate-first-after-broken 0 \
  "enrollment with AWS IID Provisioner after a file that did not load"
cp "$WORK/ca.yaml.good" "$CONFIG"

run_captured provisioner-remove-second "" "$IIDCA_BIN" provisioner remove Second
require_status provisioner-remove-second 0 "iidca provisioner remove Second"
reload removed "provisioners reloaded: added [], removed [Second], changed []"
enroll second-removed Second
expect_status certificate-second-removed 3 "enrollment with Second after its removal"
expect_equal "$(list_directory out-second-removed)" ".foo.key.lock" \
  "the rejected enrollment wrote no file but the key's empty lock file"

if kill -0 "$STARTED_SERVE" 2>/dev/null && [[ $SERVE_PID == "$STARTED_SERVE" ]]; then
  pass "the same iidca serve process served every step"
else
  fail "iidca serve $STARTED_SERVE is no longer running"
fi
finish_test
