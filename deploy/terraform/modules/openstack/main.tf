# Strata on OpenStack: a network of its own, nodes spread over hypervisors by
# a server group, drives on Cinder volumes or the flavor's local disks, and
# a security group that opens only Strata's ports: all of them between the
# nodes, S3 to the allowed networks, and SSH for Ansible. The inventory
# comes from ../strata-inventory.

locals {
  # Attached volumes show up as vdb, vdc, ... in attachment order.
  volume_devices = [for v in range(var.volumes_per_node) : "/dev/vd${substr("bcdefghijklmnopqrstuvwxyz", v, 1)}"]
  drive_devices  = var.volumes_per_node > 0 ? local.volume_devices : var.local_disk_devices
  volumes = {
    for pair in setproduct(range(var.node_count), range(var.volumes_per_node)) :
    "n${pair[0] + 1}-${pair[1]}" => { node = pair[0], index = pair[1] }
  }
}

resource "openstack_networking_network_v2" "cluster" {
  name           = var.cluster_name
  admin_state_up = true
}

resource "openstack_networking_subnet_v2" "cluster" {
  name            = var.cluster_name
  network_id      = openstack_networking_network_v2.cluster.id
  cidr            = var.subnet_cidr
  ip_version      = 4
  dns_nameservers = var.dns_nameservers
}

resource "openstack_networking_router_v2" "cluster" {
  count               = var.external_network_id == null ? 0 : 1
  name                = var.cluster_name
  external_network_id = var.external_network_id
}

resource "openstack_networking_router_interface_v2" "cluster" {
  count     = var.external_network_id == null ? 0 : 1
  router_id = openstack_networking_router_v2.cluster[0].id
  subnet_id = openstack_networking_subnet_v2.cluster.id
}

resource "openstack_networking_secgroup_v2" "nodes" {
  name        = "${var.cluster_name}-nodes"
  description = "Strata nodes of ${var.cluster_name}"
}

# Every port of INTERFACE.md, between the nodes only.
resource "openstack_networking_secgroup_rule_v2" "cluster" {
  for_each          = { for p in module.inventory.cluster_ports : "${p.name}-${p.protocol}" => p }
  security_group_id = openstack_networking_secgroup_v2.nodes.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = each.value.protocol
  port_range_min    = each.value.port
  port_range_max    = each.value.port
  remote_group_id   = openstack_networking_secgroup_v2.nodes.id
  description       = "strata ${each.value.name} between nodes"
}

# S3 to the clients' networks.
resource "openstack_networking_secgroup_rule_v2" "clients" {
  for_each = {
    for pair in setproduct(module.inventory.client_ports, var.s3_allowed_cidrs) :
    "${pair[0].name}-${pair[0].protocol}-${pair[1]}" => { port = pair[0], cidr = pair[1] }
  }
  security_group_id = openstack_networking_secgroup_v2.nodes.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = each.value.port.protocol
  port_range_min    = each.value.port.port
  port_range_max    = each.value.port.port
  remote_ip_prefix  = each.value.cidr
  description       = "strata ${each.value.port.name} from clients"
}

resource "openstack_networking_secgroup_rule_v2" "ssh" {
  for_each          = toset(var.ssh_allowed_cidrs)
  security_group_id = openstack_networking_secgroup_v2.nodes.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_ip_prefix  = each.value
  description       = "ssh (Ansible)"
}

resource "openstack_compute_servergroup_v2" "nodes" {
  name     = "${var.cluster_name}-nodes"
  policies = [var.server_group_policy]
}

resource "openstack_networking_port_v2" "node" {
  count              = var.node_count
  name               = "${var.cluster_name}-n${count.index + 1}"
  network_id         = openstack_networking_network_v2.cluster.id
  security_group_ids = [openstack_networking_secgroup_v2.nodes.id]
  fixed_ip {
    subnet_id = openstack_networking_subnet_v2.cluster.id
  }
}

resource "openstack_compute_instance_v2" "node" {
  count       = var.node_count
  name        = "${var.cluster_name}-n${count.index + 1}"
  flavor_name = var.flavor_name
  image_name  = var.image_name
  key_pair    = var.key_pair

  network {
    port = openstack_networking_port_v2.node[count.index].id
  }

  scheduler_hints {
    group = openstack_compute_servergroup_v2.nodes.id
  }

  metadata = {
    "strata-cluster" = var.cluster_name
  }

  lifecycle {
    precondition {
      condition     = length(local.drive_devices) > 0
      error_message = "no drives: set volumes_per_node, or local_disk_devices for a flavor with local disks."
    }
  }
}

resource "openstack_blockstorage_volume_v3" "drive" {
  for_each    = local.volumes
  name        = "${var.cluster_name}-${each.key}"
  size        = var.volume_size
  volume_type = var.volume_type
}

resource "openstack_compute_volume_attach_v2" "drive" {
  for_each    = local.volumes
  instance_id = openstack_compute_instance_v2.node[each.value.node].id
  volume_id   = openstack_blockstorage_volume_v3.drive[each.key].id
  device      = local.volume_devices[each.value.index]
}

resource "openstack_networking_floatingip_v2" "node" {
  count = var.floating_ip_pool == null ? 0 : var.node_count
  pool  = var.floating_ip_pool
}

resource "openstack_networking_floatingip_associate_v2" "node" {
  count       = var.floating_ip_pool == null ? 0 : var.node_count
  floating_ip = openstack_networking_floatingip_v2.node[count.index].address
  port_id     = openstack_networking_port_v2.node[count.index].id
  depends_on  = [openstack_networking_router_interface_v2.cluster]
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
  nodes = [for i, inst in openstack_compute_instance_v2.node : {
    name         = "n${i + 1}"
    address      = openstack_networking_port_v2.node[i].all_fixed_ips[0]
    ansible_host = var.floating_ip_pool == null ? openstack_networking_port_v2.node[i].all_fixed_ips[0] : openstack_networking_floatingip_v2.node[i].address
    drives = [for d, dev in local.drive_devices : {
      path   = "/var/lib/strata/disk${d}"
      device = dev
    }]
  }]
}
