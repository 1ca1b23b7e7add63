variable "cluster_name" {
  description = "Name of the cluster; resources are named after it."
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

variable "flavor_name" {
  description = "Flavor of the nodes."
  type        = string
}

variable "image_name" {
  description = "Image of the nodes (Debian 12 or Ubuntu 22.04+, with systemd)."
  type        = string
}

variable "ansible_user" {
  description = "The image's login user (debian, ubuntu, ...)."
  type        = string
  default     = "debian"
}

variable "key_pair" {
  description = "Key pair Ansible logs in with."
  type        = string
}

variable "subnet_cidr" {
  description = "Address range of the cluster's network."
  type        = string
  default     = "10.43.0.0/24"
}

variable "dns_nameservers" {
  description = "DNS servers of the subnet."
  type        = list(string)
  default     = []
}

variable "external_network_id" {
  description = "External network for the router and the floating IPs; null: no router and no floating IP (an existing route reaches the nodes)."
  type        = string
  default     = null
}

variable "floating_ip_pool" {
  description = "Pool of floating IPs Ansible connects to (name of the external network); null: Ansible reaches the private addresses."
  type        = string
  default     = null
}

variable "volumes_per_node" {
  description = "Cinder volumes attached to each node as drives; 0 uses the flavor's local disks (local_disk_devices) instead."
  type        = number
  default     = 0

  validation {
    condition     = var.volumes_per_node >= 0 && var.volumes_per_node <= 24 && floor(var.volumes_per_node) == var.volumes_per_node
    error_message = "volumes_per_node: 0 to 24."
  }
}

variable "volume_size" {
  description = "Size of each volume, GiB."
  type        = number
  default     = 1000
}

variable "volume_type" {
  description = "Cinder volume type (null: the cloud's default)."
  type        = string
  default     = null
}

variable "local_disk_devices" {
  description = "Block devices of the flavor's local (ephemeral) disks used as drives when volumes_per_node is 0."
  type        = list(string)
  default     = ["/dev/vdb"]
}

variable "server_group_policy" {
  description = "Placement of the nodes on hypervisors: anti-affinity (each on its own, or the boot fails) or soft-anti-affinity (spread as far as the cloud can)."
  type        = string
  default     = "soft-anti-affinity"

  validation {
    condition     = contains(["anti-affinity", "soft-anti-affinity"], var.server_group_policy)
    error_message = "server_group_policy: anti-affinity or soft-anti-affinity."
  }
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
