# A 4-node Strata cluster on AWS, EC 2+2: i4i.2xlarge nodes (one 1875 GB
# NVMe instance store disk each) in two zones. Then:
#   terraform init && terraform apply
#   cd ../../../ansible && ansible-playbook -i ../terraform/examples/aws-4-nodes/inventory.yml site.yml
terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.30"
    }
    local = {
      source  = "hashicorp/local"
      version = ">= 2.4"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "ami_id" {
  description = "Debian 12 AMI of the region."
  type        = string
}

variable "key_name" {
  description = "EC2 key pair for SSH."
  type        = string
}

variable "admin_cidrs" {
  description = "Networks of the operators: SSH and S3."
  type        = list(string)
}

module "strata" {
  source = "../../modules/aws"

  cluster_name       = "strata-demo"
  node_count         = 4
  ec                 = "2+2"
  instance_type      = "i4i.2xlarge"
  ami_id             = var.ami_id
  key_name           = var.key_name
  availability_zones = ["${var.region}a", "${var.region}b"]
  s3_allowed_cidrs   = var.admin_cidrs
  ssh_allowed_cidrs  = var.admin_cidrs
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
