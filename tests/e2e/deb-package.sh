#!/usr/bin/env bash
# Checks the Debian package cli/target/iidca_<version>_all.deb that the Maven build produces:
# its control fields, its file list and modes, that it has no conffiles, that postinst and
# postrm call systemctl only when systemd runs, that prerm stops (with systemd) and disables the
# instances of the template units on remove, and that the launcher extracted from it runs.
# Runs lintian on it when lintian is installed. With IIDCA_E2E_INSTALL_DEB=1 or CI=true, and as
# root, it also installs the package on this machine with apt-get, runs `iidca version` and
# removes the package again; it changes the host, so that part is opt-in.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

UNITS=(iidca-enroll@.service iidca-renew@.service iidca-renew@.timer)
DEPENDS="openjdk-17-jre-headless | java17-runtime-headless"

if ! command -v dpkg-deb >/dev/null; then
  skip_test "dpkg-deb not found (Debian package dpkg), so the build makes no .deb"
fi

# The Maven version is the parent's version in cli/pom.xml; build-deb.sh maps -SNAPSHOT and
# other hyphens to "~".
MAVEN_VERSION=$(sed -n '/<parent>/,/<\/parent>/s|.*<version>\(.*\)</version>.*|\1|p' \
  "$IIDCA_ROOT/cli/pom.xml")
DEB_VERSION=$(sed -e 's/-SNAPSHOT$/~snapshot/' -e 's/-/~/g' <<<"$MAVEN_VERSION")
DEB=$IIDCA_ROOT/cli/target/iidca_${DEB_VERSION}_all.deb
TARBALL=$IIDCA_ROOT/cli/target/iidca-$MAVEN_VERSION.tar.gz
if [[ ! -f $DEB || ! -f $TARBALL ]]; then
  echo "Building the packages: mvn -B -q package -DskipTests"
  (cd "$IIDCA_ROOT" && mvn -B -q package -DskipTests)
fi
[[ -f $DEB ]] || abort_test "the build produced $DEB"
pass "the build produced $(basename "$DEB") for Maven version $MAVEN_VERSION"

make_temp_dir WORK
echo "Work directory $WORK"

# ---- The release tarball ----
tar -tzvf "$TARBALL" >"$WORK/tarball.list"
top=iidca-$MAVEN_VERSION
tarball_paths=("$top/bin/iidca" "$top/systemd/iidca-renew@.timer"
  "$top/lib/iidca-cli-$MAVEN_VERSION.jar")
for path in "${tarball_paths[@]}"; do
  if awk '{ print $6 }' "$WORK/tarball.list" | grep -qxF "$path"; then
    pass "tarball contains $path"
  else
    fail "tarball contains $path: not in $(basename "$TARBALL")"
  fi
done
expect_equal "$(awk -v p="$top/bin/iidca" '$6 == p { print $1 }' "$WORK/tarball.list")" \
  "-rwxr-xr-x" "tarball's launcher has mode 0755"

# ---- Control fields ----
if ! dpkg-deb --info "$DEB" >/dev/null 2>"$WORK/info.err"; then
  sed 's/^/  | /' "$WORK/info.err"
  abort_test "dpkg-deb --info reads $(basename "$DEB")"
fi
pass "dpkg-deb --info reads $(basename "$DEB")"
field() {
  dpkg-deb -f "$DEB" "$1"
}
expect_equal "$(field Package)" iidca "Package is iidca"
expect_equal "$(field Version)" "$DEB_VERSION" "Version is $DEB_VERSION"
expect_equal "$(field Architecture)" all "Architecture is all"
expect_equal "$(field Depends)" "$DEPENDS" "Depends is '$DEPENDS'"
if [[ $(field Installed-Size) =~ ^[0-9]+$ ]]; then
  pass "Installed-Size is a number of KiB ($(field Installed-Size))"
else
  fail "Installed-Size is a number: got '$(field Installed-Size)'"
fi

mkdir "$WORK/control"
dpkg-deb -e "$DEB" "$WORK/control"
expect_equal "$(list_directory "$WORK/control")" "control md5sums postinst postrm prerm" \
  "control archive contains control, md5sums, postinst, postrm and prerm (no conffiles)"

# ---- Files ----
# dpkg-deb -c prints mode, owner/group, size, date, time and path.
dpkg-deb -c "$DEB" >"$WORK/contents"
expect_equal "$(awk '$2 != "root/root"' "$WORK/contents")" "" "every file is owned by root/root"

ROOT=$WORK/root
dpkg-deb -x "$DEB" "$ROOT"
expect_equal "$(list_directory "$ROOT")" "lib usr" "package installs only under /lib and /usr"
expect_equal "$(stat -c %a "$ROOT/usr/share/iidca/bin/iidca")" 755 \
  "/usr/share/iidca/bin/iidca has mode 0755"
expect_equal "$(readlink "$ROOT/usr/bin/iidca")" ../share/iidca/bin/iidca \
  "/usr/bin/iidca links to ../share/iidca/bin/iidca"
if [[ -f $ROOT/usr/share/iidca/lib/iidca-cli-$MAVEN_VERSION.jar ]]; then
  pass "/usr/share/iidca/lib contains iidca-cli-$MAVEN_VERSION.jar"
else
  fail "/usr/share/iidca/lib contains iidca-cli-$MAVEN_VERSION.jar: not found"
fi
expect_equal "$(find "$ROOT/usr/share/iidca/lib" -type f ! -name '*.jar' | wc -l)" 0 \
  "/usr/share/iidca/lib contains only jars"
# The build removes the signatures of Bouncy Castle's and ACCP's jars (docs/operator.md).
signed_jars=
for jar in "$ROOT"/usr/share/iidca/lib/*.jar; do
  if unzip -Z1 "$jar" | grep -qiE '^META-INF/[^/]+\.(SF|RSA|DSA|EC)$'; then
    signed_jars+=" $(basename "$jar")"
  fi
done
expect_equal "$signed_jars" "" "no jar in /usr/share/iidca/lib has a signature file"
for unit in "${UNITS[@]}"; do
  if cmp -s "$ROOT/lib/systemd/system/$unit" "$IIDCA_ROOT/cli/src/main/dist/systemd/$unit"; then
    pass "/lib/systemd/system/$unit is the shipped unit"
  else
    fail "/lib/systemd/system/$unit is the shipped unit: missing or different"
  fi
done
if (cd "$ROOT" && md5sum --quiet -c "$WORK/control/md5sums") >"$WORK/md5sums.out" 2>&1; then
  pass "md5sums match the extracted files"
else
  fail "md5sums match the extracted files: $(head -n 5 "$WORK/md5sums.out")"
fi

# ---- The extracted launcher, run through the /usr/bin link ----
CAPTURE_DIR=$WORK/logs
mkdir "$CAPTURE_DIR"
run_captured help "" "$ROOT/usr/bin/iidca" --help
expect_status help 0 "extracted /usr/bin/iidca --help"
expect_captured help out "Usage: iidca COMMAND" "extracted /usr/bin/iidca --help prints the usage"
run_captured version "" "$ROOT/usr/bin/iidca" version
expect_status version 0 "extracted /usr/bin/iidca version"
expect_equal "$(cat "$CAPTURE_DIR/version.out")" "iidca $MAVEN_VERSION" \
  "extracted /usr/bin/iidca version prints iidca $MAVEN_VERSION"

# ---- Maintainer scripts ----
# A systemctl stand-in on PATH records its arguments. For list-units it prints one loaded
# instance that is not enabled, with the status mark that systemctl puts before a failed unit.
# The scripts must call it only when /run/systemd/system exists, which a private tmpfs over /run
# controls without touching the host. Another tmpfs over /etc/systemd/system contains the
# links of the enabled instances.
mkdir "$WORK/fakebin"
cat >"$WORK/fakebin/systemctl" <<STUB
#!/bin/sh
echo "systemctl \$*" >>"$WORK/systemctl.calls"
if [ "\$1" = list-units ]; then
  printf '\342\227\217 %s\n' "iidca-renew@db.internal.service loaded failed failed Renew"
fi
STUB
chmod 0755 "$WORK/fakebin/systemctl"

# run_maintainer_script SCRIPT ARGUMENT SYSTEMD(0|1) [LINKS(0|1)]: prints the recorded
# systemctl calls. With LINKS=1, iidca-renew@web.internal.timer and
# iidca-enroll@web.internal.service are enabled.
run_maintainer_script() {
  local script=$1 argument=$2 systemd=$3 links=${4:-0}
  : >"$WORK/systemctl.calls"
  # shellcheck disable=SC2016 # the inner script expands its own positional parameters
  unshare --mount sh -c '
    mount -t tmpfs tmpfs /run
    if [ "$3" = 1 ]; then mkdir -p /run/systemd/system; fi
    mount -t tmpfs tmpfs /etc/systemd/system
    if [ "$5" = 1 ]; then
      mkdir /etc/systemd/system/timers.target.wants /etc/systemd/system/multi-user.target.wants
      ln -s /lib/systemd/system/iidca-renew@.timer \
        /etc/systemd/system/timers.target.wants/iidca-renew@web.internal.timer
      ln -s /lib/systemd/system/iidca-enroll@.service \
        /etc/systemd/system/multi-user.target.wants/iidca-enroll@web.internal.service
    fi
    PATH=$4:$PATH sh "$1" "$2"
  ' sh "$WORK/control/$script" "$argument" "$systemd" "$WORK/fakebin" "$links"
  cat "$WORK/systemctl.calls"
}

if ((EUID == 0)) && command -v unshare >/dev/null; then
  expect_equal "$(run_maintainer_script postinst configure 1)" "systemctl daemon-reload" \
    "postinst configure runs systemctl daemon-reload when systemd runs"
  expect_equal "$(run_maintainer_script postinst configure 0)" "" \
    "postinst configure does not call systemctl without /run/systemd/system"
  expect_equal "$(run_maintainer_script postrm remove 1)" "systemctl daemon-reload" \
    "postrm remove runs systemctl daemon-reload when systemd runs"
  expect_equal "$(run_maintainer_script postrm remove 0)" "" \
    "postrm remove does not call systemctl without /run/systemd/system"

  enabled="iidca-enroll@web.internal.service iidca-renew@web.internal.timer"
  loaded="iidca-enroll@web.internal.service iidca-renew@db.internal.service"
  loaded+=" iidca-renew@web.internal.timer"
  expect_equal "$(run_maintainer_script prerm remove 1 1)" "$(printf '%s\n' \
    "systemctl list-units --all --plain --no-legend iidca-enroll@* iidca-renew@*" \
    "systemctl stop $loaded" "systemctl disable $loaded")" \
    "prerm remove stops and disables the enabled and loaded instances when systemd runs"
  expect_equal "$(run_maintainer_script prerm remove 0 1)" "systemctl disable $enabled" \
    "prerm remove only disables the enabled instances without /run/systemd/system"
  expect_equal "$(run_maintainer_script prerm remove 0 0)" "" \
    "prerm remove does not call systemctl when no instance is enabled"
  expect_equal "$(run_maintainer_script prerm upgrade 1 1)" "" \
    "prerm upgrade leaves the instances running and enabled"
else
  echo "SKIP: maintainer scripts under a private /run need root and unshare"
fi

# ---- lintian, only when it is already installed ----
if command -v lintian >/dev/null; then
  lintian_rc=0
  lintian --fail-on error "$DEB" >"$WORK/lintian.out" 2>&1 || lintian_rc=$?
  if ((lintian_rc == 0)); then
    pass "lintian reports no errors"
  else
    fail "lintian reports errors (exit $lintian_rc)"
  fi
  sed 's/^/  | /' "$WORK/lintian.out"
else
  echo "SKIP: lintian is not installed (Debian package lintian)"
fi

# ---- Install and remove on this machine, opt-in ----
if [[ ${IIDCA_E2E_INSTALL_DEB:-0} != 1 && ${CI:-} != true ]]; then
  echo "SKIP: apt-get install and remove on this machine:" \
    "set IIDCA_E2E_INSTALL_DEB=1 (or CI=true) to run them"
elif ((EUID != 0)); then
  echo "SKIP: apt-get install and remove on this machine need root"
elif dpkg-query -W -f='${db:Status-Status}' iidca 2>/dev/null | grep -qx installed; then
  fail "iidca is already installed on this machine; remove it before the install check"
else
  export DEBIAN_FRONTEND=noninteractive
  run_captured apt-install "" apt-get install -y -o DPkg::Lock::Timeout=600 "$DEB"
  expect_status apt-install 0 "apt-get install -y $(basename "$DEB")"
  run_captured installed-version "" /usr/bin/iidca version
  expect_status installed-version 0 "installed /usr/bin/iidca version"
  expect_equal "$(cat "$CAPTURE_DIR/installed-version.out")" "iidca $MAVEN_VERSION" \
    "installed iidca version prints iidca $MAVEN_VERSION"
  run_captured apt-remove "" apt-get remove -y -o DPkg::Lock::Timeout=600 iidca
  expect_status apt-remove 0 "apt-get remove -y iidca"
  for path in /usr/share/iidca /usr/bin/iidca /lib/systemd/system/iidca-renew@.timer; do
    if [[ -e $path || -L $path ]]; then
      fail "$path is gone after apt-get remove: it still exists"
    else
      pass "$path is gone after apt-get remove"
    fi
  done
fi

finish_test
