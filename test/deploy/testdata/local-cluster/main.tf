# The inventory of TestDeployCluster: the strata-inventory module with nodes
# on this machine (local connections, per-node ports and folders), given by
# the test in a .tfvars.json file.
terraform {
  required_version = ">= 1.9"
}

variable "nodes" {
  description = "The nodes, as strata-inventory takes them."
  type        = any
}

variable "group_vars" {
  description = "Variables for group strata."
  type        = map(string)
}

module "inventory" {
  source = "../../../../deploy/terraform/modules/strata-inventory"

  cluster_name    = "deploy-test"
  ec              = "2+2"
  pg_count        = 64
  service_manager = "process"
  nodes           = var.nodes
  group_vars      = var.group_vars
}

output "inventory" {
  value = module.inventory.inventory
}
