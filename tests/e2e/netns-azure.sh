#!/usr/bin/env bash
# Runs the Azure user flow in a fresh network namespace where the Azure metadata emulator owns
# 169.254.169.254:80, so that `iidca certificate` uses its default IMDS endpoint and no
# variable, as on an Azure VM. Checks exit statuses, file modes, the chain, the SANs (the VM's
# name), trust on first use keyed on the VM id, and that no temporary file is left beside the
# certificate. Needs root for `ip netns`.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

if ! netns_supported; then
  skip_test "needs root and a working 'ip netns' to own $METADATA_ADDRESS in a namespace"
fi
ensure_built
unset AZURE_POD_IDENTITY_AUTHORITY_HOST

AZURE_TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
PROVISIONER="Azure Provisioner"
make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
mkdir "$CAPTURE_DIR" "$WORK/out"
export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
create_metadata_netns e2e-azure
echo "Namespace $NETNS, work directory $WORK"

# The emulator listens on every address of the namespace, which has only loopback and the
# metadata address. The VM side reaches it on 169.254.169.254:80 and the CA on 127.0.0.1:80,
# because the CA accepts an http:// OpenID configuration only on loopback.
start_azure_emulator "$NETNS" "0.0.0.0:80" "$AZURE_TENANT" "$WORK/emulator-roots.pem" \
  "$CAPTURE_DIR/emulator.log" ||
  abort_test "Azure metadata emulator listens on port 80 in $NETNS"
pass "Azure metadata emulator listens in $NETNS (vm $AZURE_VM_NAME, vmId $AZURE_VM_ID)"
COMPUTE=$(ip netns exec "$NETNS" curl -sf --max-time 5 -H "Metadata: true" \
  "http://$METADATA_ADDRESS/metadata/instance/compute?api-version=2021-02-01") ||
  abort_test "Azure metadata emulator returns compute metadata on $METADATA_ADDRESS:80"
expect_equal "$(grep -o '"vmId":"[^"]*"' <<<"$COMPUTE")" "\"vmId\":\"$AZURE_VM_ID\"" \
  "compute metadata on http://$METADATA_ADDRESS names vmId $AZURE_VM_ID"

# The namespace is fresh, so the user flow's port 8443 is free there.
start_ca_with_provisioner "$NETNS" 8443 "$PROVISIONER" --type Azure \
  --azure-tenant "$AZURE_TENANT" \
  --azure-openid-config-url "http://127.0.0.1/$AZURE_TENANT/.well-known/openid-configuration" \
  --azure-roots "$WORK/emulator-roots.pem" --azure-require-attestation

# A umask that would give 0640 shows whether iidca sets the certificate's mode itself.
cd "$WORK/out"
saved_umask=$(umask)
umask 027
run_captured certificate "$NETNS" "$IIDCA_BIN" certificate vm.local vm.crt vm.key \
  --provisioner "$PROVISIONER"
umask "$saved_umask"
cd "$WORK"
require_status certificate 0 "iidca certificate with the default IMDS endpoint"
expect_captured certificate err \
  "✔ Managed identity token and attested document: http://$METADATA_ADDRESS" \
  "iidca certificate read the token and document from http://$METADATA_ADDRESS"

expect_equal "$(stat -c %a out/vm.key)" 600 "vm.key has mode 0600"
expect_equal "$(stat -c %a out/vm.crt)" 644 "vm.crt has mode 0644"
expect_equal "$(list_directory out)" ".vm.key.lock vm.crt vm.key" \
  "only vm.crt, vm.key and the key's lock file in the output directory (no temporary files)"

# vm.crt contains the leaf and then the intermediate.
awk -v prefix="$WORK/chain-" \
  '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (prefix n ".pem") }' out/vm.crt
expect_equal "$(grep -c -- '-----BEGIN CERTIFICATE-----' out/vm.crt)" 2 \
  "vm.crt contains two certificates (leaf, intermediate)"
expect_equal "$(openssl x509 -in chain-2.pem -noout -fingerprint -sha256 2>&1)" \
  "$(openssl x509 -in "$IIDCA_PATH/certs/intermediate_ca.crt" -noout -fingerprint -sha256)" \
  "second certificate in vm.crt is the CA's intermediate"
expect_equal "$(openssl verify -CAfile "$IIDCA_PATH/certs/root_ca.crt" \
  -untrusted chain-2.pem chain-1.pem 2>&1)" "chain-1.pem: OK" \
  "leaf verifies with openssl verify -CAfile root_ca.crt -untrusted <intermediate>"
expect_equal "$(openssl pkey -in out/vm.key -pubout 2>&1)" \
  "$(openssl x509 -in chain-1.pem -noout -pubkey 2>&1)" "vm.key is the leaf's private key"
expect_equal "$(openssl x509 -in chain-1.pem -noout -subject -nameopt RFC2253 2>&1)" \
  "subject=CN=vm.local" "leaf subject is CN=vm.local"

SAN=$(openssl x509 -in chain-1.pem -noout -ext subjectAltName 2>&1)
echo "  subjectAltName: $(echo "$SAN" | tail -n +2 | xargs)"
if grep -qE '(^|[ ,])DNS:vm\.local(,|$)' <<<"$SAN"; then
  pass "subjectAltName lists DNS:vm.local"
else
  fail "subjectAltName lists DNS:vm.local: got $SAN"
fi
if grep -qE "(^|[ ,])DNS:${AZURE_VM_NAME//./\\.}(,|$)" <<<"$SAN"; then
  pass "subjectAltName lists the VM's name DNS:$AZURE_VM_NAME"
else
  fail "subjectAltName lists the VM's name DNS:$AZURE_VM_NAME: got $SAN"
fi

run_captured inspect "$NETNS" "$IIDCA_BIN" inspect --short out/vm.crt
expect_status inspect 0 "iidca inspect --short vm.crt"
expect_captured inspect out \
  "Provisioner: $PROVISIONER [Azure, instance vm:$AZURE_VM_ID, account $AZURE_SUBSCRIPTION]" \
  "the certificate names the provisioner, vm:$AZURE_VM_ID and the subscription"

# Trust on first use, keyed on the attested document's vmId: the same VM cannot enroll again
# without its current certificate, even for another name, and the rejected attempt writes
# nothing and changes nothing.
before=$(sha256sum out/vm.crt out/vm.key)
cd "$WORK/out"
run_captured second-certificate "$NETNS" "$IIDCA_BIN" certificate other.local other.crt \
  other.key --provisioner "$PROVISIONER"
cd "$WORK"
expect_status second-certificate 3 "second enrollment of the same VM is rejected"
expect_captured second-certificate err "already enrolled" \
  "second enrollment's error says 'already enrolled'"
expect_captured second-certificate err "vm:$AZURE_VM_ID" \
  "second enrollment's error names vm:$AZURE_VM_ID"
expect_equal "$(sha256sum out/vm.crt out/vm.key)" "$before" \
  "rejected enrollment leaves vm.crt and vm.key unchanged"
expect_equal "$(list_directory out)" ".other.key.lock .vm.key.lock vm.crt vm.key" \
  "no other.crt, other.key or temporary files after the rejected enrollment"

# With --force over its own files, the VM presents its current, valid certificate over mutual
# TLS, and the CA lets it enroll again with a fresh token, nonce and attested document.
old_serial=$(openssl x509 -in out/vm.crt -noout -serial)
cd "$WORK/out"
run_captured reenrollment "$NETNS" "$IIDCA_BIN" certificate vm.local vm.crt vm.key \
  --force --provisioner "$PROVISIONER"
cd "$WORK"
expect_status reenrollment 0 "re-enrollment presenting the current certificate"
expect_differ "$(openssl x509 -in out/vm.crt -noout -serial)" "$old_serial" \
  "re-enrollment replaced vm.crt with a certificate of a new serial"
expect_equal "$(list_directory out)" ".other.key.lock .vm.key.lock vm.crt vm.key" \
  "no temporary files left after the re-enrollment"

finish_test
