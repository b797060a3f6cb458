package linker

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/network"
)

// Link is one --link as seen by its recipient.
type Link struct {
	Name     string // full link name, "/web/db"
	SourceIP string // the source's current bridge IPv4 address
	Ports    network.PortSet
	Env      []string // the source's Config.Env
}

// Env returns the variables Docker sets in a recipient for link l, in
// Docker's order: <ALIAS>_PORT for the first port (TCP first), the four
// per-port variables, _START/_END for each run of consecutive ports of one
// protocol, <ALIAS>_NAME, then <ALIAS>_ENV_* for the source's environment
// without HOME and PATH.
func Env(l Link) []string {
	alias := envAlias(l.Name)
	ports := sortedPorts(l.Ports)
	env := make([]string, 0, 2+len(ports)*4+len(l.Env))
	if len(ports) > 0 {
		env = append(env, fmt.Sprintf("%s_PORT=%s", alias, portURL(ports[0], l.SourceIP)))
	}
	runStart := 0
	for i, p := range ports {
		prefix := portPrefix(alias, p)
		env = append(env,
			fmt.Sprintf("%s=%s", prefix, portURL(p, l.SourceIP)),
			fmt.Sprintf("%s_ADDR=%s", prefix, l.SourceIP),
			fmt.Sprintf("%s_PORT=%d", prefix, p.Num()),
			fmt.Sprintf("%s_PROTO=%s", prefix, p.Proto()),
		)
		runEnds := i == len(ports)-1 || !consecutive(p, ports[i+1])
		if !runEnds {
			continue
		}
		if i > runStart {
			first, last := ports[runStart], p
			prefix := portPrefix(alias, first)
			env = append(env,
				fmt.Sprintf("%s_START=%s", prefix, portURL(first, l.SourceIP)),
				fmt.Sprintf("%s_PORT_START=%d", prefix, first.Num()),
				fmt.Sprintf("%s_END=%s", prefix, portURL(last, l.SourceIP)),
				fmt.Sprintf("%s_PORT_END=%d", prefix, last.Num()),
			)
		}
		runStart = i + 1
	}
	env = append(env, fmt.Sprintf("%s_NAME=%s", alias, l.Name))
	for _, kv := range l.Env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "HOME" || name == "PATH" {
			continue
		}
		env = append(env, fmt.Sprintf("%s_ENV_%s=%s", alias, name, value))
	}
	return env
}

// envAlias is the variable prefix of a link name: its last element,
// upper-cased, with only '-' replaced (Docker keeps dots).
func envAlias(linkName string) string {
	_, alias := path.Split(linkName)
	return strings.ReplaceAll(strings.ToUpper(alias), "-", "_")
}

func portPrefix(alias string, p network.Port) string {
	return fmt.Sprintf("%s_PORT_%d_%s", alias, p.Num(), strings.ToUpper(string(p.Proto())))
}

func portURL(p network.Port, ip string) string {
	return fmt.Sprintf("%s://%s:%d", p.Proto(), ip, p.Num())
}

func consecutive(a, b network.Port) bool {
	return a.Proto() == b.Proto() && b.Num() == a.Num()+1
}

// sortedPorts orders ports TCP first, then the other protocols by name,
// each by number: the first one names <ALIAS>_PORT.
func sortedPorts(set network.PortSet) []network.Port {
	ports := make([]network.Port, 0, len(set))
	for p := range set {
		ports = append(ports, p)
	}
	slices.SortFunc(ports, func(a, b network.Port) int {
		if a.Proto() != b.Proto() {
			switch {
			case a.Proto() == network.TCP:
				return -1
			case b.Proto() == network.TCP:
				return 1
			}
			return cmp.Compare(a.Proto(), b.Proto())
		}
		return cmp.Compare(a.Num(), b.Num())
	})
	return ports
}
