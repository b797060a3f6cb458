package linker

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"
)

func ports(t *testing.T, specs ...string) network.PortSet {
	t.Helper()
	set := network.PortSet{}
	for _, s := range specs {
		p, err := network.ParsePort(s)
		if err != nil {
			t.Fatal(err)
		}
		set[p] = struct{}{}
	}
	return set
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name string
		link Link
		want []string
	}{
		{
			// docs: engine/network/links.md, with the code's order.
			name: "one port",
			link: Link{Name: "/web2/db", SourceIP: "172.17.0.5", Ports: ports(t, "5432/tcp"), Env: []string{"PATH=/usr/bin", "HOME=/root", "PG_VERSION=9.6", "EMPTY=", "BARE"}},
			want: []string{
				"DB_PORT=tcp://172.17.0.5:5432",
				"DB_PORT_5432_TCP=tcp://172.17.0.5:5432",
				"DB_PORT_5432_TCP_ADDR=172.17.0.5",
				"DB_PORT_5432_TCP_PORT=5432",
				"DB_PORT_5432_TCP_PROTO=tcp",
				"DB_NAME=/web2/db",
				"DB_ENV_PG_VERSION=9.6",
				"DB_ENV_EMPTY=",
			},
		},
		{
			// moby TestLinkMultipleEnv: a range gets _START/_END after its ports.
			name: "range",
			link: Link{Name: "/web/docker", SourceIP: "172.0.17.2", Ports: ports(t, "6379/tcp", "6380/tcp", "6381/tcp")},
			want: []string{
				"DOCKER_PORT=tcp://172.0.17.2:6379",
				"DOCKER_PORT_6379_TCP=tcp://172.0.17.2:6379",
				"DOCKER_PORT_6379_TCP_ADDR=172.0.17.2",
				"DOCKER_PORT_6379_TCP_PORT=6379",
				"DOCKER_PORT_6379_TCP_PROTO=tcp",
				"DOCKER_PORT_6380_TCP=tcp://172.0.17.2:6380",
				"DOCKER_PORT_6380_TCP_ADDR=172.0.17.2",
				"DOCKER_PORT_6380_TCP_PORT=6380",
				"DOCKER_PORT_6380_TCP_PROTO=tcp",
				"DOCKER_PORT_6381_TCP=tcp://172.0.17.2:6381",
				"DOCKER_PORT_6381_TCP_ADDR=172.0.17.2",
				"DOCKER_PORT_6381_TCP_PORT=6381",
				"DOCKER_PORT_6381_TCP_PROTO=tcp",
				"DOCKER_PORT_6379_TCP_START=tcp://172.0.17.2:6379",
				"DOCKER_PORT_6379_TCP_PORT_START=6379",
				"DOCKER_PORT_6379_TCP_END=tcp://172.0.17.2:6381",
				"DOCKER_PORT_6379_TCP_PORT_END=6381",
				"DOCKER_NAME=/web/docker",
			},
		},
		{
			// TCP first even when a UDP port is lower; non-consecutive
			// ports get no range; '-' becomes '_' but dots stay.
			name: "tcp priority",
			link: Link{Name: "/web/my-db.x", SourceIP: "172.17.0.2", Ports: ports(t, "53/udp", "8080/tcp", "6300/udp", "6382/udp")},
			want: []string{
				"MY_DB.X_PORT=tcp://172.17.0.2:8080",
				"MY_DB.X_PORT_8080_TCP=tcp://172.17.0.2:8080",
				"MY_DB.X_PORT_8080_TCP_ADDR=172.17.0.2",
				"MY_DB.X_PORT_8080_TCP_PORT=8080",
				"MY_DB.X_PORT_8080_TCP_PROTO=tcp",
				"MY_DB.X_PORT_53_UDP=udp://172.17.0.2:53",
				"MY_DB.X_PORT_53_UDP_ADDR=172.17.0.2",
				"MY_DB.X_PORT_53_UDP_PORT=53",
				"MY_DB.X_PORT_53_UDP_PROTO=udp",
				"MY_DB.X_PORT_6300_UDP=udp://172.17.0.2:6300",
				"MY_DB.X_PORT_6300_UDP_ADDR=172.17.0.2",
				"MY_DB.X_PORT_6300_UDP_PORT=6300",
				"MY_DB.X_PORT_6300_UDP_PROTO=udp",
				"MY_DB.X_PORT_6382_UDP=udp://172.17.0.2:6382",
				"MY_DB.X_PORT_6382_UDP_ADDR=172.17.0.2",
				"MY_DB.X_PORT_6382_UDP_PORT=6382",
				"MY_DB.X_PORT_6382_UDP_PROTO=udp",
				"MY_DB.X_NAME=/web/my-db.x",
			},
		},
		{
			name: "no ports",
			link: Link{Name: "/web/first", SourceIP: "172.17.0.3", Env: []string{"e1=", "e2=v2", "e3=v3=v3"}},
			want: []string{"FIRST_NAME=/web/first", "FIRST_ENV_e1=", "FIRST_ENV_e2=v2", "FIRST_ENV_e3=v3=v3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Env(tt.link); !slices.Equal(got, tt.want) {
				t.Errorf("Env() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
