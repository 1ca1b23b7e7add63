locals {
  ec_data   = tonumber(split("+", var.ec)[0])
  ec_parity = tonumber(split("+", var.ec)[1])

  # Nodes with every default filled in: what the inventory holds.
  nodes = [for n in var.nodes : {
    name         = n.name
    address      = n.address
    ansible_host = coalesce(n.ansible_host, n.address)
    drives       = n.drives
    s3_port      = coalesce(n.s3_port, var.ports.s3)
    rpc_port     = coalesce(n.rpc_port, var.ports.rpc)
    gossip_port  = coalesce(n.gossip_port, var.ports.gossip)
    vars         = n.vars
  }]

  # What must be open between the nodes: every port of INTERFACE.md.
  # Clients need only S3.
  cluster_ports = [
    { name = "s3", protocol = "tcp", port = var.ports.s3 },
    { name = "rpc", protocol = "tcp", port = var.ports.rpc },
    { name = "gossip", protocol = "tcp", port = var.ports.gossip },
    { name = "gossip", protocol = "udp", port = var.ports.gossip },
  ]
  client_ports = [
    { name = "s3", protocol = "tcp", port = var.ports.s3 },
  ]

  inventory = templatefile("${path.module}/inventory.yml.tftpl", {
    cluster_name    = var.cluster_name
    nodes           = local.nodes
    ec              = var.ec
    pg_count        = var.pg_count
    voters          = var.voters
    region          = var.region
    domains         = var.domains
    service_manager = var.service_manager
    ansible_user    = var.ansible_user
    group_vars      = var.group_vars
  })
}

# Advice that does not stop a plan: Terraform prints it as a warning.
check "redundancy" {
  assert {
    condition     = local.ec_parity > 0
    error_message = "ec ${var.ec} has no parity: losing any drive loses data."
  }
}
