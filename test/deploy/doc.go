// Package deploy tests deploy/ansible and deploy/terraform, the way
// operators install Strata, for real:
//
//   - terraform_test.go parses every .tf file with hashicorp/hcl and checks
//     that the cloud modules (aws, openstack) pass the provider-free
//     strata-inventory module every variable it has and take Strata's ports
//     from it, that the examples call the modules with what they require,
//     and that the inventory the module renders (evaluated here with HCL's
//     own template engine) sets every variable the Ansible role requires and
//     only variables the role declares (meta/argument_specs.yml, which must
//     also agree with defaults/main.yml, the variables the role's files use
//     and deploy/ansible/README.md). With terraform on the PATH it also runs
//     `terraform fmt -check` on all of deploy/terraform, and `terraform init`
//     and `terraform test` on the inventory module, offline.
//   - ansible_test.go, with ansible-playbook on the PATH: syntax-checks the
//     playbooks, runs ansible-lint when installed, renders the production
//     systemd unit and checks it with `systemd-analyze verify`; then
//     TestDeployCluster renders a 4-node inventory with the Terraform module
//     (local connections, per-node folders and ports, strata_service_manager
//     process), deploys it with site.yml using bin/strata-node and
//     bin/stratactl (built by `make build`), runs an S3 smoke test with the
//     aws CLI, grows the cluster to 5 nodes with add-node.yml (the fifth
//     installed from a release archive) and restarts every node with
//     rolling-restart.yml while a client writes and reads through the nodes
//     that are in service, with no retries and no failed request allowed,
//     and drains the fifth node out with decommission.yml; every object
//     written reads back after each step. Every node process is stopped by
//     its pid at the end.
//   - drives_test.go, as root with xfsprogs: the role's drive preparation
//     on loop devices (format a blank device as XFS, fstab by UUID, mount
//     with noatime, change nothing on a second run, refuse a device that
//     holds another file system).
//
// The package has no production code; this file exists for the package
// comment.
package deploy
