// Command stratactl is the admin CLI of Strata. It talks to a cluster only
// through the admin API client in package adminapi (and imports no server
// package); `stratactl cluster keygen` works offline.
package main
