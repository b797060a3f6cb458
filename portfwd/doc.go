// Package portfwd owns published ports: parsing the -p, -P and --expose
// forms Docker accepts, choosing host ports, and forwarding host
// connections to containers.
package portfwd
