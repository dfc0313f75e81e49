#!/usr/bin/env bash
# Checks the systemd units that the distribution ships in cli/target/iidca/systemd/:
# iidca-renew@.service, iidca-renew@.timer and iidca-enroll@.service. `systemd-analyze verify`
# must accept each without a single message, as it prints unknown keys and bad values but
# still exits 0 for them.
#
# verify also requires each ExecStart= binary to exist. The units name /usr/bin/iidca, where
# the Debian package installs the launcher. Rather than create that file on this machine or
# build a whole alternate root for --root= (which then needs systemd's own targets too), the
# test verifies copies of the units in a temporary directory with only that path rewritten to
# the launcher built in cli/target/iidca/bin. A separate check pins the shipped path.
# Runs on any machine with systemd-analyze and needs no root; reports SKIP without it.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

UNITS=(iidca-renew@.service iidca-renew@.timer iidca-enroll@.service)
SHIPPED_BIN=/usr/bin/iidca
UNIT_DIR=$IIDCA_ROOT/cli/target/iidca/systemd

if ! command -v systemd-analyze >/dev/null; then
  skip_test "systemd-analyze not found (Debian package systemd)"
fi

ensure_built
make_temp_dir WORK
echo "Work directory $WORK"

# The build copies the units beside the launcher.
for unit in "${UNITS[@]}"; do
  if [[ -f $UNIT_DIR/$unit ]]; then
    pass "$unit is in the distribution"
  else
    abort_test "$unit is in the distribution: $UNIT_DIR/$unit not found"
  fi
done

# Every ExecStart= starts the launcher where the package installs it.
for unit in "${UNITS[@]}"; do
  while IFS= read -r exec_line; do
    if [[ $exec_line == "ExecStart=$SHIPPED_BIN "* ]]; then
      pass "$unit runs $SHIPPED_BIN"
    else
      fail "$unit: '$exec_line' does not start with ExecStart=$SHIPPED_BIN"
    fi
  done < <(grep '^ExecStart=' "$UNIT_DIR/$unit" || true)
done

# The subcommands that the services run exist in the built launcher.
for command in renew certificate; do
  if "$IIDCA_BIN" "$command" --help >"$WORK/$command-help.out" 2>&1; then
    pass "iidca $command --help exits 0"
  else
    fail "iidca $command --help exits non-zero"
    sed 's/^/  | /' "$WORK/$command-help.out"
  fi
done

# verify_units DIRECTORY: runs systemd-analyze verify on the units in DIRECTORY. Stores its
# exit status in VERIFY_RC and its output in $WORK/verify.out.
verify_units() {
  local directory=$1 unit paths=()
  for unit in "${UNITS[@]}"; do
    paths+=("$directory/$unit")
  done
  VERIFY_RC=0
  systemd-analyze verify --man=no "${paths[@]}" >"$WORK/verify.out" 2>&1 || VERIFY_RC=$?
}

mkdir "$WORK/units"
for unit in "${UNITS[@]}"; do
  sed "s#^ExecStart=$SHIPPED_BIN #ExecStart=$IIDCA_BIN #" "$UNIT_DIR/$unit" \
    >"$WORK/units/$unit"
done
verify_units "$WORK/units"
if ((VERIFY_RC == 0)) && [[ ! -s $WORK/verify.out ]]; then
  pass "systemd-analyze verify accepts ${UNITS[*]} without messages"
else
  fail "systemd-analyze verify exits $VERIFY_RC on ${UNITS[*]}"
  sed 's/^/  | /' "$WORK/verify.out"
fi

# The check above can fail: a unit with an unknown key and a missing binary is reported.
mkdir "$WORK/broken"
cp "$WORK/units/"* "$WORK/broken/"
sed -i -e 's#^ExecStart=[^ ]*#ExecStart=/nonexistent/iidca#' \
  -e 's#^\[Service\]#[Service]\nRestartStep=3#' "$WORK/broken/iidca-renew@.service"
verify_units "$WORK/broken"
if grep -q "Unknown key 'RestartStep'" "$WORK/verify.out" &&
  grep -q "/nonexistent/iidca" "$WORK/verify.out"; then
  pass "systemd-analyze verify reports an unknown key and a missing binary"
else
  fail "systemd-analyze verify does not report the broken copy (exit $VERIFY_RC)"
  sed 's/^/  | /' "$WORK/verify.out"
fi

finish_test
