# Variables of the iidca image templates. The CA and package settings apply to every cloud, the
# others only to their source. Pass them with -var or a *.pkrvars.hcl file. Packer 1.6.6 has no
# regex() function, so the validation rules use regex_replace() and substr().

# The build VM must reach the CA, because bake.sh runs iidca bootstrap.
variable "ca_url" {
  type        = string
  description = "The CA's URL, such as https://ca.internal.example.com."
  validation {
    condition     = substr(var.ca_url, 0, 8) == "https://"
    error_message = "The ca_url must start with https://."
  }
}

variable "ca_fingerprint" {
  type        = string
  description = "The SHA-256 fingerprint of the CA's root certificate, as iidca init prints it."
  validation {
    condition = (length(var.ca_fingerprint) == 64
    && regex_replace(var.ca_fingerprint, "[0-9a-fA-F]", "") == "")
    error_message = "The ca_fingerprint must be 64 hex digits."
  }
}

# bake.sh writes the provisioner and enroll_args in double quotes into a systemd environment
# file, so neither may contain a double quote or a backslash.
variable "provisioner" {
  type        = string
  default     = "AWS IID Provisioner"
  description = "The CA's provisioner that instances of the image enroll with."
  validation {
    condition     = length(var.provisioner) > 0
    error_message = "The provisioner must be non-empty: the name of a provisioner of the CA."
  }
  validation {
    condition     = regex_replace(var.provisioner, "[\"\\\\]", "") == var.provisioner
    error_message = "The provisioner must not contain a double quote or a backslash."
  }
}

# The certificate's subject also names the units iidca-enroll@NAME.service and
# iidca-renew@NAME.timer and the files /etc/iidca/certs/NAME.crt and NAME.key.
variable "cert_name" {
  type        = string
  description = "The subject of each instance's certificate."
  validation {
    condition = (length(var.cert_name) > 0
    && regex_replace(var.cert_name, "[A-Za-z0-9._-]", "") == "")
    error_message = "The cert_name must be non-empty: letters, digits, dots, hyphens, underscores."
  }
}

variable "enroll_args" {
  type        = string
  default     = ""
  description = "More options for iidca certificate at first boot, such as \"--san api.internal\"."
  validation {
    condition     = regex_replace(var.enroll_args, "[\"\\\\]", "") == var.enroll_args
    error_message = "The enroll_args must not contain a double quote or a backslash."
  }
}

variable "package_file" {
  type        = string
  description = "The iidca .deb to install, such as cli/target/iidca_0.1.0~snapshot_all.deb."
  validation {
    condition     = regex_replace(var.package_file, "\\.deb$", "") != var.package_file
    error_message = "The package_file must be a .deb file."
  }
}

variable "image_name" {
  type        = string
  default     = "iidca-debian-12"
  description = "The prefix of the image's name; the build appends a timestamp."
}

variable "manifest_file" {
  type        = string
  default     = "packer-manifest.json"
  description = "Where the manifest post-processor writes the built images' ids."
}

# ---- Amazon EC2 ----

variable "aws_region" {
  type    = string
  default = "us-east-1"
}

variable "aws_instance_type" {
  type    = string
  default = "t3.small"
}

# Required for the amazon-ebs source. Debian lists the account that publishes its official
# AMIs on its cloud wiki. Empty is valid here so that the other sources build without it, and
# the amazon-ebs source then fails validation because its AMI filter names no owner.
variable "aws_source_ami_owner" {
  type        = string
  default     = ""
  description = "The AWS account id that publishes the Debian 12 AMIs to start from (amazon-ebs only)."
  validation {
    condition = (var.aws_source_ami_owner == ""
      || (length(var.aws_source_ami_owner) == 12
      && regex_replace(var.aws_source_ami_owner, "[0-9]", "") == "")
    || contains(["amazon", "aws-marketplace", "self"], var.aws_source_ami_owner))
    error_message = "The aws_source_ami_owner must be a 12-digit AWS account id, amazon, aws-marketplace or self."
  }
}

# ---- Google Compute Engine ----

variable "gcp_project_id" {
  type    = string
  default = ""
}

variable "gcp_zone" {
  type    = string
  default = "us-central1-a"
}

# ---- Microsoft Azure ----

variable "azure_subscription_id" {
  type    = string
  default = ""
}

variable "azure_resource_group" {
  type        = string
  default     = ""
  description = "The resource group that receives the managed image."
}

variable "azure_location" {
  type    = string
  default = "westeurope"
}
