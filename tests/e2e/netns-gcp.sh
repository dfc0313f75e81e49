#!/usr/bin/env bash
# Runs the GCP user flow in a fresh network namespace where the GCP metadata emulator owns
# 169.254.169.254:80 and the namespace's hosts file maps metadata.google.internal to it. So
# `iidca certificate` uses its default metadata endpoint with no variable set, as on Compute
# Engine. Checks exit statuses, file modes, the chain, the SANs Google's internal DNS
# vouches for, trust on first use, re-enrollment with the current certificate, and that no
# temporary file is left beside the certificate. Needs root for `ip netns`.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

PROJECT=iidca-e2e-project
ZONE=us-central1-a
INSTANCE_NAME=web-1
PROVISIONER="GCP Provisioner"

if ! netns_supported; then
  skip_test "needs root and a working 'ip netns' to own $METADATA_ADDRESS in a namespace"
fi
ensure_built
unset GCE_METADATA_HOST

make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
mkdir "$CAPTURE_DIR" "$WORK/out"
export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
create_metadata_netns e2e-gcp
add_netns_hosts "$NETNS" "127.0.0.1 localhost" "::1 localhost" \
  "$METADATA_ADDRESS metadata.google.internal"
echo "Namespace $NETNS, work directory $WORK"

# The emulator listens on every address of the namespace, which has only its loopback device.
# Clients reach it on 169.254.169.254:80, and the CA fetches its key set on 127.0.0.1:80,
# because a GCP provisioner accepts an http:// key set URL only on loopback.
start_gcp_emulator "$NETNS" 0.0.0.0:80 "$PROJECT" "$CAPTURE_DIR/emulator.log" \
  --zone "$ZONE" --name "$INSTANCE_NAME" ||
  abort_test "GCP metadata emulator listens on port 80 in $NETNS"
pass "GCP metadata emulator listens on port 80 in $NETNS (instance $GCP_INSTANCE_ID)"

expect_equal "$(ip netns exec "$NETNS" getent hosts metadata.google.internal | awk '{print $1}')" \
  "$METADATA_ADDRESS" "metadata.google.internal resolves to $METADATA_ADDRESS in $NETNS"
expect_equal "$(ip netns exec "$NETNS" curl -sf --max-time 5 -H 'Metadata-Flavor: Google' \
  http://metadata.google.internal/computeMetadata/v1/instance/id 2>&1)" "$GCP_INSTANCE_ID" \
  "http://metadata.google.internal returns the emulator's instance id"

# The namespace is fresh, so the user flow's port 8443 is free there.
start_ca_with_provisioner "$NETNS" 8443 "$PROVISIONER" --type GCP --gcp-project "$PROJECT" \
  --gcp-jwks-url http://127.0.0.1:80/oauth2/v3/certs

# A umask that would give 0640 shows whether iidca sets the certificate's mode itself.
cd "$WORK/out"
saved_umask=$(umask)
umask 027
run_captured certificate "$NETNS" "$IIDCA_BIN" certificate foo.local foo.crt foo.key \
  --provisioner "$PROVISIONER"
umask "$saved_umask"
cd "$WORK"
require_status certificate 0 "iidca certificate with the default GCP metadata endpoint"
expect_captured certificate err "✔ Instance identity token: http://metadata.google.internal" \
  "iidca certificate read the token from http://metadata.google.internal"

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

# The SANs are the subject and the two names Google's internal DNS gives the instance.
SAN=$(openssl x509 -in chain-1.pem -noout -ext subjectAltName 2>&1)
echo "  subjectAltName: $(echo "$SAN" | tail -n +2 | xargs)"
expect_equal "$(echo "$SAN" | tail -n +2 | tr ',' '\n' | xargs -n 1 | sort | paste -sd ' ')" \
  "$(printf '%s\n' DNS:foo.local "DNS:$INSTANCE_NAME.c.$PROJECT.internal" \
    "DNS:$INSTANCE_NAME.$ZONE.c.$PROJECT.internal" | sort | paste -sd ' ')" \
  "subjectAltName lists foo.local and the instance's global and zonal internal DNS names"

run_captured inspect "$NETNS" "$IIDCA_BIN" inspect --short out/foo.crt
expect_status inspect 0 "iidca inspect --short foo.crt"
expect_captured inspect out \
  "Provisioner: $PROVISIONER [GCP, instance $GCP_INSTANCE_ID, account $PROJECT]" \
  "iidca inspect names the provisioner, the instance id and the project"

# Trust on first use: the same instance cannot enroll again without its current certificate,
# even for another name, and the rejected attempt writes nothing and changes nothing.
before=$(sha256sum out/foo.crt out/foo.key)
cd "$WORK/out"
run_captured second-certificate "$NETNS" "$IIDCA_BIN" certificate bar.local bar.crt bar.key \
  --provisioner "$PROVISIONER"
cd "$WORK"
expect_status second-certificate 3 "second enrollment of the same instance is rejected"
expect_captured second-certificate err "already enrolled" \
  "second enrollment's error says 'already enrolled'"
expect_equal "$(sha256sum out/foo.crt out/foo.key)" "$before" \
  "rejected enrollment leaves foo.crt and foo.key unchanged"
expect_equal "$(list_directory out)" ".bar.key.lock .foo.key.lock foo.crt foo.key" \
  "no bar.crt, bar.key or temporary files after the rejected enrollment"

# With --force over its own files, the instance presents its current, valid certificate over
# mutual TLS, and the CA lets it enroll again with a fresh identity token.
old_serial=$(openssl x509 -in out/foo.crt -noout -serial)
cd "$WORK/out"
run_captured reenrollment "$NETNS" "$IIDCA_BIN" certificate foo.local foo.crt foo.key \
  --force --provisioner "$PROVISIONER"
cd "$WORK"
expect_status reenrollment 0 "re-enrollment presenting the current certificate"
expect_differ "$(openssl x509 -in out/foo.crt -noout -serial)" "$old_serial" \
  "re-enrollment replaced foo.crt with a certificate of a new serial"
expect_equal "$(list_directory out)" ".bar.key.lock .foo.key.lock foo.crt foo.key" \
  "no temporary files left after the re-enrollment"

finish_test
