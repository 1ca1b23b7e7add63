// Package bench is the S3 load generator behind `stratactl bench` and
// `make bench`: it runs timed workloads against any S3 endpoints with a real
// client and reports throughput, latency and what each node spent.
//
// A run (Run with a Config) creates its own bucket, then runs the selected
// workloads one after the other for Config.Duration each, with
// Config.Concurrency clients spread round-robin over the endpoints: PUT and
// GET of 4 KiB, 1 MiB and 64 MiB objects, a 70/30 GET/PUT mix (getput) and
// warp's mix of 45% GET, 15% PUT, 30% HEAD, 10% DELETE (mixed) on 1 MiB
// objects, LIST of a 10,000-key prefix and DELETE of prepared objects
// (Catalogue, Select). Objects a workload needs are written before its
// clock starts (GET reuses what PUT wrote). At the end it deletes what it
// wrote and the bucket, unless Config.Keep.
//
// The client is aws-sdk-go-v2 with its defaults, so every request is
// SigV4-signed the way that SDK signs: over http a PUT carries the SHA-256
// of its body in x-amz-content-sha256 (a signed payload) and a CRC32 in
// x-amz-checksum-crc32, both computed in one pass before the body is sent;
// GET asks for the object's checksum and the SDK checks it while the body
// streams. Retries are off, so every failure counts as an error. All
// clients share one HTTP transport with an idle connection per client and
// endpoint. Bodies come from one random, incompressible buffer (a window
// at a random offset per object), so a 64 MiB PUT allocates nothing; GET
// bodies are read into pooled buffers and dropped, every GET's size and
// ETag are checked against what its PUT returned, and every
// Config.VerifyEvery-th GET's bytes are compared with the bytes written.
//
// While a workload runs, every node's Prometheus exposition
// (Config.MetricsPath, default /strata/metrics) is read every ~500 ms for
// process_resident_memory_bytes and process_cpu_seconds_total (MinIO's
// minio_node_process_* names are understood too), with a bearer token or
// a SigV4-signed request, giving each node's peak RSS and CPU seconds per
// workload and the suite's CPU seconds per GiB stored and served (Report,
// Report.WriteTable, and JSON through encoding/json).
//
// Main types: Config, Workload, Report. bench imports no other package of
// Strata: it only speaks S3 and Prometheus text, so it measures any
// S3-compatible server the same way.
package bench
