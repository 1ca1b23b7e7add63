# terraform test: runs offline (the module has no provider).

variables {
  cluster_name = "demo"
  ec           = "2+2"
  nodes = [
    for i in range(4) : {
      name    = "n${i + 1}"
      address = "10.0.1.${11 + i}"
      drives = [
        { path = "/var/lib/strata/nvme0", device = "/dev/nvme1n1" },
        { path = "/var/lib/strata/nvme1", device = "/dev/nvme2n1" },
      ]
    }
  ]
}

run "renders_a_4_node_inventory" {
  command = plan

  assert {
    condition     = keys(yamldecode(output.inventory).all.children.strata.hosts) == ["n1", "n2", "n3", "n4"]
    error_message = "the inventory's group strata must hold n1..n4"
  }
  assert {
    condition = yamldecode(output.inventory).all.children.strata.hosts.n2 == {
      ansible_host       = "10.0.1.12"
      strata_node_id     = "n2"
      strata_advertise   = "10.0.1.12"
      strata_s3_port     = 9000
      strata_rpc_port    = 9100
      strata_gossip_port = 9101
      strata_drives = [
        { path = "/var/lib/strata/nvme0", device = "/dev/nvme1n1" },
        { path = "/var/lib/strata/nvme1", device = "/dev/nvme2n1" },
      ]
    }
    error_message = "host n2 is not rendered as expected:\n${output.inventory}"
  }
  assert {
    condition = yamldecode(output.inventory).all.children.strata.vars == {
      strata_ec              = "2+2"
      strata_pg_count        = 256
      strata_voters          = 5
      strata_region          = "us-east-1"
      strata_domains         = []
      strata_service_manager = "systemd"
    }
    error_message = "group vars are not rendered as expected:\n${output.inventory}"
  }
  assert {
    condition     = output.bootstrap_expect == 4 && output.ec == { data = 2, parity = 2 }
    error_message = "bootstrap_expect or ec"
  }
  assert {
    condition = output.cluster_ports == [
      { name = "s3", protocol = "tcp", port = 9000 },
      { name = "rpc", protocol = "tcp", port = 9100 },
      { name = "gossip", protocol = "tcp", port = 9101 },
      { name = "gossip", protocol = "udp", port = 9101 },
    ] && output.client_ports == [{ name = "s3", protocol = "tcp", port = 9000 }]
    error_message = "port lists do not match INTERFACE.md"
  }
}

run "per_node_ports_folders_and_vars" {
  command = plan

  variables {
    ec              = "1+1"
    service_manager = "process"
    ansible_user    = "debian"
    ports           = { s3 = 443 }
    group_vars      = { strata_release_archive = "/srv/strata.tar.gz" }
    nodes = [
      { name = "a", address = "127.0.0.1", s3_port = 19001, rpc_port = 19101, gossip_port = 19201, drives = [{ path = "/tmp/a/d1" }], vars = { ansible_connection = "local" } },
      { name = "b", address = "127.0.0.1", s3_port = 19002, rpc_port = 19102, gossip_port = 19202, drives = [{ path = "/tmp/b/d1" }] },
    ]
  }

  assert {
    condition = yamldecode(output.inventory).all.children.strata.hosts.a == {
      ansible_host       = "127.0.0.1"
      ansible_connection = "local"
      strata_node_id     = "a"
      strata_advertise   = "127.0.0.1"
      strata_s3_port     = 19001
      strata_rpc_port    = 19101
      strata_gossip_port = 19201
      strata_drives      = [{ path = "/tmp/a/d1" }]
    }
    error_message = "host a:\n${output.inventory}"
  }
  assert {
    condition     = yamldecode(output.inventory).all.children.strata.vars.ansible_user == "debian" && yamldecode(output.inventory).all.children.strata.vars.strata_release_archive == "/srv/strata.tar.gz" && yamldecode(output.inventory).all.children.strata.vars.strata_service_manager == "process"
    error_message = "group vars:\n${output.inventory}"
  }
  assert {
    condition     = output.ports.s3 == 443 && output.ports.rpc == 9100
    error_message = "ports default per field"
  }
}

run "fewer_nodes_than_k_plus_m" {
  command = plan
  variables {
    ec = "4+2"
  }
  expect_failures = [var.nodes]
}

run "bad_ec" {
  command = plan
  variables {
    ec = "0+2"
  }
  expect_failures = [var.ec]
}

run "duplicate_node_names" {
  command = plan
  variables {
    nodes = [for i in range(4) : { name = "n1", address = "10.0.1.${i}", drives = [{ path = "/d" }] }]
  }
  expect_failures = [var.nodes]
}

run "relative_drive_path" {
  command = plan
  variables {
    nodes = [for i in range(4) : { name = "n${i}", address = "10.0.1.${i}", drives = [{ path = "data" }] }]
  }
  expect_failures = [var.nodes]
}

run "same_address_and_port" {
  command = plan
  variables {
    nodes = [for i in range(4) : { name = "n${i}", address = "10.0.1.1", drives = [{ path = "/d" }] }]
  }
  expect_failures = [var.nodes]
}

run "ports_must_differ" {
  command = plan
  variables {
    ports = { s3 = 9000, rpc = 9000 }
  }
  expect_failures = [var.ports]
}

run "secrets_stay_out_of_terraform" {
  command = plan
  variables {
    group_vars = { strata_root_secret_key = "x" }
  }
  expect_failures = [var.group_vars]
}

run "no_parity_warns" {
  command = plan
  variables {
    ec = "4+0"
  }
  expect_failures = [check.redundancy]
}
