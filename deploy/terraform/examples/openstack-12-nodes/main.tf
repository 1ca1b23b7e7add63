# A 12-node Strata cluster on OpenStack, EC 8+4 (survives any 4 nodes),
# four 2 TB Cinder volumes per node. Then:
#   terraform init && terraform apply
#   cd ../../../ansible && ansible-playbook -i ../terraform/examples/openstack-12-nodes/inventory.yml site.yml
terraform {
  required_version = ">= 1.9"
  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = ">= 2.0"
    }
    local = {
      source  = "hashicorp/local"
      version = ">= 2.4"
    }
  }
}

# Credentials come from the usual OS_* variables (openrc, clouds.yaml).
provider "openstack" {}

variable "flavor_name" {
  description = "Flavor of the nodes, e.g. 16 vCPUs, 64 GB."
  type        = string
}

variable "image_name" {
  description = "Debian 12 image."
  type        = string
  default     = "debian-12"
}

variable "key_pair" {
  description = "Key pair for SSH."
  type        = string
}

variable "external_network_id" {
  description = "External network of the router."
  type        = string
}

variable "floating_ip_pool" {
  description = "Floating IP pool (external network name)."
  type        = string
}

variable "admin_cidrs" {
  description = "Networks of the operators: SSH and S3."
  type        = list(string)
}

module "strata" {
  source = "../../modules/openstack"

  cluster_name        = "strata-research"
  node_count          = 12
  ec                  = "8+4"
  pg_count            = 1024
  flavor_name         = var.flavor_name
  image_name          = var.image_name
  key_pair            = var.key_pair
  external_network_id = var.external_network_id
  floating_ip_pool    = var.floating_ip_pool
  volumes_per_node    = 4
  volume_size         = 2000
  s3_allowed_cidrs    = var.admin_cidrs
  ssh_allowed_cidrs   = var.admin_cidrs
  group_vars = {
    strata_release_archive = "strata-linux-amd64.tar.gz"
  }
}

resource "local_file" "inventory" {
  filename        = "${path.root}/inventory.yml"
  content         = module.strata.inventory
  file_permission = "0644"
}

output "s3_endpoints" {
  value = module.strata.s3_endpoints
}
