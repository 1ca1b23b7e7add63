# The provider-independent part of a Strata deployment: input validation,
# sizing rules, the port list and the Ansible inventory. It declares no
# provider, so `terraform init` and `terraform test` run offline.
terraform {
  # Validation that refers to other variables needs Terraform 1.9.
  required_version = ">= 1.9"
}
