#!/bin/sh
# Bakes iidca into a machine image. Packer's shell provisioner runs it as root on the build VM,
# with the settings in the environment:
#   IIDCA_PACKAGE_FILE  the uploaded iidca .deb (default /tmp/iidca.deb)
#   IIDCA_CA_URL        the CA's URL; this VM must reach it for iidca bootstrap
#   IIDCA_FINGERPRINT   the SHA-256 fingerprint of the CA's root
#   IIDCA_PROVISIONER   the CA's provisioner for instances of the image
#   IIDCA_NAME          the certificate's subject and the units' instance name
#   IIDCA_ENROLL_ARGS   more options for iidca certificate (optional)
#   IIDCA_APT_UPDATE    0 skips apt-get update, where the package's dependencies are installed
# It installs the package, bootstraps /etc/iidca (the root certificate and defaults.yaml),
# writes /etc/iidca/enroll-NAME.env, enables iidca-enroll@NAME.service and
# iidca-renew@NAME.timer, and removes this VM's identity: cloud-init's instance state, the
# machine id and the SSH host keys. The image never contains a key or an instance certificate:
# each instance enrolls at its first boot.
set -eu

log() {
  echo "bake: $*" >&2
}
die() {
  log "$*"
  exit 1
}

: "${IIDCA_PACKAGE_FILE:=/tmp/iidca.deb}" "${IIDCA_ENROLL_ARGS:=}" "${IIDCA_APT_UPDATE:=1}"
for required in IIDCA_CA_URL IIDCA_FINGERPRINT IIDCA_PROVISIONER IIDCA_NAME; do
  eval "value=\${$required:-}"
  [ -n "$value" ] || die "$required is empty; set it in the Packer variables"
done
case $IIDCA_NAME in
  *[!A-Za-z0-9._-]*) die "IIDCA_NAME '$IIDCA_NAME' has characters other than letters, digits," \
    "'.', '-' and '_'" ;;
esac
case $IIDCA_PROVISIONER$IIDCA_ENROLL_ARGS in
  *\"* | *\\*) die "IIDCA_PROVISIONER and IIDCA_ENROLL_ARGS must not contain '\"' or '\\'" ;;
esac
[ "$(id -u)" -eq 0 ] || die "run as root (Packer's execute_command uses sudo)"
[ -f "$IIDCA_PACKAGE_FILE" ] || die "package $IIDCA_PACKAGE_FILE not found"

export DEBIAN_FRONTEND=noninteractive
log "installing $IIDCA_PACKAGE_FILE"
if [ "$IIDCA_APT_UPDATE" != 0 ]; then
  apt-get update -q
fi
apt-get install -y -q "$IIDCA_PACKAGE_FILE"
rm -f -- "$IIDCA_PACKAGE_FILE"

log "bootstrapping /etc/iidca from $IIDCA_CA_URL"
install -d -m 0755 /etc/iidca
IIDCA_PATH=/etc/iidca iidca bootstrap --ca-url "$IIDCA_CA_URL" --fingerprint "$IIDCA_FINGERPRINT"

# iidca-enroll@.service reads this file. systemd keeps the quoted name as one word.
umask 022
printf 'IIDCA_PROVISIONER="%s"\nIIDCA_ENROLL_ARGS=%s\n' "$IIDCA_PROVISIONER" \
  "$IIDCA_ENROLL_ARGS" >"/etc/iidca/enroll-$IIDCA_NAME.env"
systemctl enable "iidca-enroll@$IIDCA_NAME.service" "iidca-renew@$IIDCA_NAME.timer"

# Identity is per instance, so an image with a key or an instance certificate is rejected.
unexpected=$(find /etc/iidca -type f ! -path /etc/iidca/certs/root_ca.crt \
  ! -path /etc/iidca/config/defaults.yaml ! -path "/etc/iidca/enroll-$IIDCA_NAME.env" -print)
[ -z "$unexpected" ] ||
  die "/etc/iidca contains files that an image must not contain: $unexpected; remove them"

log "removing this VM's identity"
if command -v cloud-init >/dev/null 2>&1; then
  cloud-init clean --logs
fi
# An empty machine-id makes systemd generate a new one at the instance's first boot.
if [ -e /etc/machine-id ]; then
  : >/etc/machine-id
fi
if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
  rm -f /var/lib/dbus/machine-id
fi
rm -f /etc/ssh/ssh_host_*
apt-get clean
log "done: iidca-enroll@$IIDCA_NAME.service enrolls each instance at its first boot"
