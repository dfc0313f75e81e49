# One source per cloud, each starting from Debian 12. bake.sh does the same on all of them:
# `iidca certificate` learns the provisioner's type from the CA, so one enrollment unit serves
# AWS, GCP and Azure instances. Set var.provisioner to the CA's provisioner for the cloud.

source "amazon-ebs" "debian" {
  region        = var.aws_region
  instance_type = var.aws_instance_type
  ssh_username  = "admin"
  ami_name      = "${var.image_name}-{{timestamp}}"
  source_ami_filter {
    filters = {
      name                = "debian-12-amd64-*"
      architecture        = "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    # compact() drops an empty owner, so the builder rejects the filter. Without an owner, an
    # AMI of any account with a matching name could be chosen.
    owners      = compact([var.aws_source_ami_owner])
    most_recent = true
  }
  tags = {
    Name          = var.image_name
    iidca_ca_url  = var.ca_url
    iidca_subject = var.cert_name
  }
}

source "googlecompute" "debian" {
  project_id              = var.gcp_project_id
  zone                    = var.gcp_zone
  source_image_family     = "debian-12"
  source_image_project_id = ["debian-cloud"]
  ssh_username            = "packer"
  image_name              = "${var.image_name}-{{timestamp}}"
  image_family            = var.image_name
}

source "azure-arm" "debian" {
  subscription_id                   = var.azure_subscription_id
  use_azure_cli_auth                = true
  location                          = var.azure_location
  vm_size                           = "Standard_B2s"
  os_type                           = "Linux"
  image_publisher                   = "Debian"
  image_offer                       = "debian-12"
  image_sku                         = "12"
  managed_image_name                = "${var.image_name}-{{timestamp}}"
  managed_image_resource_group_name = var.azure_resource_group
}
