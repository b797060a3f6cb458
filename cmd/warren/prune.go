package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

// containerCommand is `warren container`; so far it holds prune.
func containerCommand() *cli.Command {
	return &cli.Command{
		Name: "container", Usage: "Manage containers",
		Subcommands: []*cli.Command{containerPruneCommand()},
	}
}

func pruneFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "filter", Usage: `Provide filter values (e.g. "until=<timestamp>")`},
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "Do not prompt for confirmation"},
	}
}

func containerPruneCommand() *cli.Command {
	return &cli.Command{
		Name: "prune", Usage: "Remove all stopped containers", UsageText: "warren container prune [OPTIONS]",
		Flags: pruneFlags(),
		Action: func(c *cli.Context) error {
			filters, err := pruneArgs(c)
			if err != nil {
				return err
			}
			s := sessionOf(c)
			if !c.Bool("force") && !confirm(s.in, s.out, "WARNING! This will remove all stopped containers.") {
				return nil
			}
			_, api, err := apiClient(c)
			if err != nil {
				return err
			}
			res, err := api.ContainerPrune(c.Context, client.ContainerPruneOptions{Filters: filters})
			if err != nil {
				return err
			}
			var space uint64
			if len(res.Report.ContainersDeleted) > 0 {
				fmt.Fprintf(s.out, "Deleted Containers:\n%s\n\n", strings.Join(res.Report.ContainersDeleted, "\n"))
				space = res.Report.SpaceReclaimed
			}
			fmt.Fprintln(s.out, "Total reclaimed space:", units.HumanSize(float64(space)))
			return nil
		},
	}
}

func imagePruneCommand() *cli.Command {
	return &cli.Command{
		Name: "prune", Usage: "Remove unused images", UsageText: "warren image prune [OPTIONS]",
		Flags: append(pruneFlags(),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "Remove all unused images, not just dangling ones"}),
		Action: func(c *cli.Context) error {
			filters, err := pruneArgs(c)
			if err != nil {
				return err
			}
			all := c.Bool("all")
			filters.Add("dangling", strconv.FormatBool(!all))
			warning := "WARNING! This will remove all dangling images."
			if all {
				warning = "WARNING! This will remove all images without at least one container associated to them."
			}
			s := sessionOf(c)
			if !c.Bool("force") && !confirm(s.in, s.out, warning) {
				return nil
			}
			_, api, err := apiClient(c)
			if err != nil {
				return err
			}
			res, err := api.ImagePrune(c.Context, client.ImagePruneOptions{Filters: filters})
			if err != nil {
				return err
			}
			if len(res.Report.ImagesDeleted) > 0 {
				fmt.Fprintln(s.out, "Deleted Images:")
				for _, d := range res.Report.ImagesDeleted {
					if d.Untagged != "" {
						fmt.Fprintln(s.out, "untagged:", d.Untagged)
					} else {
						fmt.Fprintln(s.out, "deleted:", d.Deleted)
					}
				}
				fmt.Fprintln(s.out)
			}
			fmt.Fprintln(s.out, "Total reclaimed space:", units.HumanSize(float64(res.Report.SpaceReclaimed)))
			return nil
		},
	}
}

// pruneArgs checks a prune's arguments and reads its --filter flags.
func pruneArgs(c *cli.Context) (client.Filters, error) {
	if err := requireNone(c); err != nil {
		return nil, err
	}
	return parseFilters(c.StringSlice("filter"))
}

// confirm is the docker CLI's prompt: only "y" or "Y" proceeds; anything
// else, or no answer, cancels quietly (exit 0).
func confirm(in io.Reader, out io.Writer, warning string) bool {
	fmt.Fprint(out, warning+"\nAre you sure you want to continue? [y/N] ")
	sc := bufio.NewScanner(in)
	return sc.Scan() && strings.EqualFold(strings.TrimSpace(sc.Text()), "y")
}
