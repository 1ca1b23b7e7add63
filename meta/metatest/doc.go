// Package metatest builds meta states for tests of other packages: a
// topology of nodes and drives, and a bootstrapped State with a placement,
// made by applying the same commands a real cluster applies (so the result
// obeys every rule of meta.State.Apply).
//
// It is for tests only and imports only meta (and testing).
package metatest
