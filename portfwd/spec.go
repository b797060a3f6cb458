package portfwd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"
	"github.com/moby/moby/api/types/network"
)

// ParsePublish parses -p values the way the docker CLI does: every form of
// [ip:][hostPort:]containerPort[/proto], ranges, bracketed IPv6 host
// addresses, and the long form published=8080,target=80,protocol=udp. Every
// published port is also exposed. Errors are Docker's texts.
func ParsePublish(specs []string) (network.PortSet, network.PortMap, error) {
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for _, spec := range specs {
		standard, err := standardNotation(spec)
		if err != nil {
			return nil, nil, err
		}
		// go-connections is the parser the docker CLI itself uses, so its
		// grammar and error texts are Docker's.
		mappings, err := nat.ParsePortSpec(standard)
		if err != nil {
			return nil, nil, err
		}
		for _, m := range mappings {
			port, err := network.ParsePort(string(m.Port))
			if err != nil {
				return nil, nil, err
			}
			binding, err := toBinding(m.Binding)
			if err != nil {
				return nil, nil, err
			}
			exposed[port] = struct{}{}
			bindings[port] = append(bindings[port], binding)
		}
	}
	return exposed, bindings, nil
}

// ParseExpose parses --expose values: port or start-end, with an optional
// /proto. Docker refuses anything with a colon.
func ParseExpose(specs []string) (network.PortSet, error) {
	exposed := network.PortSet{}
	for _, spec := range specs {
		if strings.Contains(spec, ":") {
			return nil, fmt.Errorf("invalid port format for --expose: %s", spec)
		}
		proto, ports := nat.SplitProtoPort(spec)
		start, end, err := nat.ParsePortRange(ports)
		if err != nil {
			return nil, fmt.Errorf("invalid range format for --expose: %s, error: %s", spec, err)
		}
		for n := start; n <= end; n++ {
			p, err := nat.NewPort(proto, strconv.FormatUint(n, 10))
			if err != nil {
				return nil, err
			}
			port, err := network.ParsePort(string(p))
			if err != nil {
				return nil, fmt.Errorf("invalid range format for --expose: %s, error: %s", spec, err)
			}
			exposed[port] = struct{}{}
		}
	}
	return exposed, nil
}

// standardNotation turns the long form "published=8080,target=80" into
// "8080:80/tcp", as the docker CLI does before parsing.
func standardNotation(spec string) (string, error) {
	if !strings.Contains(spec, "=") {
		return spec, nil
	}
	params := map[string]string{"protocol": "tcp"}
	for _, param := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(param, "=")
		if !ok || k == "" {
			return "", fmt.Errorf("invalid publish opts format (should be name=value but got '%s')", param)
		}
		params[k] = v
	}
	return fmt.Sprintf("%s:%s/%s", params["published"], params["target"], params["protocol"]), nil
}

func toBinding(b nat.PortBinding) (network.PortBinding, error) {
	var out network.PortBinding
	out.HostPort = b.HostPort
	if b.HostIP == "" {
		return out, nil
	}
	if err := out.HostIP.UnmarshalText([]byte(b.HostIP)); err != nil {
		return out, errors.New("invalid IP address: " + b.HostIP)
	}
	return out, nil
}
