output "inventory" {
  description = "Ansible inventory for deploy/ansible (write it to a file: see examples/)."
  value       = module.inventory.inventory
}

output "s3_endpoints" {
  description = "S3 endpoint of every node (private addresses)."
  value       = [for inst in aws_instance.node : "http://${inst.private_ip}:${module.inventory.ports.s3}"]
}

output "public_ips" {
  description = "Public address of every node (empty without public_ips)."
  value       = [for inst in aws_instance.node : inst.public_ip]
}

output "security_group_id" {
  description = "Security group of the nodes (add rules for load balancers here)."
  value       = aws_security_group.nodes.id
}
