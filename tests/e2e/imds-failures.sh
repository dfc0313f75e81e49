#!/usr/bin/env bash
# Enrolls against three metadata emulators on loopback, each modelling one IMDS setting. With
# IMDSv2 required, enrollment works with a token. With token PUTs unanswered, as behind a PUT
# response hop limit of 1, enrollment falls back to IMDSv1. With both, enrollment fails within
# a time limit, names the hop limit and writes no file. Needs no root.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

ensure_built
make_ca_work_dir
echo "Work directory $WORK"

# Case name, emulator flags and private IP, one case per line. Each emulator signs with its own
# test keys and models its own instance, so trust on first use does not couple the cases.
CASES=(
  "v2-only --imds-v2-only 10.0.1.1"
  "v1-fallback --drop-token-put 10.0.1.2"
  "blocked --imds-v2-only,--drop-token-put 10.0.1.3"
)
declare -A EMULATOR_URLS PRIVATE_IPS
: >"$WORK/trusted.pem"
for case_line in "${CASES[@]}"; do
  read -r name flags private_ip <<<"$case_line"
  IFS=, read -r -a flag_list <<<"$flags"
  start_emulator "" 127.0.0.1:0 "$WORK/$name.pem" "$CAPTURE_DIR/emulator-$name.log" \
    --private-ip "$private_ip" "${flag_list[@]}" ||
    abort_test "metadata emulator with ${flag_list[*]} starts"
  pass "metadata emulator with ${flag_list[*]} listens on $EMULATOR_URL"
  EMULATOR_URLS[$name]=$EMULATOR_URL
  PRIVATE_IPS[$name]=$private_ip
  cat "$WORK/$name.pem" >>"$WORK/trusted.pem"
done

CA_PORT=$(pick_free_port)
start_ca "" "$CA_PORT" "$WORK/trusted.pem"

# enroll NAME: runs iidca certificate in $WORK/out-NAME against emulator NAME.
enroll() {
  local name=$1
  mkdir "$WORK/out-$name"
  cd "$WORK/out-$name"
  run_captured "certificate-$name" "" env \
    "AWS_EC2_METADATA_SERVICE_ENDPOINT=${EMULATOR_URLS[$name]}" "$IIDCA_BIN" certificate \
    foo.local foo.crt foo.key --provisioner "AWS IID Provisioner"
  cd "$WORK"
}

for name in v2-only v1-fallback; do
  enroll "$name"
  expect_status "certificate-$name" 0 "enrollment against the $name emulator"
  expect_equal "$(list_directory "out-$name")" ".foo.key.lock foo.crt foo.key" \
    "enrollment against the $name emulator wrote foo.crt, foo.key and the key's lock file"
  san=$(openssl x509 -in "out-$name/foo.crt" -noout -ext subjectAltName 2>&1 || true)
  if grep -qF "IP Address:${PRIVATE_IPS[$name]}" <<<"$san"; then
    pass "certificate from the $name emulator names its instance's IP ${PRIVATE_IPS[$name]}"
  else
    fail "certificate from the $name emulator names IP ${PRIVATE_IPS[$name]}: got $san"
  fi
done

# iidca certificate gives up on the token after 2000 ms (its error message says so), so 30
# seconds bound the whole failed attempt.
CLIENT_TIMEOUT=30
started=$SECONDS
enroll blocked
echo "  iidca certificate took $((SECONDS - started))s"
expect_status certificate-blocked 1 \
  "enrollment with IMDSv2 required and token PUTs dropped fails within ${CLIENT_TIMEOUT}s"
expect_captured certificate-blocked err "hop limit" "the error mentions the hop limit"
expect_equal "$(list_directory out-blocked)" ".foo.key.lock" \
  "the failed enrollment wrote no file but the key's empty lock file"

finish_test
