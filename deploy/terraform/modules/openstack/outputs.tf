output "inventory" {
  description = "Ansible inventory for deploy/ansible (write it to a file: see examples/)."
  value       = module.inventory.inventory
}

output "s3_endpoints" {
  description = "S3 endpoint of every node (private addresses)."
  value       = [for p in openstack_networking_port_v2.node : "http://${p.all_fixed_ips[0]}:${module.inventory.ports.s3}"]
}

output "floating_ips" {
  description = "Floating IP of every node (empty without floating_ip_pool)."
  value       = [for f in openstack_networking_floatingip_v2.node : f.address]
}

output "security_group_id" {
  description = "Security group of the nodes."
  value       = openstack_networking_secgroup_v2.nodes.id
}
