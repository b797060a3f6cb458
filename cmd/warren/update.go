package main

import (
	"errors"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

// updateCommand is docker update, for --restart: the engine applies no
// resource limits yet, so their flags are not offered.
func updateCommand() *cli.Command {
	var policy container.RestartPolicy
	cmd := perContainer("update", "Update configuration of one or more containers",
		[]cli.Flag{&cli.StringFlag{Name: "restart", Usage: "Restart policy to apply when a container exits"}},
		func(c *cli.Context, api *client.Client, ctr string) error {
			_, err := api.ContainerUpdate(c.Context, ctr, client.ContainerUpdateOptions{RestartPolicy: &policy})
			return err
		})
	each := cmd.Action
	// Flags are checked once, before any container, as docker does.
	cmd.Action = func(c *cli.Context) error {
		if c.NumFlags() == 0 {
			return errors.New("you must provide one or more flags when using this command")
		}
		p, err := parseRestartPolicy(c.String("restart"))
		if err != nil {
			return err
		}
		policy = p
		return each(c)
	}
	return cmd
}
