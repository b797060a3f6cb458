package api

import (
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
)

// warren has no swarm mode; these are the texts (and the 503) of a dockerd
// outside a swarm (moby's daemon/cluster errors.go). Clients' cleanup code
// (compose, test suites) checks for exactly this status.
var (
	errNoSwarmManager = errdefs.ErrUnavailable.WithMessage(`This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`)
	errNoSwarm        = errdefs.ErrUnavailable.WithMessage("This node is not part of a swarm")
	// A dockerd would create or join a swarm; warren cannot.
	errNoSwarmMode = errdefs.ErrUnavailable.WithMessage("warren has no swarm mode: this node cannot create or join a swarm")
)

// answer is a route that always fails with err. Its object names are
// single path segments, as in moby's router.
func answer(err error) handlerFunc {
	return func(_ http.ResponseWriter, _ *http.Request, name string) error {
		if strings.Contains(name, "/") {
			return errPageNotFound
		}
		return err
	}
}

// swarmRoutes are moby's swarm router's routes (fixed paths, then
// /{kind}/{id}/{action}), each answering as a dockerd outside a swarm.
func swarmRoutes() (map[route]handlerFunc, map[string]map[route]handlerFunc) {
	noManager := answer(errNoSwarmManager)
	fixed := map[route]handlerFunc{
		{http.MethodPost, "/swarm/init"}:     answer(errNoSwarmMode),
		{http.MethodPost, "/swarm/join"}:     answer(errNoSwarmMode),
		{http.MethodPost, "/swarm/leave"}:    answer(errNoSwarm),
		{http.MethodGet, "/swarm"}:           noManager,
		{http.MethodGet, "/swarm/unlockkey"}: noManager,
		{http.MethodPost, "/swarm/update"}:   noManager,
		{http.MethodPost, "/swarm/unlock"}:   noManager,
	}
	objects := map[string]map[route]handlerFunc{}
	// Every kind has a list and an inspect; the rest varies.
	for _, kind := range []string{"services", "nodes", "tasks", "secrets", "configs"} {
		fixed[route{http.MethodGet, "/" + kind}] = noManager
		objects[kind] = map[route]handlerFunc{{http.MethodGet, ""}: noManager}
	}
	for _, kind := range []string{"services", "secrets", "configs"} {
		fixed[route{http.MethodPost, "/" + kind + "/create"}] = noManager
	}
	for _, kind := range []string{"services", "nodes", "secrets", "configs"} {
		objects[kind][route{http.MethodDelete, ""}] = noManager
		objects[kind][route{http.MethodPost, "update"}] = noManager
	}
	for _, kind := range []string{"services", "tasks"} {
		objects[kind][route{http.MethodGet, "logs"}] = noManager
	}
	return fixed, objects
}
