# Strata on AWS: nodes with local NVMe instance store in a rack-spread
# placement group, in a VPC of their own, behind a security group that opens
# only Strata's ports: all of them between the nodes, S3 to the allowed
# networks, and SSH for Ansible. The inventory comes from
# ../strata-inventory.

data "aws_ec2_instance_type" "node" {
  instance_type = var.instance_type
}

locals {
  tags = merge({ "strata:cluster" = var.cluster_name }, var.tags)
  # Instance store disks; on Nitro instances they follow the root volume
  # (nvme0n1) as nvme1n1, nvme2n1, ...
  disks = data.aws_ec2_instance_type.node.instance_storage_supported ? sum([for d in data.aws_ec2_instance_type.node.instance_disks : d.count]) : 0
}

resource "aws_vpc" "cluster" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = var.cluster_name })
}

resource "aws_internet_gateway" "cluster" {
  vpc_id = aws_vpc.cluster.id
  tags   = merge(local.tags, { Name = var.cluster_name })
}

resource "aws_subnet" "zone" {
  count                   = length(var.availability_zones)
  vpc_id                  = aws_vpc.cluster.id
  availability_zone       = var.availability_zones[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 8, count.index)
  map_public_ip_on_launch = var.public_ips
  tags                    = merge(local.tags, { Name = "${var.cluster_name}-${var.availability_zones[count.index]}" })
}

resource "aws_route_table" "cluster" {
  vpc_id = aws_vpc.cluster.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.cluster.id
  }
  tags = merge(local.tags, { Name = var.cluster_name })
}

resource "aws_route_table_association" "zone" {
  count          = length(aws_subnet.zone)
  subnet_id      = aws_subnet.zone[count.index].id
  route_table_id = aws_route_table.cluster.id
}

resource "aws_security_group" "nodes" {
  name        = "${var.cluster_name}-nodes"
  description = "Strata nodes of ${var.cluster_name}"
  vpc_id      = aws_vpc.cluster.id
  tags        = merge(local.tags, { Name = "${var.cluster_name}-nodes" })
}

# Every port of INTERFACE.md, between the nodes only.
resource "aws_vpc_security_group_ingress_rule" "cluster" {
  for_each                     = { for p in module.inventory.cluster_ports : "${p.name}-${p.protocol}" => p }
  security_group_id            = aws_security_group.nodes.id
  referenced_security_group_id = aws_security_group.nodes.id
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = "strata ${each.value.name} between nodes"
  tags                         = local.tags
}

# S3 to the clients' networks.
resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = {
    for pair in setproduct(module.inventory.client_ports, var.s3_allowed_cidrs) :
    "${pair[0].name}-${pair[0].protocol}-${pair[1]}" => { port = pair[0], cidr = pair[1] }
  }
  security_group_id = aws_security_group.nodes.id
  cidr_ipv4         = each.value.cidr
  ip_protocol       = each.value.port.protocol
  from_port         = each.value.port.port
  to_port           = each.value.port.port
  description       = "strata ${each.value.port.name} from clients"
  tags              = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = toset(var.ssh_allowed_cidrs)
  security_group_id = aws_security_group.nodes.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  description       = "ssh (Ansible)"
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.nodes.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
  description       = "outbound"
  tags              = local.tags
}

# Each node on distinct racks (hardware), at most 7 per zone.
resource "aws_placement_group" "nodes" {
  name         = "${var.cluster_name}-nodes"
  strategy     = "spread"
  spread_level = "rack"
  tags         = local.tags
}

resource "aws_instance" "node" {
  count                  = var.node_count
  ami                    = var.ami_id
  instance_type          = var.instance_type
  key_name               = var.key_name
  subnet_id              = aws_subnet.zone[count.index % length(aws_subnet.zone)].id
  vpc_security_group_ids = [aws_security_group.nodes.id]
  placement_group        = aws_placement_group.nodes.id

  root_block_device {
    volume_size = var.root_volume_size
    volume_type = "gp3"
    encrypted   = true
  }

  metadata_options {
    http_tokens = "required"
  }

  tags = merge(local.tags, { Name = "${var.cluster_name}-n${count.index + 1}" })

  lifecycle {
    precondition {
      condition     = local.disks > 0
      error_message = "instance_type ${var.instance_type} has no instance store: choose one with local NVMe, e.g. i4i.2xlarge or i3en.6xlarge."
    }
    precondition {
      condition     = var.node_count <= 7 * length(var.availability_zones)
      error_message = "a rack-spread placement group holds at most 7 instances per zone: ${var.node_count} nodes need ${ceil(var.node_count / 7)} availability zones."
    }
  }
}

module "inventory" {
  source = "../strata-inventory"

  cluster_name    = var.cluster_name
  ec              = var.ec
  pg_count        = var.pg_count
  voters          = var.voters
  region          = var.strata_region
  domains         = var.domains
  service_manager = "systemd"
  ansible_user    = var.ansible_user
  group_vars      = var.group_vars
  nodes = [for i, inst in aws_instance.node : {
    name         = "n${i + 1}"
    address      = inst.private_ip
    ansible_host = var.public_ips ? inst.public_ip : inst.private_ip
    drives = [for d in range(local.disks) : {
      path   = "/var/lib/strata/nvme${d}"
      device = "/dev/nvme${d + 1}n1"
    }]
  }]
}
