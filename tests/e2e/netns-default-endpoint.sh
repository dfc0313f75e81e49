#!/usr/bin/env bash
# Runs the README's user flow in a fresh network namespace where the metadata emulator owns
# 169.254.169.254:80, so that `iidca certificate` uses its default metadata endpoint, as on EC2.
# Checks exit statuses, file modes, the chain, the SANs, the fingerprint, trust on first use and
# that no temporary file is left beside the certificate. Needs root for `ip netns`.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

if ! netns_supported; then
  skip_test "needs root and a working 'ip netns' to own $METADATA_ADDRESS in a namespace"
fi
ensure_built
unset AWS_EC2_METADATA_SERVICE_ENDPOINT

make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
mkdir "$CAPTURE_DIR" "$WORK/out"
export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
create_metadata_netns e2e-default
echo "Namespace $NETNS, work directory $WORK"

start_emulator "$NETNS" "$METADATA_ADDRESS:80" "$WORK/emulator.pem" "$CAPTURE_DIR/emulator.log" ||
  abort_test "metadata emulator listens on $METADATA_ADDRESS:80 in $NETNS"
pass "metadata emulator listens on $EMULATOR_URL in $NETNS"
PRIVATE_IP=$(ip netns exec "$NETNS" curl -sf --max-time 5 \
  "http://$METADATA_ADDRESS/latest/meta-data/local-ipv4") ||
  abort_test "metadata emulator returns local-ipv4"

# The namespace is fresh, so the user flow's port 8443 is free there.
start_ca "$NETNS" 8443 "$WORK/emulator.pem"

# A umask that would give 0640 shows whether iidca sets the certificate's mode itself.
cd "$WORK/out"
saved_umask=$(umask)
umask 027
run_captured certificate "$NETNS" "$IIDCA_BIN" certificate foo.local foo.crt foo.key \
  --provisioner "AWS IID Provisioner"
umask "$saved_umask"
cd "$WORK"
require_status certificate 0 "iidca certificate with the default metadata endpoint"
expect_captured certificate err "✔ Instance identity document: http://$METADATA_ADDRESS" \
  "iidca certificate read the document from http://$METADATA_ADDRESS"

expect_equal "$(stat -c %a out/foo.key)" 600 "foo.key has mode 0600"
expect_equal "$(stat -c %a out/foo.crt)" 644 "foo.crt has mode 0644"
expect_equal "$(list_directory out)" ".foo.key.lock foo.crt foo.key" \
  "only foo.crt and foo.key in the output directory (no temporary files left)"

# foo.crt contains the leaf and then the intermediate.
awk -v prefix="$WORK/chain-" \
  '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (prefix n ".pem") }' out/foo.crt
expect_equal "$(grep -c -- '-----BEGIN CERTIFICATE-----' out/foo.crt)" 2 \
  "foo.crt contains two certificates (leaf, intermediate)"
expect_equal "$(openssl x509 -in chain-2.pem -noout -fingerprint -sha256 2>&1)" \
  "$(openssl x509 -in "$IIDCA_PATH/certs/intermediate_ca.crt" -noout -fingerprint -sha256)" \
  "second certificate in foo.crt is the CA's intermediate"
expect_equal "$(openssl verify -CAfile "$IIDCA_PATH/certs/root_ca.crt" \
  -untrusted chain-2.pem chain-1.pem 2>&1)" "chain-1.pem: OK" \
  "leaf verifies with openssl verify -CAfile root_ca.crt -untrusted <intermediate>"
expect_equal "$(openssl pkey -in out/foo.key -pubout 2>&1)" \
  "$(openssl x509 -in chain-1.pem -noout -pubkey 2>&1)" "foo.key is the leaf's private key"

SAN=$(openssl x509 -in chain-1.pem -noout -ext subjectAltName 2>&1)
echo "  subjectAltName: $(echo "$SAN" | tail -n +2 | xargs)"
if grep -qE '(^|[ ,])DNS:foo\.local(,|$)' <<<"$SAN"; then
  pass "subjectAltName lists DNS:foo.local"
else
  fail "subjectAltName lists DNS:foo.local: got $SAN"
fi
if grep -qE "(^|[ ,])IP Address:${PRIVATE_IP//./\\.}(,|$)" <<<"$SAN"; then
  pass "subjectAltName lists the instance's private IP $PRIVATE_IP"
else
  fail "subjectAltName lists the instance's private IP $PRIVATE_IP: got $SAN"
fi

run_captured fingerprint "$NETNS" "$IIDCA_BIN" fingerprint "$IIDCA_PATH/certs/root_ca.crt"
expect_status fingerprint 0 "iidca fingerprint"
expect_equal "$(cat "$CAPTURE_DIR/fingerprint.out")" "$ROOT_FINGERPRINT" \
  "iidca fingerprint of root_ca.crt equals the fingerprint init printed"

# Trust on first use: the same instance cannot enroll again without its current certificate,
# even for another name, and the rejected attempt writes nothing and changes nothing.
before=$(sha256sum out/foo.crt out/foo.key)
cd "$WORK/out"
run_captured second-certificate "$NETNS" "$IIDCA_BIN" certificate bar.local bar.crt bar.key \
  --provisioner "AWS IID Provisioner"
cd "$WORK"
expect_status second-certificate 3 "second enrollment of the same instance is rejected"
expect_captured second-certificate err "already enrolled" \
  "second enrollment's error says 'already enrolled'"
expect_equal "$(sha256sum out/foo.crt out/foo.key)" "$before" \
  "rejected enrollment leaves foo.crt and foo.key unchanged"
expect_equal "$(list_directory out)" ".bar.key.lock .foo.key.lock foo.crt foo.key" \
  "no bar.crt, bar.key or temporary files after the rejected enrollment"

# With --force over its own files, the instance presents its current, valid certificate over
# mutual TLS, and the CA lets it enroll again with a fresh identity document.
old_serial=$(openssl x509 -in out/foo.crt -noout -serial)
cd "$WORK/out"
run_captured reenrollment "$NETNS" "$IIDCA_BIN" certificate foo.local foo.crt foo.key \
  --force --provisioner "AWS IID Provisioner"
cd "$WORK"
expect_status reenrollment 0 "re-enrollment presenting the current certificate"
expect_differ "$(openssl x509 -in out/foo.crt -noout -serial)" "$old_serial" \
  "re-enrollment replaced foo.crt with a certificate of a new serial"
expect_equal "$(list_directory out)" ".bar.key.lock .foo.key.lock foo.crt foo.key" \
  "no temporary files left after the re-enrollment"

finish_test
