//go:build tools

// Package tools pins the modules DESIGN.md names before all of them are
// imported by real code, so parallel work on the packages shares one go.mod.
// Remove an import here once a package imports the module for real.
package tools

import (
	_ "github.com/containerd/errdefs"
	_ "github.com/containerd/errdefs/pkg/errhttp"
	_ "github.com/containers/gvisor-tap-vsock/pkg/virtualnetwork"
	_ "github.com/creack/pty"
	_ "github.com/docker/go-connections/nat"
	_ "github.com/docker/go-units"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/nftables"
	_ "github.com/moby/moby/api/types/container"
	_ "github.com/moby/moby/client"
	_ "github.com/moby/term"
	_ "github.com/rootless-containers/rootlesskit/v3/pkg/parent"
	_ "github.com/rootless-containers/rootlesskit/v3/pkg/child"
	_ "github.com/rootless-containers/rootlesskit/v3/pkg/network/gvisortapvsock"
	_ "github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin"
	_ "github.com/rootless-containers/rootlesskit/v3/pkg/api/client"
	_ "github.com/urfave/cli/v2"
	_ "github.com/vishvananda/netlink"
	_ "golang.org/x/sys/unix"
)
