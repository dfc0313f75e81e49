# Test-only build: the provisioners of packer/build.pkr.hcl, run by the null builder over SSH
# into an sshd that tests/e2e/packer-build.sh starts in a chroot of a Debian 12 root. The test
# copies this file, packer/variables.pkr.hcl and packer/scripts/bake.sh into one directory and
# builds that directory, so the variables, their validation and the bake script are the real
# ones. It also checks that the build block below matches packer/build.pkr.hcl from the first
# provisioner on. Never build it against a real machine: it logs in as root.

variable "ssh_port" {
  type        = number
  description = "The loopback TCP port of the test's sshd."
}

variable "ssh_private_key_file" {
  type        = string
  description = "The client key whose public key the test's sshd accepts for root."
}

source "null" "chroot" {
  ssh_host             = "127.0.0.1"
  ssh_port             = var.ssh_port
  ssh_username         = "root"
  ssh_private_key_file = var.ssh_private_key_file
}

build {
  sources = ["source.null.chroot"]

  provisioner "file" {
    source      = var.package_file
    destination = "/tmp/iidca.deb"
    # Checked when uploading, not by packer validate, so validating needs no build.
    generated = true
  }

  provisioner "shell" {
    script          = "${path.root}/scripts/bake.sh"
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    environment_vars = [
      "IIDCA_PACKAGE_FILE=/tmp/iidca.deb",
      "IIDCA_CA_URL=${var.ca_url}",
      "IIDCA_FINGERPRINT=${var.ca_fingerprint}",
      "IIDCA_PROVISIONER=${var.provisioner}",
      "IIDCA_NAME=${var.cert_name}",
      "IIDCA_ENROLL_ARGS=${var.enroll_args}",
    ]
  }

  post-processor "manifest" {
    output     = var.manifest_file
    strip_path = true
    custom_data = {
      ca_url         = var.ca_url
      ca_fingerprint = var.ca_fingerprint
      cert_name      = var.cert_name
    }
  }
}
