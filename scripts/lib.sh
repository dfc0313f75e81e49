# shellcheck shell=bash
# Helpers shared by scripts/demo and tests/e2e/*.sh: the launchers, free loopback ports,
# network namespaces that own the metadata address, background processes and their cleanup.
# Source it from a bash script that runs with `set -euo pipefail`.

IIDCA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
IIDCA_BIN=$IIDCA_ROOT/cli/target/iidca/bin/iidca
EMULATOR_BIN=$IIDCA_ROOT/testkit/target/iidca-emulator/bin/iidca-emulator

# The metadata address that AWS EC2 instances reach their instance metadata service on. It only
# ever exists inside a namespace created by create_metadata_netns.
METADATA_ADDRESS=169.254.169.254

# Exit status of a test script that could not run here, as in Automake's test harness.
SKIP_STATUS=77

# Upper bounds, in seconds, for waits on our own processes.
START_TIMEOUT=60
CLIENT_TIMEOUT=120

CLEANUP_PIDS=()
CLEANUP_LABELS=()
CLEANUP_NETNS=()
CLEANUP_DIRS=()

# Builds the launchers with Maven when either is missing.
ensure_built() {
  if [[ -x $IIDCA_BIN && -x $EMULATOR_BIN ]]; then
    return 0
  fi
  echo "Building the launchers: mvn -B -q package -DskipTests"
  (cd "$IIDCA_ROOT" && mvn -B -q package -DskipTests)
}

# Creates a temporary directory, removed on exit, and stores its path in the variable named $1.
make_temp_dir() {
  local directory
  directory=$(mktemp -d "${TMPDIR:-/tmp}/iidca.XXXXXXXX")
  CLEANUP_DIRS+=("$directory")
  printf -v "$1" '%s' "$directory"
}

# Creates the work directory of a test that runs a CA: WORK, removed on exit, its log directory
# CAPTURE_DIR, the CA's directory IIDCA_PATH (exported, created by iidca init) and the password
# file $WORK/pw.
make_ca_work_dir() {
  make_temp_dir WORK
  CAPTURE_DIR=$WORK/logs
  mkdir "$CAPTURE_DIR"
  export IIDCA_PATH=$WORK/ca
  head -c 24 /dev/urandom | base64 >"$WORK/pw"
}

# Prints a loopback TCP port that nothing listens on. Ports come from 20000-31999, below
# Linux's default ephemeral range (32768-60999), so outgoing connections do not take them.
pick_free_port() {
  local port attempt
  for attempt in $(seq 1 50); do
    port=$((20000 + RANDOM % 12000))
    if [[ -z $(ss -Htln "sport = :$port") ]]; then
      echo "$port"
      return 0
    fi
  done
  echo "no free loopback port found after $attempt attempts" >&2
  return 1
}

# Returns 0 when this process may create network namespaces: root, with ip netns working.
netns_supported() {
  ((EUID == 0)) && command -v ip >/dev/null && ip netns list >/dev/null 2>&1
}

# Creates the network namespace iidca-$1-$$ with loopback up and the metadata address on it,
# deletes it on exit, and stores its name in NETNS.
create_metadata_netns() {
  NETNS=iidca-$1-$$
  ip netns add "$NETNS" || return 1
  CLEANUP_NETNS+=("$NETNS")
  ip netns exec "$NETNS" ip link set lo up || return 1
  ip netns exec "$NETNS" ip addr add "$METADATA_ADDRESS/32" dev lo || return 1
}

# Runs a command inside the namespace $1, or directly when $1 is empty.
in_netns() {
  local netns=$1
  shift
  if [[ -n $netns ]]; then
    ip netns exec "$netns" "$@"
  else
    "$@"
  fi
}

# Prints a command the way a user would type it: the launcher's path as plain iidca, paths under
# IIDCA_PATH as "$IIDCA_PATH/...", and other arguments quoted when they need it.
format_command() {
  local argument out=
  for argument in "$@"; do
    if [[ $argument == "$IIDCA_BIN" ]]; then
      argument=iidca
    fi
    if [[ -n ${IIDCA_PATH:-} && $argument == "$IIDCA_PATH"/* ]]; then
      out+=" \"\$IIDCA_PATH/${argument#"$IIDCA_PATH"/}\""
    elif [[ $argument =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      out+=" $argument"
    else
      out+=" \"${argument//\"/\\\"}\""
    fi
  done
  printf '%s\n' "${out# }"
}

# Starts a command in the background in namespace $1 (empty for none), with stdout and stderr
# going to the file $2. Stops it on exit and stores its process id in STARTED_PID.
# A simple command started with & is exec'd in the forked child, and ip netns exec and the
# launchers exec too, so STARTED_PID is the JVM's. A function started with & would leave the
# command as a child of a subshell, which SIGTERM to the subshell does not stop.
start_background() {
  local netns=$1 log=$2
  shift 2
  # Create the log now: the child opens it only after the fork, and callers read it at once.
  : >"$log"
  if [[ -n $netns ]]; then
    ip netns exec "$netns" "$@" >"$log" 2>&1 </dev/null &
  else
    "$@" >"$log" 2>&1 </dev/null &
  fi
  STARTED_PID=$!
  CLEANUP_PIDS+=("$STARTED_PID")
  CLEANUP_LABELS+=("$(basename "$1") ${2:-}")
}

# Starts the AWS metadata emulator in namespace $1 (empty for none) listening on $2, writing its
# signing certificates to $3 and its log to $4. More emulator options may follow. Waits until
# it listens, then stores its URL in EMULATOR_URL and its process id in EMULATOR_PID.
start_emulator() {
  local netns=$1 listen=$2 certificate_out=$3 log=$4
  shift 4
  start_background "$netns" "$log" "$EMULATOR_BIN" aws --listen "$listen" \
    --account "${AWS_ACCOUNT:-123456789042}" --certificate-out "$certificate_out" "$@"
  EMULATOR_PID=$STARTED_PID
  EMULATOR_URL=
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    EMULATOR_URL=$(sed -n 's/^iidca-emulator: AWS metadata service on \(http:[^ ]*\) .*/\1/p' \
      "$log" | head -n 1)
    if [[ -n $EMULATOR_URL && -s $certificate_out ]]; then
      return 0
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "the metadata emulator exited before listening; its log:" >&2
      sed 's/^/  | /' "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "the metadata emulator did not listen on $listen within ${START_TIMEOUT}s" >&2
  return 1
}

# Waits until iidca serve, process $2 in namespace $1 (empty for none), responds to GET /health
# on https://127.0.0.1:$3 with a certificate that chains to root $4. Checking the chain makes
# sure that the response comes from this CA, not from another server that holds the port.
wait_for_health() {
  local netns=$1 pid=$2 port=$3 root=$4
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    # No redirection on this function call: bash would apply it to a trap that runs meanwhile.
    if in_netns "$netns" curl -sf -o /dev/null --max-time 2 --cacert "$root" \
      "https://127.0.0.1:$port/health"; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "iidca serve exited before responding to GET /health" >&2
      return 1
    fi
    sleep 0.3
  done
  echo "iidca serve did not respond to GET https://127.0.0.1:$port/health" \
    "within ${START_TIMEOUT}s" >&2
  return 1
}

# Stops a process started by start_background: SIGTERM, then SIGKILL after 10 seconds.
stop_process() {
  local pid=$1 waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Stops process $1, started by start_background, and removes it from the cleanup list, so that
# cleanup does not signal its id, which another process may have taken meanwhile.
stop_background() {
  local pid=$1 index
  stop_process "$pid"
  for index in "${!CLEANUP_PIDS[@]}"; do
    if [[ ${CLEANUP_PIDS[index]} == "$pid" ]]; then
      unset 'CLEANUP_PIDS[index]' 'CLEANUP_LABELS[index]'
    fi
  done
}

# Stops the processes, deletes the namespaces and removes the directories registered above,
# saying so when CLEANUP_VERBOSE is 1. Runs on EXIT, so also after a failure, SIGINT or SIGTERM,
# and keeps the script's exit status.
cleanup() {
  local status=$? index netns directory
  set +e
  for index in "${!CLEANUP_PIDS[@]}"; do
    stop_process "${CLEANUP_PIDS[index]}"
    cleanup_note "stopped ${CLEANUP_LABELS[index]} (process ${CLEANUP_PIDS[index]})"
  done
  for netns in "${CLEANUP_NETNS[@]}"; do
    ip netns delete "$netns" 2>/dev/null && cleanup_note "deleted network namespace $netns"
  done
  for directory in "${CLEANUP_DIRS[@]}"; do
    rm -rf -- "$directory" && cleanup_note "removed $directory"
  done
  exit "$status"
}

cleanup_note() {
  if [[ ${CLEANUP_VERBOSE:-0} == 1 ]]; then
    echo "cleanup: $*"
  fi
}

install_cleanup_trap() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# ---- Checks for tests/e2e/*.sh ----
# Each check prints one PASS or FAIL line. finish_test prints the script's result and exits
# 0 when every check passed, 1 otherwise. skip_test exits with SKIP_STATUS.

TEST_NAME=$(basename "$0")
CHECKS_PASSED=0
CHECKS_FAILED=0

pass() {
  echo "PASS: $*"
  CHECKS_PASSED=$((CHECKS_PASSED + 1))
}

fail() {
  echo "FAIL: $*"
  CHECKS_FAILED=$((CHECKS_FAILED + 1))
}

finish_test() {
  local total=$((CHECKS_PASSED + CHECKS_FAILED))
  if ((CHECKS_FAILED == 0 && total > 0)); then
    echo "RESULT $TEST_NAME: PASS ($total checks)"
    exit 0
  fi
  echo "RESULT $TEST_NAME: FAIL ($CHECKS_FAILED of $total checks failed)"
  exit 1
}

# Records a failed check and ends the test, for a step that later checks depend on.
abort_test() {
  fail "$*"
  finish_test
}

skip_test() {
  echo "SKIP: $TEST_NAME: $*"
  exit "$SKIP_STATUS"
}

# run_captured NAME NETNS COMMAND...: runs COMMAND in namespace NETNS (empty for none) with a
# time limit of CLIENT_TIMEOUT seconds and no stdin. Stores its exit status in RC, its stdout in
# $CAPTURE_DIR/NAME.out and its stderr in $CAPTURE_DIR/NAME.err. timeout exits 124 on expiry.
# --foreground keeps COMMAND in the script's process group, so that Ctrl-C reaches it.
run_captured() {
  local name=$1 netns=$2
  shift 2
  echo "  \$ $(format_command "$@")"
  RC=0
  in_netns "$netns" timeout --foreground "$CLIENT_TIMEOUT" "$@" \
    >"$CAPTURE_DIR/$name.out" 2>"$CAPTURE_DIR/$name.err" </dev/null || RC=$?
}

# Prints the captured stdout and stderr of run NAME, indented, to explain a failed check.
show_captured() {
  local name=$1 stream
  for stream in out err; do
    if [[ -s $CAPTURE_DIR/$name.$stream ]]; then
      echo "  std$stream of $name:"
      sed 's/^/  | /' "$CAPTURE_DIR/$name.$stream"
    fi
  done
}

# expect_status NAME EXPECTED DESCRIPTION: checks the exit status of the last run_captured.
expect_status() {
  local name=$1 expected=$2 description=$3
  if ((RC == expected)); then
    pass "$description (exit $RC)"
  else
    fail "$description: exit status $RC, expected $expected"
    show_captured "$name"
  fi
}

# expect_captured NAME STREAM TEXT DESCRIPTION: checks that stream out or err of run NAME
# contains TEXT, compared as a fixed string.
expect_captured() {
  local name=$1 stream=$2 text=$3 description=$4
  if grep -qF -- "$text" "$CAPTURE_DIR/$name.$stream"; then
    pass "$description"
  else
    fail "$description: std$stream of $name does not contain '$text'"
    show_captured "$name"
  fi
}

# Prints the names of all entries of directory $1, hidden ones included, sorted, on one line.
list_directory() {
  find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | paste -sd ' '
}

# tree_digest DIR [PATH...]: prints one line per entry below DIR, sorted: type, mode, owner and
# link target, and for a regular file its size, modification time and SHA-256. Each PATH,
# relative to DIR, is left out with all below it. Comparing two digests shows whether a command
# added, removed or changed an entry; the times of directories are not compared.
tree_digest() {
  local root=$1 name
  shift
  local prune=()
  for name in "$@"; do
    prune+=(-path "./$name" -prune -o)
  done
  (
    cd "$root" || exit 1
    find . "${prune[@]}" ! -type f -printf '%y %m %U:%G %p %l\n'
    find . "${prune[@]}" -type f -printf 'f %m %U:%G %s %T@ %p\n'
    find . "${prune[@]}" -type f -exec sha256sum {} +
  ) | LC_ALL=C sort
}

# expect_same_digest BEFORE AFTER DESCRIPTION: checks that the tree_digest outputs in the files
# BEFORE and AFTER are equal, and prints the first lines that differ otherwise.
expect_same_digest() {
  local before=$1 after=$2 description=$3
  if cmp -s "$before" "$after"; then
    pass "$description"
  else
    fail "$description: these entries differ (- before, + after)"
    diff -U 0 "$before" "$after" | grep -v -e '^---' -e '^+++' -e '^@@' | head -n 20 |
      sed 's/^/  | /'
  fi
}

# expect_changes_reported NAME DESCRIPTION: checks that the PLAY RECAP in the stdout of
# ansible-playbook run NAME counts at least one changed task.
expect_changes_reported() {
  local name=$1 description=$2 changed
  changed=$(sed -n 's/^.* changed=\([0-9][0-9]*\) .*$/\1/p' "$CAPTURE_DIR/$name.out" | head -n 1)
  if [[ -n $changed ]] && ((changed > 0)); then
    pass "$description (changed=$changed)"
  else
    fail "$description: the PLAY RECAP shows changed=${changed:-nothing}"
    show_captured "$name"
  fi
}

# expect_equal ACTUAL EXPECTED DESCRIPTION
expect_equal() {
  if [[ $1 == "$2" ]]; then
    pass "$3"
  else
    fail "$3: got '$1', expected '$2'"
  fi
}

# extract_debian_root SUITE INCLUDE TARBALL ROOT: extracts a Debian root into ROOT from the cached
# TARBALL. A missing tarball is built first with mmdebstrap (variant apt, the packages in the
# comma-separated INCLUDE) and renamed into place only when complete, so later runs reuse it.
extract_debian_root() {
  local suite=$1 include=$2 tarball=$3 root=$4 partial
  if [[ ! -s $tarball ]]; then
    echo "Building $tarball with mmdebstrap (cached for later runs)"
    mkdir -p "$(dirname "$tarball")"
    partial=$(dirname "$tarball")/.partial-$$.tar.zst
    if ! mmdebstrap --quiet --variant=apt --include="$include" "$suite" "$partial" \
      >"$CAPTURE_DIR/mmdebstrap.log" 2>&1; then
      rm -f -- "$partial"
      sed 's/^/  | /' "$CAPTURE_DIR/mmdebstrap.log"
      abort_test "mmdebstrap builds a $suite root with $include"
    fi
    mv -- "$partial" "$tarball"
  fi
  tar --zstd --numeric-owner -xpf "$tarball" -C "$root"
  pass "extracted the $suite root $(basename "$tarball")"
}

# expect_differ ACTUAL UNEXPECTED DESCRIPTION: passes when the two strings differ.
expect_differ() {
  if [[ $1 != "$2" ]]; then
    pass "$3"
  else
    fail "$3: got '$1' again"
  fi
}

# require_status NAME EXPECTED DESCRIPTION: like expect_status, but ends the test on failure.
require_status() {
  expect_status "$@"
  if ((RC != $2)); then
    finish_test
  fi
}

# start_ca NETNS PORT AWS_CERTIFICATES: runs the CA side of the user flow in namespace NETNS
# (empty for none): init with IIDCA_PATH and $WORK/pw, provisioner add trusting the emulator's
# certificates, serve on 127.0.0.1:PORT and bootstrap. Each step is a check, and a failed step
# ends the test. Stores init's fingerprint in ROOT_FINGERPRINT and serve's process in SERVE_PID.
start_ca() {
  local netns=$1 port=$2 aws_certificates=$3
  run_captured init "$netns" "$IIDCA_BIN" init --name "My CA" --dns ca.local --dns 127.0.0.1 \
    --address "127.0.0.1:$port" --password-file "$WORK/pw"
  require_status init 0 "iidca init"
  ROOT_FINGERPRINT=$(sed -n 's/^Root fingerprint: \([0-9a-f]\{64\}\)$/\1/p' \
    "$CAPTURE_DIR/init.out")
  if [[ -z $ROOT_FINGERPRINT ]]; then
    show_captured init
    abort_test "iidca init printed no 'Root fingerprint: <64 hex digits>' line"
  fi

  run_captured provisioner-add "$netns" "$IIDCA_BIN" provisioner add "AWS IID Provisioner" \
    --type AWS --aws-account "${AWS_ACCOUNT:-123456789042}" --aws-certificates "$aws_certificates"
  require_status provisioner-add 0 "iidca provisioner add"

  echo "  \$ iidca serve --password-file $WORK/pw &"
  start_background "$netns" "$CAPTURE_DIR/serve.log" "$IIDCA_BIN" serve \
    --password-file "$WORK/pw"
  SERVE_PID=$STARTED_PID
  if ! wait_for_health "$netns" "$SERVE_PID" "$port" "$IIDCA_PATH/certs/root_ca.crt"; then
    sed 's/^/  | /' "$CAPTURE_DIR/serve.log"
    abort_test "iidca serve responds to GET /health on 127.0.0.1:$port"
  fi
  pass "iidca serve responds to GET /health on 127.0.0.1:$port"

  run_captured bootstrap "$netns" "$IIDCA_BIN" bootstrap --ca-url "https://127.0.0.1:$port" \
    --fingerprint "$ROOT_FINGERPRINT"
  require_status bootstrap 0 "iidca bootstrap with init's fingerprint"
}

# start_gcp_emulator NETNS LISTEN PROJECT LOG [OPTIONS...]: starts the GCP metadata emulator in
# namespace NETNS (empty for none) listening on LISTEN, for project PROJECT, logging to LOG.
# More emulator options may follow. Waits until it listens, then stores its instance id in
# GCP_INSTANCE_ID and its process id in EMULATOR_PID.
start_gcp_emulator() {
  local netns=$1 listen=$2 project=$3 log=$4
  shift 4
  start_background "$netns" "$log" "$EMULATOR_BIN" gcp --listen "$listen" --project "$project" \
    "$@"
  EMULATOR_PID=$STARTED_PID
  GCP_INSTANCE_ID=
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    GCP_INSTANCE_ID=$(sed -n \
      's/^iidca-emulator: GCP metadata server on .*, instance \([0-9]*\) .*/\1/p' "$log" |
      head -n 1)
    if [[ -n $GCP_INSTANCE_ID ]]; then
      return 0
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "the GCP metadata emulator exited before listening; its log:" >&2
      sed 's/^/  | /' "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "the GCP metadata emulator did not listen on $listen within ${START_TIMEOUT}s" >&2
  return 1
}

# add_netns_hosts NETNS LINE...: writes the lines to /etc/netns/NETNS/hosts, which ip netns exec
# bind-mounts over /etc/hosts inside the namespace (ip-netns(8)), and removes the directory on
# exit. /etc/netns itself is left in place because other namespaces may use it.
add_netns_hosts() {
  local netns=$1
  shift
  mkdir -p "/etc/netns/$netns" || return 1
  CLEANUP_DIRS+=("/etc/netns/$netns")
  printf '%s\n' "$@" >"/etc/netns/$netns/hosts"
}

# start_ca_with_provisioner NETNS PORT NAME OPTIONS...: like start_ca, but adds the provisioner
# NAME with the given `iidca provisioner add` options, such as --type GCP --gcp-project P.
start_ca_with_provisioner() {
  local netns=$1 port=$2 name=$3
  shift 3
  run_captured init "$netns" "$IIDCA_BIN" init --name "My CA" --dns ca.local --dns 127.0.0.1 \
    --address "127.0.0.1:$port" --password-file "$WORK/pw"
  require_status init 0 "iidca init"
  ROOT_FINGERPRINT=$(sed -n 's/^Root fingerprint: \([0-9a-f]\{64\}\)$/\1/p' \
    "$CAPTURE_DIR/init.out")
  if [[ -z $ROOT_FINGERPRINT ]]; then
    show_captured init
    abort_test "iidca init printed no 'Root fingerprint: <64 hex digits>' line"
  fi

  run_captured provisioner-add "$netns" "$IIDCA_BIN" provisioner add "$name" "$@"
  require_status provisioner-add 0 "iidca provisioner add \"$name\" $*"

  echo "  \$ iidca serve --password-file $WORK/pw &"
  start_background "$netns" "$CAPTURE_DIR/serve.log" "$IIDCA_BIN" serve \
    --password-file "$WORK/pw"
  SERVE_PID=$STARTED_PID
  if ! wait_for_health "$netns" "$SERVE_PID" "$port" "$IIDCA_PATH/certs/root_ca.crt"; then
    sed 's/^/  | /' "$CAPTURE_DIR/serve.log"
    abort_test "iidca serve responds to GET /health on 127.0.0.1:$port"
  fi
  pass "iidca serve responds to GET /health on 127.0.0.1:$port"

  run_captured bootstrap "$netns" "$IIDCA_BIN" bootstrap --ca-url "https://127.0.0.1:$port" \
    --fingerprint "$ROOT_FINGERPRINT"
  require_status bootstrap 0 "iidca bootstrap with init's fingerprint"
}

# start_azure_emulator NETNS LISTEN TENANT ROOTS_OUT LOG [OPTIONS...]: starts the Azure metadata
# emulator in namespace NETNS (empty for none) listening on LISTEN for tenant TENANT, writing the
# test roots of its attested documents to ROOTS_OUT and its log to LOG. More emulator options
# may follow. Waits until it listens, then stores its VM's name, id and subscription in
# AZURE_VM_NAME, AZURE_VM_ID and AZURE_SUBSCRIPTION, and its process id in EMULATOR_PID.
start_azure_emulator() {
  local netns=$1 listen=$2 tenant=$3 roots_out=$4 log=$5 line
  shift 5
  start_background "$netns" "$log" "$EMULATOR_BIN" azure --listen "$listen" --tenant "$tenant" \
    --roots-out "$roots_out" "$@"
  EMULATOR_PID=$STARTED_PID
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    line=$(grep -m 1 '^iidca-emulator: Azure metadata service on ' "$log" || true)
    # shellcheck disable=SC2034 # the sourcing script reads the three AZURE_ variables
    if [[ -n $line && -s $roots_out ]]; then
      AZURE_SUBSCRIPTION=$(sed -n 's/.*, subscription \([0-9a-f-]*\),.*/\1/p' <<<"$line")
      AZURE_VM_NAME=$(sed -n 's/.*, vm \([^ ,]*\), vmId .*/\1/p' <<<"$line")
      AZURE_VM_ID=$(sed -n 's/.*, vmId \([0-9a-f-]*\)).*/\1/p' <<<"$line")
      return 0
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "the Azure metadata emulator exited before listening; its log:" >&2
      sed 's/^/  | /' "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "the Azure metadata emulator did not listen on $listen within ${START_TIMEOUT}s" >&2
  return 1
}
