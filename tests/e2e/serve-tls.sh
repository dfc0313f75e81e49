#!/usr/bin/env bash
# Checks the TLS sessions of iidca serve with openssl s_client. The CA's engine is BoringSSL
# where it loads, and the JDK's TLS with -Dio.netty.handler.ssl.noOpenSsl=true; the log names
# it. Neither engine sends a TLS 1.3 session ticket by default (see TlsEngines). A client that
# offers an old ticket (from the CA's previous process, whose ticket keys are gone) still gets
# a full handshake and its response. The first part runs the
# JDK's engine with -Djdk.tls.server.disableExtensions= (empty), which keeps every extension:
# then a ticket arrives and the next connection resumes with it. That shows the checks would
# see a ticket. TLS 1.2 sessions resume with both engines, as docs/operator.md describes. Runs
# on loopback and needs no root.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

ensure_built
make_ca_work_dir
CA_PORT=$(pick_free_port)
ROOT=$IIDCA_PATH/certs/root_ca.crt

run_captured init "" "$IIDCA_BIN" init --name "My CA" --dns 127.0.0.1 \
  --address "127.0.0.1:$CA_PORT" --password-file "$WORK/pw"
require_status init 0 "iidca init"

# serve LABEL [NAME=VALUE...]: starts iidca serve with the environment additions given, waits
# until it responds to GET /health and stores its process id in SERVE_PID. A failed start ends
# the test.
serve() {
  local label=$1
  shift
  echo "  \$ ${*:+$* }iidca serve --password-file $WORK/pw &"
  start_background "" "$CAPTURE_DIR/serve-$label.log" env "$@" "$IIDCA_BIN" serve \
    --password-file "$WORK/pw"
  SERVE_PID=$STARTED_PID
  if ! wait_for_health "" "$SERVE_PID" "$CA_PORT" "$ROOT"; then
    sed 's/^/  | /' "$CAPTURE_DIR/serve-$label.log"
    abort_test "iidca serve ($label) responds to GET /health on 127.0.0.1:$CA_PORT"
  fi
}

# request NAME VERSION [S_CLIENT_OPTION...]: sends GET /health over TLS VERSION (1.2 or 1.3)
# with openssl s_client, which checks the CA's chain and reads until the CA closes the
# connection, so a ticket sent after the handshake is seen. Output goes to
# $CAPTURE_DIR/NAME.out and .err, the exit status to RC.
request() {
  local name=$1 version=$2
  shift 2
  echo "  \$ openssl s_client -connect 127.0.0.1:$CA_PORT -tls${version/./_} $* (GET /health)"
  RC=0
  printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' |
    timeout "$CLIENT_TIMEOUT" openssl s_client -connect "127.0.0.1:$CA_PORT" "-tls${version/./_}" \
      -CAfile "$ROOT" -verify_return_error -ign_eof "$@" \
      >"$CAPTURE_DIR/$name.out" 2>"$CAPTURE_DIR/$name.err" || RC=$?
}

# expect_answered NAME HANDSHAKE VERSION: checks that request NAME succeeded, got 200 and made
# a handshake of kind HANDSHAKE (New or Reused, as s_client prints it) over TLS VERSION.
expect_answered() {
  local name=$1 handshake=$2 version=$3
  expect_status "$name" 0 "$name: openssl s_client exits 0"
  expect_captured "$name" out "HTTP/1.1 200" "$name: GET /health answers 200"
  expect_captured "$name" out "$handshake, TLSv$version" \
    "$name: $handshake TLS $version handshake"
}

# expect_engine LABEL TEXT: checks that the log of serve LABEL names the TLS engine TEXT.
expect_engine() {
  if grep -qF "TLS engine: $2" "$CAPTURE_DIR/serve-$1.log"; then
    pass "$1: the log names the TLS engine: $2"
  else
    fail "$1: the log does not name the TLS engine $2"
    sed 's/^/  | /' "$CAPTURE_DIR/serve-$1.log"
  fi
}

# expect_no_ticket NAME: checks that request NAME got no session ticket and saved no session.
expect_no_ticket() {
  if grep -qF "New Session Ticket arrived" "$CAPTURE_DIR/$1.out"; then
    fail "$1: by default the CA sends no session ticket, but s_client received one"
    show_captured "$1"
  else
    pass "$1: by default the CA sends no session ticket"
  fi
  if [[ -s $WORK/$1.pem ]]; then
    fail "$1: s_client saved a session to resume in $WORK/$1.pem"
  else
    pass "$1: s_client saved no session to resume"
  fi
}

JDK_ENGINE=-Dio.netty.handler.ssl.noOpenSsl=true

# --- The JDK's engine with every extension: the checks see a ticket -------------------------

serve all-extensions "JAVA_OPTS=$JDK_ENGINE -Djdk.tls.server.disableExtensions="
expect_engine all-extensions "the JDK's"
request ticket 1.3 -sess_out "$WORK/ticket.pem"
expect_answered ticket New 1.3
expect_captured ticket out "New Session Ticket arrived" \
  "with every extension, the CA sends a session ticket"
if [[ -s $WORK/ticket.pem ]] &&
  openssl sess_id -in "$WORK/ticket.pem" -noout -text | grep -q "TLS session ticket:"; then
  pass "s_client saved the session with its ticket"
else
  fail "s_client saved no session with a ticket in $WORK/ticket.pem"
fi
request resumed 1.3 -sess_in "$WORK/ticket.pem"
expect_answered resumed Reused 1.3
stop_background "$SERVE_PID"

# --- The JDK's engine by default: no ticket --------------------------------------------------

serve jdk-default "JAVA_OPTS=$JDK_ENGINE"
expect_engine jdk-default "the JDK's"
request jdk-no-ticket 1.3 -sess_out "$WORK/jdk-no-ticket.pem"
expect_answered jdk-no-ticket New 1.3
expect_no_ticket jdk-no-ticket
stop_background "$SERVE_PID"

# --- Default: BoringSSL, and an old ticket offered gets a full handshake ----------------------

serve default
expect_engine default BoringSSL
request boringssl-no-ticket 1.3 -sess_out "$WORK/boringssl-no-ticket.pem"
expect_answered boringssl-no-ticket New 1.3
expect_no_ticket boringssl-no-ticket
request offered 1.3 -sess_in "$WORK/ticket.pem"
expect_answered offered New 1.3

# --- Default, TLS 1.2: resumption as before -------------------------------------------------

request tls12-new 1.2 -sess_out "$WORK/tls12.pem"
expect_answered tls12-new New 1.2
request tls12-resumed 1.2 -sess_in "$WORK/tls12.pem"
expect_answered tls12-resumed Reused 1.2

finish_test
