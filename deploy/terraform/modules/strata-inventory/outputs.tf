output "inventory" {
  description = "The Ansible inventory (YAML) deploy/ansible reads as is: ansible-playbook -i inventory.yml site.yml."
  value       = local.inventory
}

output "bootstrap_expect" {
  description = "Nodes that form the cluster together (site.yml passes this as --bootstrap-expect)."
  value       = length(var.nodes)
}

output "ec" {
  description = "Data and parity shards; the cluster survives the loss of any parity nodes."
  value       = { data = local.ec_data, parity = local.ec_parity }
}

output "ports" {
  description = "The ports of every node."
  value       = { s3 = var.ports.s3, rpc = var.ports.rpc, gossip = var.ports.gossip }
}

output "cluster_ports" {
  description = "Ports (name, protocol, port) to open between the nodes of the cluster."
  value       = local.cluster_ports
}

output "client_ports" {
  description = "Ports (name, protocol, port) to open to S3 clients."
  value       = local.client_ports
}

output "node_names" {
  description = "The nodes' names, in order."
  value       = [for n in local.nodes : n.name]
}
