#!/usr/bin/env bash
# Checks how the iidca commands reject wrong input: exit status 2 for usage errors, 1 for
# failures, a message that names the value, and no file or listening port left behind.
# Runs on loopback and needs no root.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

ensure_built
make_ca_work_dir
echo "wrong password" >"$WORK/wrong-pw"
echo "Work directory $WORK"
CA_PORT=$(pick_free_port)
INIT_ARGS=(init --name "My CA" --dns ca.local --dns 127.0.0.1 --address "127.0.0.1:$CA_PORT"
  --password-file "$WORK/pw")

# init twice: the second run is a usage error that names the existing CA and changes nothing.
run_captured init "" "$IIDCA_BIN" "${INIT_ARGS[@]}"
require_status init 0 "first iidca init"
ca_files=$(cd "$IIDCA_PATH" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
run_captured init-again "" "$IIDCA_BIN" "${INIT_ARGS[@]}"
expect_status init-again 2 "second iidca init with the same IIDCA_PATH"
expect_captured init-again err "$IIDCA_PATH" "second init's error names the existing CA"
expect_equal "$(cd "$IIDCA_PATH" && find . -type f -print0 | sort -z | xargs -0 sha256sum)" \
  "$ca_files" "second init leaves the existing CA's files unchanged"

# provisioner add without --aws-account would let every AWS account enroll.
config_before=$(sha256sum "$IIDCA_PATH/config/ca.yaml")
run_captured provisioner-add "" "$IIDCA_BIN" provisioner add "AWS IID Provisioner" --type AWS
expect_status provisioner-add 2 "provisioner add --type AWS without --aws-account"
expect_captured provisioner-add err "--aws-account" "provisioner add's error names --aws-account"
expect_equal "$(sha256sum "$IIDCA_PATH/config/ca.yaml")" "$config_before" \
  "rejected provisioner add leaves ca.yaml unchanged"

# serve with a wrong password: fails with a message about the password and frees its port.
wrong_port=$(pick_free_port)
run_captured serve-wrong-password "" "$IIDCA_BIN" serve --password-file "$WORK/wrong-pw" \
  --address "127.0.0.1:$wrong_port"
if ((RC != 0 && RC != 124)); then
  pass "iidca serve with a wrong password exits non-zero (exit $RC)"
else
  fail "iidca serve with a wrong password exits non-zero within ${CLIENT_TIMEOUT}s: exit $RC"
  show_captured serve-wrong-password
fi
expect_captured serve-wrong-password err "password" "serve's error mentions the password"
expect_equal "$(ss -Htln "sport = :$wrong_port")" "" \
  "nothing listens on 127.0.0.1:$wrong_port after serve failed"

# bootstrap with a well-formed fingerprint that is not the CA's root.
echo "  \$ iidca serve --password-file $WORK/pw &"
start_background "" "$CAPTURE_DIR/serve.log" "$IIDCA_BIN" serve --password-file "$WORK/pw"
if ! wait_for_health "" "$STARTED_PID" "$CA_PORT" "$IIDCA_PATH/certs/root_ca.crt"; then
  sed 's/^/  | /' "$CAPTURE_DIR/serve.log"
  abort_test "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"
fi
pass "iidca serve responds to GET /health on 127.0.0.1:$CA_PORT"
# The running CA has the H2 file open: db check and a second serve fail at once, naming it.
started=$SECONDS
run_captured db-check-in-use "" "$IIDCA_BIN" db check
expect_status db-check-in-use 1 "db check while iidca serve has the database open"
expect_captured db-check-in-use err "is in use, probably by iidca serve" \
  "db check's error says that the database file is in use"
expect_captured db-check-in-use err "$IIDCA_PATH" "db check's error names the database file"
if grep -q -e "SQL State" -e "90020" -e "-----" "$CAPTURE_DIR/db-check-in-use.err"; then
  fail "db check's error shows no H2 or Flyway internals"
  show_captured db-check-in-use
else
  pass "db check's error shows no H2 or Flyway internals"
fi
second_port=$(pick_free_port)
run_captured serve-in-use "" "$IIDCA_BIN" serve --password-file "$WORK/pw" \
  --address "127.0.0.1:$second_port"
expect_status serve-in-use 1 "a second iidca serve on the same IIDCA_PATH"
expect_captured serve-in-use err "is in use, probably by iidca serve" \
  "second serve's error says that the database file is in use"
if ((SECONDS - started < 8)); then
  pass "both failed within $((SECONDS - started)) s, before the pool's 10 s timeout"
else
  fail "both failed within 8 s: took $((SECONDS - started)) s"
fi

root_fingerprint=$("$IIDCA_BIN" fingerprint "$IIDCA_PATH/certs/root_ca.crt")
wrong_fingerprint=$(printf 'not the root of %s' "$root_fingerprint" | sha256sum | cut -c 1-64)
root_before=$(sha256sum "$IIDCA_PATH/certs/root_ca.crt")

# The CA's own IIDCA_PATH already contains the root: bootstrap must not replace it.
run_captured bootstrap-wrong "" "$IIDCA_BIN" bootstrap --ca-url "https://127.0.0.1:$CA_PORT" \
  --fingerprint "$wrong_fingerprint"
expect_status bootstrap-wrong 1 "bootstrap with a wrong fingerprint"
expect_captured bootstrap-wrong err "$wrong_fingerprint" "bootstrap's error names the fingerprint"
expect_equal "$(sha256sum "$IIDCA_PATH/certs/root_ca.crt")" "$root_before" \
  "rejected bootstrap leaves the CA's root_ca.crt unchanged"

# A client with an IIDCA_PATH of its own must not save a root at all.
IIDCA_PATH=$WORK/client run_captured bootstrap-wrong-client "" "$IIDCA_BIN" bootstrap \
  --ca-url "https://127.0.0.1:$CA_PORT" --fingerprint "$wrong_fingerprint"
expect_status bootstrap-wrong-client 1 "bootstrap with a wrong fingerprint from a new client"
expect_captured bootstrap-wrong-client err "$wrong_fingerprint" \
  "new client's bootstrap error names the fingerprint"
if [[ -e $WORK/client/certs/root_ca.crt ]]; then
  fail "rejected bootstrap saved no root: $WORK/client/certs/root_ca.crt exists"
else
  pass "rejected bootstrap saved no root in the new client's IIDCA_PATH"
fi

finish_test
