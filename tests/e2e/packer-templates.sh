#!/usr/bin/env bash
# Checks the Packer templates in packer/ offline with Packer 1.6.6: `packer fmt -check`, `packer
# validate` of each source (amazon-ebs, googlecompute, azure-arm) with valid variables, that the
# variable validation rules reject invalid values with their message, and shellcheck on
# packer/scripts/bake.sh. Cloud builders validate without credentials; nothing is built.
# Reports SKIP without packer.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

# Without it, Packer queries checkpoint.hashicorp.com for newer versions.
export CHECKPOINT_DISABLE=1
TEMPLATES=$IIDCA_ROOT/packer
SOURCES=(amazon-ebs.debian googlecompute.debian azure-arm.debian)

if ! command -v packer >/dev/null; then
  skip_test "packer not found (Debian package packer)"
fi
make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
mkdir "$CAPTURE_DIR"
echo "$(packer version | head -n 1), work directory $WORK"

run_captured fmt "" packer fmt -check "$TEMPLATES"
expect_status fmt 0 "packer fmt -check packer/ finds nothing to reformat"
run_captured syntax "" packer validate -syntax-only "$TEMPLATES"
expect_status syntax 0 "packer validate -syntax-only packer/"

if shellcheck "$TEMPLATES/scripts/bake.sh" >"$WORK/shellcheck.out" 2>&1; then
  pass "packer/scripts/bake.sh passes shellcheck"
else
  fail "packer/scripts/bake.sh has shellcheck findings"
  sed 's/^/  | /' "$WORK/shellcheck.out"
fi

# write_variables FILE [NAME=VALUE...]: writes a variables file with valid values, each
# overridden by a NAME=VALUE argument. Backslashes and double quotes in a value are escaped as
# HCL strings require.
write_variables() {
  local file=$1 assignment value
  shift
  declare -A values=(
    [ca_url]=https://127.0.0.1:8443
    [ca_fingerprint]=$(printf '%064d' 0 | tr 0 c)
    [cert_name]=web.internal
    [package_file]=$WORK/iidca_0.1.0_all.deb
    [aws_source_ami_owner]=123456789012
    [gcp_project_id]=iidca-test
    [azure_subscription_id]=00000000-0000-0000-0000-000000000000
    [azure_resource_group]=iidca-test
  )
  for assignment in "$@"; do
    values[${assignment%%=*}]=${assignment#*=}
  done
  : >"$file"
  for name in "${!values[@]}"; do
    value=${values[$name]//\\/\\\\}
    printf '%s = "%s"\n' "$name" "${value//\"/\\\"}" >>"$file"
  done
}

write_variables "$WORK/valid.pkrvars.hcl"
run_captured validate "" packer validate -var-file="$WORK/valid.pkrvars.hcl" "$TEMPLATES"
expect_status validate 0 "packer validate accepts all sources with valid variables"
for source in "${SOURCES[@]}"; do
  run_captured "validate-$source" "" packer validate -only="$source" \
    -var-file="$WORK/valid.pkrvars.hcl" "$TEMPLATES"
  expect_status "validate-$source" 0 "packer validate -only=$source"
done

run_captured inspect "" packer inspect "$TEMPLATES"
expect_status inspect 0 "packer inspect packer/"
for source in "${SOURCES[@]}"; do
  expect_captured inspect out "$source" "packer inspect lists source $source"
done
expect_captured inspect out "var.ca_fingerprint" "packer inspect lists var.ca_fingerprint"

# Each case: a description, an overriding NAME=VALUE, and the validation rule's message.
cases=(
  "CA URL over http|ca_url=http://127.0.0.1:8443|ca_url must start with https://"
  "fingerprint of 63 digits|ca_fingerprint=$(printf '%063d' 0)|ca_fingerprint must be 64 hex"
  "fingerprint not hex|ca_fingerprint=$(printf '%063d' 0)g|ca_fingerprint must be 64 hex"
  "name with a slash|cert_name=web/internal|cert_name must be non-empty: letters"
  "empty name|cert_name=|cert_name must be non-empty: letters"
  "package not a .deb|package_file=$WORK/iidca.tar.gz|package_file must be a .deb"
  "empty provisioner|provisioner=|provisioner must be non-empty"
  "provisioner with a double quote|provisioner=AWS \"IID\"|provisioner must not contain a double"
  "provisioner with a backslash|provisioner=AWS\\IID|provisioner must not contain a double"
  "enroll_args with a double quote|enroll_args=--san \"a b\"|enroll_args must not contain a"
  "AMI owner of 5 digits|aws_source_ami_owner=12345|aws_source_ami_owner must be a 12-digit"
  "AMI owner not a number|aws_source_ami_owner=debian|aws_source_ami_owner must be a 12-digit"
)
for entry in "${cases[@]}"; do
  IFS='|' read -r description assignment expected <<<"$entry"
  write_variables "$WORK/case.pkrvars.hcl" "$assignment"
  run_captured invalid "" packer validate -var-file="$WORK/case.pkrvars.hcl" "$TEMPLATES"
  expect_status invalid 1 "packer validate rejects variables: $description"
  # Packer 1.6.6 prints validation errors on stdout.
  expect_captured invalid out "$expected" "the error for $description says '$expected'"
done

# An empty AMI owner is valid for the other sources, but the amazon-ebs source's AMI filter then
# names no owner, which its builder rejects.
write_variables "$WORK/no-owner.pkrvars.hcl" aws_source_ami_owner=
run_captured no-owner-aws "" packer validate -only=amazon-ebs.debian \
  -var-file="$WORK/no-owner.pkrvars.hcl" "$TEMPLATES"
expect_status no-owner-aws 1 "packer validate -only=amazon-ebs.debian rejects an empty AMI owner"
expect_captured no-owner-aws out "source AMI filter must declare an owner" \
  "the error for an empty AMI owner says that the AMI filter needs an owner"
for source in googlecompute.debian azure-arm.debian; do
  run_captured "no-owner-$source" "" packer validate -only="$source" \
    -var-file="$WORK/no-owner.pkrvars.hcl" "$TEMPLATES"
  expect_status "no-owner-$source" 0 "packer validate -only=$source needs no AMI owner"
done
for owner in amazon self; do
  write_variables "$WORK/alias-owner.pkrvars.hcl" "aws_source_ami_owner=$owner"
  run_captured alias-owner "" packer validate -only=amazon-ebs.debian \
    -var-file="$WORK/alias-owner.pkrvars.hcl" "$TEMPLATES"
  expect_status alias-owner 0 "packer validate accepts the AMI owner alias $owner"
done

finish_test
