// Command stratactl is the admin CLI of Strata. It talks to a cluster
// through the admin API client in package adminapi, and `stratactl bench`
// through S3 with package bench (the load generator, which speaks only S3
// and Prometheus text); it imports no server package. `stratactl cluster
// keygen` works offline.
package main
