variable "cluster_name" {
  description = "Name of the cluster; resources are named and tagged after it."
  type        = string
}

variable "node_count" {
  description = "Number of nodes (at least K+M of ec)."
  type        = number
  default     = 4

  validation {
    condition     = var.node_count >= 1 && floor(var.node_count) == var.node_count
    error_message = "node_count: a whole number, at least 1."
  }
}

variable "instance_type" {
  description = "An instance type with local NVMe instance store, e.g. i4i.2xlarge or i3en.6xlarge: every instance store disk becomes a drive."
  type        = string
  default     = "i4i.2xlarge"
}

variable "ami_id" {
  description = "Image of the nodes (Debian 12 or Ubuntu 22.04+, with systemd)."
  type        = string
}

variable "ansible_user" {
  description = "The image's login user (admin for Debian, ubuntu for Ubuntu)."
  type        = string
  default     = "admin"
}

variable "key_name" {
  description = "EC2 key pair Ansible logs in with."
  type        = string
}

variable "availability_zones" {
  description = "Zones the nodes are spread over (one subnet each). A rack-spread placement group holds at most 7 instances per zone."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) > 0
    error_message = "availability_zones: at least one."
  }
}

variable "vpc_cidr" {
  description = "Address range of the cluster's VPC; each zone gets a /24 of it."
  type        = string
  default     = "10.42.0.0/16"
}

variable "public_ips" {
  description = "Give nodes public addresses (Ansible connects to them); false: Ansible reaches the private addresses (VPN, bastion)."
  type        = bool
  default     = true
}

variable "s3_allowed_cidrs" {
  description = "Networks allowed to reach the S3 port."
  type        = list(string)
  default     = []
}

variable "ssh_allowed_cidrs" {
  description = "Networks allowed to reach SSH (Ansible)."
  type        = list(string)
  default     = []
}

variable "root_volume_size" {
  description = "Root volume size, GiB (binaries, logs; data lives on the instance store)."
  type        = number
  default     = 30
}

variable "ec" {
  description = "Erasure coding data+parity, e.g. 4+2."
  type        = string
  default     = "4+2"
}

variable "pg_count" {
  description = "Placement groups, chosen when the cluster forms."
  type        = number
  default     = 256
}

variable "voters" {
  description = "Raft voters the leader keeps."
  type        = number
  default     = 5
}

variable "strata_region" {
  description = "Region name Strata reports to S3 clients."
  type        = string
  default     = "us-east-1"
}

variable "domains" {
  description = "Domains for virtual-host style requests."
  type        = list(string)
  default     = []
}

variable "group_vars" {
  description = "More inventory variables for group strata (e.g. strata_release_archive)."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
