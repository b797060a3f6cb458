package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/moby/term"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"warren/internal/atomicfile"
)

const defaultImagesFormat = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

var imagesHeader = map[string]string{
	"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
	"CreatedAt": "CREATED AT", "Size": "SIZE", "Digest": "DIGEST", "Containers": "CONTAINERS",
}

func imagesCommand() *cli.Command {
	c := imageListCommand()
	c.Name, c.Aliases, c.UsageText = "images", nil, "warren images [OPTIONS] [REPOSITORY[:TAG]]"
	return c
}

func imageListCommand() *cli.Command {
	return &cli.Command{
		Name: "ls", Aliases: []string{"list"}, Usage: "List images",
		UsageText: "warren image ls [OPTIONS] [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "Show all images (default hides intermediate images)"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "Filter output based on conditions provided"},
			&cli.StringFlag{Name: "format", Usage: "Format output using a custom template"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "Don't truncate output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "Only show image IDs"},
		},
		Action: imagesAction,
	}
}

func imageCommand() *cli.Command {
	return &cli.Command{
		Name: "image", Usage: "Manage images",
		Subcommands: []*cli.Command{
			imageListCommand(), imageInspectCommand(), rmiCommandNamed("rm", "warren image rm [OPTIONS] IMAGE [IMAGE...]"),
			tagCommand(), loadCommand(), saveCommand(), importCommand(), pullCommand(),
			imagePruneCommand(),
		},
	}
}

func imagesAction(c *cli.Context) error {
	if c.NArg() > 1 {
		return argsError(c, "requires at most 1 argument", "Run")
	}
	filters, err := parseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	if ref := c.Args().First(); ref != "" {
		filters.Add("reference", ref)
	}
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	list, err := api.ImageList(c.Context, client.ImageListOptions{All: c.Bool("all"), Filters: filters})
	if err != nil {
		return err
	}
	format := c.String("format")
	quiet := c.Bool("quiet")
	if quiet && (format == "" || format == tableKey) {
		format = "{{.ID}}"
	}
	rows := imageRows(list.Items, !c.Bool("no-trunc"), time.Now())
	if quiet {
		rows = uniqueIDs(rows)
	}
	return resolveFormat(format, defaultImagesFormat).write(s.out, imagesHeader, rows)
}

// imageRow is one `images` line (c:cli/command/formatter/image.go).
type imageRow struct {
	img        image.Summary
	repo, tag  string
	trunc      bool
	now        time.Time
	digestText string
}

// imageRows expands images into one row per tag; an image with neither
// tags nor digests is "<none> <none>".
func imageRows(imgs []image.Summary, trunc bool, now time.Time) []any {
	var rows []any
	for _, img := range imgs {
		row := imageRow{img: img, trunc: trunc, now: now, digestText: "<none>"}
		if len(img.RepoTags) == 0 {
			row.repo, row.tag = "<none>", "<none>"
			if len(img.RepoDigests) > 0 {
				repo, digest, _ := strings.Cut(img.RepoDigests[0], "@")
				row.repo, row.digestText = repo, digest
			}
			rows = append(rows, row)
			continue
		}
		for _, t := range img.RepoTags {
			r := row
			r.repo, r.tag = splitRepoTag(t)
			rows = append(rows, r)
		}
	}
	return rows
}

// splitRepoTag splits "registry:5000/name:tag" at the tag's colon.
func splitRepoTag(s string) (repo, tag string) {
	i := strings.LastIndex(s, ":")
	if i < 0 || strings.Contains(s[i:], "/") {
		return s, "<none>"
	}
	return s[:i], s[i+1:]
}

func uniqueIDs(rows []any) []any {
	seen := map[string]bool{}
	var out []any
	for _, r := range rows {
		id := r.(imageRow).img.ID
		if !seen[id] {
			seen[id] = true
			out = append(out, r)
		}
	}
	return out
}

func (r imageRow) Repository() string { return r.repo }
func (r imageRow) Tag() string        { return r.tag }
func (r imageRow) Digest() string     { return r.digestText }

func (r imageRow) ID() string {
	if r.trunc {
		return truncateID(r.img.ID)
	}
	return r.img.ID
}

func (r imageRow) CreatedSince() string {
	return units.HumanDuration(r.now.UTC().Sub(time.Unix(r.img.Created, 0))) + " ago"
}

func (r imageRow) CreatedAt() string { return time.Unix(r.img.Created, 0).String() }
func (r imageRow) Size() string      { return units.HumanSizeWithPrecision(float64(r.img.Size), 3) }

func (r imageRow) Containers() string {
	if r.img.Containers < 0 {
		return "N/A"
	}
	return fmt.Sprint(r.img.Containers)
}

func imageInspectCommand() *cli.Command {
	return &cli.Command{
		Name: "inspect", Usage: "Display detailed information on one or more images",
		UsageText: "warren image inspect [OPTIONS] IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Format output using a custom template"},
		},
		Action: func(c *cli.Context) error {
			if err := requireMin(c, 1); err != nil {
				return err
			}
			return inspectAll(c, func(api *client.Client, name string) (inspected, error) {
				return inspectImage(c.Context, api, name)
			})
		},
	}
}

func rmiCommand() *cli.Command {
	return rmiCommandNamed("rmi", "warren rmi [OPTIONS] IMAGE [IMAGE...]")
}

func rmiCommandNamed(name, usage string) *cli.Command {
	return &cli.Command{
		Name: name, Usage: "Remove one or more images", UsageText: usage,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "Force removal of the image"},
			&cli.BoolFlag{Name: "no-prune", Usage: "Do not delete untagged parents"},
		},
		Action: func(c *cli.Context) error {
			if err := requireMin(c, 1); err != nil {
				return err
			}
			s, api, err := apiClient(c)
			if err != nil {
				return err
			}
			opts := client.ImageRemoveOptions{Force: c.Bool("force"), PruneChildren: !c.Bool("no-prune")}
			var failed []string
			for _, name := range c.Args().Slice() {
				res, err := api.ImageRemove(c.Context, name, opts)
				if err != nil {
					failed = append(failed, err.Error())
					continue
				}
				for _, d := range res.Items {
					if d.Untagged != "" {
						fmt.Fprintf(s.out, "Untagged: %s\n", d.Untagged)
					}
					if d.Deleted != "" {
						fmt.Fprintf(s.out, "Deleted: %s\n", d.Deleted)
					}
				}
			}
			if len(failed) > 0 {
				return statusError{status: 1, msg: strings.Join(failed, "\n")}
			}
			return nil
		},
	}
}

func tagCommand() *cli.Command {
	return &cli.Command{
		Name: "tag", Usage: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		UsageText: "warren tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Action: func(c *cli.Context) error {
			if err := requireExact(c, 2); err != nil {
				return err
			}
			_, api, err := apiClient(c)
			if err != nil {
				return err
			}
			_, err = api.ImageTag(c.Context, client.ImageTagOptions{Source: c.Args().Get(0), Target: c.Args().Get(1)})
			return err
		},
	}
}

func pullCommand() *cli.Command {
	return &cli.Command{
		Name: "pull", Usage: "Download an image from a registry",
		UsageText: "warren pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all-tags", Aliases: []string{"a"}, Usage: "Download all tagged images in the repository"},
			&cli.StringFlag{Name: "platform", Usage: "Set platform if server is multi-platform capable"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "Suppress verbose output"},
		},
		Action: func(c *cli.Context) error {
			if err := requireExact(c, 1); err != nil {
				return err
			}
			name := c.Args().First()
			ref, err := reference.ParseNormalizedNamed(name)
			if err != nil {
				return err
			}
			s, api, err := apiClient(c)
			if err != nil {
				return err
			}
			if c.Bool("all-tags") {
				return errors.New("warren pull does not support --all-tags yet: pull each tag by name")
			}
			quiet := c.Bool("quiet")
			if reference.IsNameOnly(ref) && !c.Bool("all-tags") && !quiet {
				fmt.Fprintln(s.out, "Using default tag: latest")
			}
			if err := pullImage(c.Context, api, name, c.String("platform"), quiet, s.out); err != nil {
				return err
			}
			fmt.Fprintln(s.out, reference.TagNameOnly(ref).String())
			return nil
		},
	}
}

// pullImage pulls ref, showing the daemon's progress on out as docker does
// (live progress bars when out is a terminal), or nothing when quiet.
func pullImage(ctx context.Context, api *client.Client, ref, platform string, quiet bool, out io.Writer) error {
	opts := client.ImagePullOptions{}
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return err
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	resp, err := api.ImagePull(ctx, ref, opts)
	if err != nil {
		return err
	}
	defer resp.Close()
	if quiet {
		out = io.Discard
	}
	return displayStream(resp, out)
}

// displayStream prints a JSON message stream (pull, load, import) the way
// the docker CLI does and returns the first error message in it.
func displayStream(in io.Reader, out io.Writer) error {
	fd, isTerm := term.GetFdInfo(out)
	return jsonmessage.DisplayJSONMessagesStream(in, out, fd, isTerm, nil)
}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name: "load", Usage: "Load an image from a tar archive or STDIN",
		UsageText: "warren load [OPTIONS]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "Read from tar archive file, instead of STDIN"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "Suppress the load output"},
		},
		Action: loadAction,
	}
}

func loadAction(c *cli.Context) error {
	if err := requireNone(c); err != nil {
		return err
	}
	s := sessionOf(c)
	var in io.Reader = s.in
	if path := c.String("input"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else if _, isTerm := term.GetFdInfo(s.in); isTerm {
		return errors.New("requested load from stdin, but stdin is empty")
	}
	_, api, err := apiClient(c)
	if err != nil {
		return err
	}
	// docker asks for progress only when it can draw it.
	_, outTerm := term.GetFdInfo(s.out)
	quiet := c.Bool("quiet") || !outTerm
	resp, err := api.ImageLoad(c.Context, in, client.ImageLoadWithQuiet(quiet))
	if err != nil {
		return err
	}
	defer resp.Close()
	return displayStream(resp, s.out)
}

func saveCommand() *cli.Command {
	return &cli.Command{
		Name: "save", Usage: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		UsageText: "warren save [OPTIONS] IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "Write to a file, instead of STDOUT"},
		},
		Action: saveAction,
	}
}

func saveAction(c *cli.Context) error {
	if err := requireMin(c, 1); err != nil {
		return err
	}
	s := sessionOf(c)
	output := c.String("output")
	if _, isTerm := term.GetFdInfo(s.out); output == "" && isTerm {
		return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
	}
	_, api, err := apiClient(c)
	if err != nil {
		return err
	}
	resp, err := api.ImageSave(c.Context, c.Args().Slice())
	if err != nil {
		return err
	}
	defer resp.Close()
	if output == "" {
		_, err := io.Copy(s.out, resp)
		return err
	}
	// Through a temporary file, so a failed save leaves no truncated archive.
	if err := atomicfile.WriteFrom(output, resp, 0o600); err != nil {
		return fmt.Errorf("failed to save image: %w", err)
	}
	return nil
}

func importCommand() *cli.Command {
	return &cli.Command{
		Name: "import", Usage: "Import the contents from a tarball to create a filesystem image",
		UsageText: "warren import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "Apply Dockerfile instruction to the created image"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "Set commit message for imported image"},
			&cli.StringFlag{Name: "platform", Usage: "Set platform if server is multi-platform capable"},
		},
		Action: importAction,
	}
}

func importAction(c *cli.Context) error {
	if err := requireRange(c, 1, 2); err != nil {
		return err
	}
	s := sessionOf(c)
	src := client.ImageImportSource{SourceName: c.Args().First()}
	switch {
	case src.SourceName == "-":
		src.Source = s.in
	case strings.HasPrefix(src.SourceName, "http://"), strings.HasPrefix(src.SourceName, "https://"):
	default:
		f, err := os.Open(src.SourceName)
		if err != nil {
			return err
		}
		defer f.Close()
		src.Source, src.SourceName = f, "-"
	}
	opts := client.ImageImportOptions{Message: c.String("message"), Changes: c.StringSlice("change")}
	if p := c.String("platform"); p != "" {
		plat, err := parsePlatform(p)
		if err != nil {
			return err
		}
		opts.Platform = plat
	}
	_, api, err := apiClient(c)
	if err != nil {
		return err
	}
	resp, err := api.ImageImport(c.Context, src, c.Args().Get(1), opts)
	if err != nil {
		return err
	}
	defer resp.Close()
	return displayStream(resp, s.out)
}
