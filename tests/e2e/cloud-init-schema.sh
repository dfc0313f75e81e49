#!/usr/bin/env bash
# Checks the user data in cloud-init/*.yaml without booting anything: each file is valid
# cloud-config for `cloud-init schema`, contains no private key, and its shell scripts in
# write_files pass shellcheck. For aws.yaml it also runs enroll.sh on settings it must reject,
# which it does before it calls iidca, and it checks that gcp.yaml and azure.yaml are what
# cloud-init/make-variants writes from aws.yaml. Needs cloud-init (for its schema and Debian's
# python3-yaml) and shellcheck, no root; reports SKIP without cloud-init.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

# Debian's interpreter, which has cloud-init's yaml module; a python3 first on PATH may not.
PYTHON=/usr/bin/python3

if ! command -v cloud-init >/dev/null; then
  skip_test "cloud-init not found (Debian package cloud-init)"
fi
make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
mkdir "$CAPTURE_DIR"

# extract_write_files YAML DIRECTORY: writes each write_files entry of YAML to DIRECTORY under
# its path, and prints the paths.
extract_write_files() {
  "$PYTHON" - "$1" "$2" <<'PY'
import os
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as source:
    config = yaml.safe_load(source)
for entry in config.get("write_files", []):
    target = os.path.join(sys.argv[2], entry["path"].lstrip("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8") as out:
        out.write(entry.get("content", ""))
    print(entry["path"])
PY
}

shopt -s nullglob
user_data_files=("$IIDCA_ROOT"/cloud-init/*.yaml)
shopt -u nullglob
((${#user_data_files[@]} > 0)) || abort_test "cloud-init/*.yaml exists"

for user_data in "${user_data_files[@]}"; do
  name=cloud-init/$(basename "$user_data")
  expect_equal "$(head -n 1 "$user_data")" "#cloud-config" "$name starts with #cloud-config"
  run_captured "schema-$(basename "$user_data")" "" cloud-init schema --config-file "$user_data"
  expect_status "schema-$(basename "$user_data")" 0 "cloud-init schema accepts $name"
  if grep -q 'PRIVATE KEY' "$user_data"; then
    fail "$name contains no private key: it contains 'PRIVATE KEY'"
  else
    pass "$name contains no private key"
  fi

  files=$WORK/files-$(basename "$user_data" .yaml)
  mkdir "$files"
  while IFS= read -r path; do
    if [[ $path == *.sh ]]; then
      if shellcheck "$files$path" >"$WORK/shellcheck.out" 2>&1; then
        pass "$name: $path passes shellcheck"
      else
        fail "$name: $path has shellcheck findings"
        sed 's/^/  | /' "$WORK/shellcheck.out"
      fi
    elif [[ $path == *.conf ]]; then
      if sh -n "$files$path" 2>"$WORK/syntax.out"; then
        pass "$name: $path is valid shell syntax"
      else
        fail "$name: $path is not valid shell syntax: $(cat "$WORK/syntax.out")"
      fi
    fi
  done < <(extract_write_files "$user_data" "$files")
done

# ---- gcp.yaml and azure.yaml are generated from aws.yaml and must not drift ----
mkdir "$WORK/variants"
"$IIDCA_ROOT/cloud-init/make-variants" "$WORK/variants"
for variant in gcp.yaml azure.yaml; do
  if cmp -s "$WORK/variants/$variant" "$IIDCA_ROOT/cloud-init/$variant"; then
    pass "cloud-init/$variant is what make-variants writes from aws.yaml"
  else
    fail "cloud-init/$variant differs from what make-variants writes: run cloud-init/make-variants"
    diff "$IIDCA_ROOT/cloud-init/$variant" "$WORK/variants/$variant" | sed 's/^/  | /' | head -20
  fi
done

# ---- enroll.sh rejects invalid settings with exit status 2, before it runs iidca ----
ENROLL=$WORK/files-aws/usr/local/lib/iidca/enroll.sh
SETTINGS=$WORK/files-aws/etc/iidca/enroll.conf
[[ -f $ENROLL && -f $SETTINGS ]] || abort_test "aws.yaml writes enroll.sh and enroll.conf"
VALID_FINGERPRINT=$(printf '%064d' 1 | tr 0 a)

# Each case: a description, a sed expression applied to the shipped settings (with a valid
# fingerprint, except in the first case), and the text that enroll.sh's message must contain.
short=${VALID_FINGERPRINT:1}
cases=(
  "placeholder fingerprint|s/^IIDCA_NAME=.*/IIDCA_NAME=a.example/|placeholder of zeros"
  "fingerprint of 63 digits|s/^IIDCA_FINGERPRINT=.*/IIDCA_FINGERPRINT=$short/|63 hex digits"
  "fingerprint not hex|s/^IIDCA_FINGERPRINT=.*/IIDCA_FINGERPRINT=${short}x/|is not hex"
  "empty CA URL|s/^IIDCA_CA_URL=.*/IIDCA_CA_URL=/|IIDCA_CA_URL is empty"
  "name with a slash|s#^IIDCA_NAME=.*#IIDCA_NAME=a/b#|has characters other than"
  "reload command with quotes|s/^IIDCA_RELOAD_COMMAND=.*/IIDCA_RELOAD_COMMAND='\"x\"'/|quotes"
  "delay not a number|s/^IIDCA_RETRY_DELAY=.*/IIDCA_RETRY_DELAY=5s/|is not a number"
  "provisioner with a quote|s/^IIDCA_PROVISIONER=.*/IIDCA_PROVISIONER='A\"B'/|must not contain"
  "CA URL with a backslash|s/^IIDCA_CA_URL=.*/IIDCA_CA_URL='https:\\\\a'/|must not contain"
)
for entry in "${cases[@]}"; do
  IFS='|' read -r description expression expected <<<"$entry"
  sed -e 's/^ *//' "$SETTINGS" >"$WORK/case.conf"
  if [[ $description != "placeholder fingerprint" ]]; then
    sed -i "s/^IIDCA_FINGERPRINT=.*/IIDCA_FINGERPRINT=$VALID_FINGERPRINT/" "$WORK/case.conf"
  fi
  sed -i -e "$expression" "$WORK/case.conf"
  run_captured enroll-invalid "" sh "$ENROLL" "$WORK/case.conf"
  expect_status enroll-invalid 2 "enroll.sh rejects settings: $description"
  expect_captured enroll-invalid err "$expected" \
    "enroll.sh's message for $description contains '$expected'"
done
run_captured enroll-missing "" sh "$ENROLL" "$WORK/missing.conf"
expect_status enroll-missing 2 "enroll.sh rejects a missing settings file"
expect_captured enroll-missing err "settings file $WORK/missing.conf not found" \
  "enroll.sh names the missing settings file"

# A package URL without curl: enroll.sh names the package to install. PATH contains only an
# empty directory, so neither curl nor iidca is found.
if [[ -x /usr/bin/iidca ]]; then
  echo "SKIP: enroll.sh without curl: /usr/bin/iidca is installed here, so no download runs"
else
  sed -e 's/^ *//' -e "s/^IIDCA_FINGERPRINT=.*/IIDCA_FINGERPRINT=$VALID_FINGERPRINT/" \
    -e 's|^IIDCA_PACKAGE_URL=.*|IIDCA_PACKAGE_URL=http://127.0.0.1:9/iidca.deb|' \
    -e "s/^IIDCA_PACKAGE_SHA256=.*/IIDCA_PACKAGE_SHA256=$VALID_FINGERPRINT/" \
    "$SETTINGS" >"$WORK/curl.conf"
  mkdir "$WORK/empty-path"
  run_captured enroll-no-curl "" env PATH="$WORK/empty-path" /bin/sh "$ENROLL" "$WORK/curl.conf"
  expect_status enroll-no-curl 1 "enroll.sh fails on a package URL without curl"
  expect_captured enroll-no-curl err "curl not found, but IIDCA_PACKAGE_URL needs it:" \
    "enroll.sh says that the package URL needs curl"
  expect_captured enroll-no-curl err "install the Debian package curl" \
    "enroll.sh names the package to install"
fi

# ---- make-variants' command line ----
run_captured variants-help "" "$IIDCA_ROOT/cloud-init/make-variants" --help
expect_status variants-help 0 "make-variants --help"
expect_captured variants-help out "Usage: cloud-init/make-variants [OUTPUT-DIRECTORY]" \
  "make-variants --help prints the usage"
if [[ -e ./--help || -e $IIDCA_ROOT/cloud-init/--help ]]; then
  fail "make-variants --help writes no file: a path named --help exists"
else
  pass "make-variants --help writes no file"
fi
run_captured variants-option "" "$IIDCA_ROOT/cloud-init/make-variants" --out "$WORK"
expect_status variants-option 2 "make-variants rejects an unknown option"
expect_captured variants-option err "unknown option '--out'" \
  "make-variants names the unknown option"
run_captured variants-missing "" "$IIDCA_ROOT/cloud-init/make-variants" "$WORK/missing"
expect_status variants-missing 2 "make-variants rejects a missing output directory"

finish_test
