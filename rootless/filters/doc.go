// Package filters owns Docker's filter semantics for ps, images, prune and events:
// which keys each endpoint accepts, how values combine (values of one key
// are ORed, keys are ANDed, label values are all required), and Docker's
// error texts. It matches plain descriptions of containers and images; the
// engine builds those and resolves the names filters mention.
package filters
