variable "cluster_name" {
  description = "Name of the cluster: written to the inventory; the cloud modules name their resources after it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name: 2 to 32 characters, lower-case letters, digits and '-', starting with a letter."
  }
}

variable "nodes" {
  description = <<-EOT
    The nodes, in order. name: inventory host and node id; address: where
    the other nodes and clients reach it (strata_advertise); ansible_host:
    where Ansible connects (default address); drives: folders, each with an
    optional block device that the role formats (XFS, only when blank) and
    mounts there; *_port: this node's ports when they differ from var.ports;
    vars: more host variables for the inventory.
  EOT
  type = list(object({
    name         = string
    address      = string
    ansible_host = optional(string)
    drives = list(object({
      path   = string
      device = optional(string, "")
    }))
    s3_port     = optional(number)
    rpc_port    = optional(number)
    gossip_port = optional(number)
    vars        = optional(map(string), {})
  }))

  validation {
    condition     = length(var.nodes) >= try(sum([for s in split("+", var.ec) : tonumber(s)]), 0)
    error_message = "nodes: EC ${var.ec} stripes every object over K+M = ${try(sum([for s in split("+", var.ec) : tonumber(s)]), "?")} nodes on distinct hosts, and there are ${length(var.nodes)}; add nodes or choose a smaller ec."
  }
  validation {
    condition     = alltrue([for n in var.nodes : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", n.name))])
    error_message = "nodes: a node name is 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
  validation {
    condition     = length(distinct([for n in var.nodes : n.name])) == length(var.nodes)
    error_message = "nodes: node names must be unique."
  }
  validation {
    condition     = alltrue([for n in var.nodes : n.address != ""])
    error_message = "nodes: every node needs an address."
  }
  validation {
    condition = length(distinct([
      for n in var.nodes : "${n.address}:${coalesce(n.gossip_port, var.ports.gossip)}"
    ])) == length(var.nodes)
    error_message = "nodes: two nodes share an address and gossip port."
  }
  validation {
    condition     = alltrue([for n in var.nodes : length(n.drives) > 0])
    error_message = "nodes: every node needs at least one drive."
  }
  validation {
    condition     = alltrue(flatten([for n in var.nodes : [for d in n.drives : startswith(d.path, "/")]]))
    error_message = "nodes: drive paths must be absolute."
  }
  validation {
    condition     = alltrue([for n in var.nodes : length(distinct([for d in n.drives : d.path])) == length(n.drives)])
    error_message = "nodes: a node lists the same drive path twice."
  }
  validation {
    condition     = alltrue([for n in var.nodes : length(distinct([for d in n.drives : d.device if d.device != ""])) == length([for d in n.drives : d.device if d.device != ""])])
    error_message = "nodes: a node lists the same device twice."
  }
  validation {
    condition = alltrue(flatten([for n in var.nodes : [
      for p in [n.s3_port, n.rpc_port, n.gossip_port] : p == null ? true : (p >= 1 && p <= 65535 && floor(p) == p)
    ]]))
    error_message = "nodes: ports are whole numbers from 1 to 65535."
  }
  validation {
    condition = alltrue([for n in var.nodes : length(distinct([
      coalesce(n.s3_port, var.ports.s3), coalesce(n.rpc_port, var.ports.rpc), coalesce(n.gossip_port, var.ports.gossip)
    ])) == 3])
    error_message = "nodes: a node's S3, rpc and gossip ports must differ."
  }
  validation {
    condition     = alltrue(flatten([for n in var.nodes : [for k in keys(n.vars) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))]]))
    error_message = "nodes: vars keys must be valid Ansible variable names."
  }
  validation {
    condition = alltrue([for n in var.nodes : length(setintersection(keys(n.vars), [
      "ansible_host", "strata_node_id", "strata_advertise", "strata_s3_port", "strata_rpc_port", "strata_gossip_port", "strata_drives",
    ])) == 0])
    error_message = "nodes: vars must not repeat what the module writes itself (ansible_host, strata_node_id, strata_advertise, strata_*_port, strata_drives)."
  }
}

variable "ec" {
  description = "Erasure coding, data+parity shards (K+M), e.g. 4+2. Read when the cluster forms."
  type        = string
  default     = "4+2"

  validation {
    condition = (can(regex("^[1-9][0-9]*\\+[0-9]+$", var.ec)) &&
    try(sum([for s in split("+", var.ec) : tonumber(s)]) <= 256, false))
    error_message = "ec: want DATA+PARITY such as 4+2 (DATA >= 1, PARITY >= 0, DATA+PARITY <= 256)."
  }
}

variable "pg_count" {
  description = "Placement groups, chosen when the cluster forms (e.g. 256 to 4096)."
  type        = number
  default     = 256

  validation {
    condition     = var.pg_count >= 1 && var.pg_count <= 65536 && floor(var.pg_count) == var.pg_count
    error_message = "pg_count: a whole number from 1 to 65536."
  }
}

variable "voters" {
  description = "Raft voters the leader keeps."
  type        = number
  default     = 5

  validation {
    condition     = contains([1, 3, 5, 7], var.voters)
    error_message = "voters: 1, 3, 5 or 7."
  }
}

variable "region" {
  description = "Region name Strata reports to S3 clients."
  type        = string
  default     = "us-east-1"
}

variable "domains" {
  description = "Domains for virtual-host style requests (bucket.DOMAIN/key)."
  type        = list(string)
  default     = []
}

variable "ports" {
  description = "The ports of every node (INTERFACE.md): S3 (also STS, admin API, metrics, health), rpc (Raft and shards), gossip (TCP and UDP)."
  type = object({
    s3     = optional(number, 9000)
    rpc    = optional(number, 9100)
    gossip = optional(number, 9101)
  })
  default = {}

  validation {
    condition     = alltrue([for p in [var.ports.s3, var.ports.rpc, var.ports.gossip] : p >= 1 && p <= 65535 && floor(p) == p])
    error_message = "ports: whole numbers from 1 to 65535."
  }
  validation {
    condition     = length(distinct([var.ports.s3, var.ports.rpc, var.ports.gossip])) == 3
    error_message = "ports: S3, rpc and gossip ports must differ."
  }
}

variable "service_manager" {
  description = "How the role runs strata-node: systemd (production) or process (hosts without systemd)."
  type        = string
  default     = "systemd"

  validation {
    condition     = contains(["systemd", "process"], var.service_manager)
    error_message = "service_manager: systemd or process."
  }
}

variable "ansible_user" {
  description = "User Ansible logs in as (the image's default user); null leaves it to Ansible."
  type        = string
  default     = null
}

variable "group_vars" {
  description = "More variables for group strata, e.g. strata_release_archive. Secrets belong in Ansible Vault, not here."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.group_vars) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "group_vars: keys must be valid Ansible variable names."
  }
  validation {
    condition     = length(setintersection(keys(var.group_vars), ["strata_cluster_key", "strata_root_access_key", "strata_root_secret_key"])) == 0
    error_message = "group_vars: keep the cluster key and root keys out of Terraform state; put them in Ansible Vault."
  }
  validation {
    condition = length(setintersection(keys(var.group_vars), [
      "strata_ec", "strata_pg_count", "strata_voters", "strata_region", "strata_domains", "strata_service_manager", "ansible_user",
    ])) == 0
    error_message = "group_vars: set ec, pg_count, voters, region, domains, service_manager and ansible_user through the module's own variables."
  }
}
