# Bakes the iidca package, the CA's root and the enrollment units into an image, then removes
# the build VM's identity. Build one cloud with, for example:
#   packer build -only=amazon-ebs.debian -var-file=iidca.pkrvars.hcl packer/

build {
  sources = [
    "source.amazon-ebs.debian",
    "source.googlecompute.debian",
    "source.azure-arm.debian",
  ]

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
