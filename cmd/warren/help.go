package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// Help in the docker CLI's layout: the usage line, the one-line summary
// (and the description with its examples), the subcommands, the options
// with their value type; tabs are aligned by urfave/cli's tabwriter.
const (
	appHelp = `Usage:  {{.UsageText}}

{{.Usage}}

Commands:
{{range .VisibleCommands}}  {{.Name}}{{"\t"}}{{.Usage}}
{{end}}
Global Options:
{{range .VisibleFlags}}  {{.}}
{{end}}
Run '{{.Name}} COMMAND --help' for more information on a command.
`
	commandHelp = `Usage:  {{if .UsageText}}{{.UsageText}}{{else}}{{.HelpName}} [OPTIONS]{{if .ArgsUsage}} {{.ArgsUsage}}{{end}}{{end}}

{{.Usage}}
{{- if .Description}}

{{.Description}}{{end}}
{{- if .Aliases}}

Aliases:
  {{join .Names ", "}}{{end}}
{{- if .VisibleFlags}}

Options:
{{range .VisibleFlags}}  {{.}}
{{end}}{{else}}
{{end}}`
	subcommandHelp = `Usage:  {{if .UsageText}}{{.UsageText}}{{else}}{{.HelpName}} COMMAND{{end}}

{{.Usage}}
{{- if .Description}}

{{.Description}}{{end}}

Commands:
{{range .VisibleCommands}}  {{join .Names ", "}}{{"\t"}}{{.Usage}}
{{end}}
Run '{{.HelpName}} COMMAND --help' for more information on a command.
`
)

// setHelp installs the docker-style help on app. urfave/cli keeps its
// templates and flag printer in package variables.
func setHelp(app *cli.App) {
	cli.AppHelpTemplate, cli.CommandHelpTemplate, cli.SubcommandHelpTemplate = appHelp, commandHelp, subcommandHelp
	cli.FlagStringer = flagHelp
	app.UsageText = "warren [OPTIONS] COMMAND"
	app.HideHelpCommand = true
	// `warren help [COMMAND]` still works, as `docker help` does, unlisted.
	// With a command of that name urfave/cli adds no --help flag: add it.
	app.Flags = append(app.Flags, cli.HelpFlag)
	app.Commands = append(app.Commands, &cli.Command{
		Name: "help", Usage: "Help about any command", Hidden: true,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.ShowAppHelp(c)
			}
			return cli.ShowCommandHelp(c.Lineage()[1], c.Args().First())
		},
	})
	var walk func(cmds []*cli.Command, prefix string)
	walk = func(cmds []*cli.Command, prefix string) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			// Setting it on a leaf would make urfave/cli render it as a group.
			c.HideHelpCommand = len(c.Subcommands) > 0
			if ex, ok := examples[path]; ok && c.Description == "" {
				c.Description = "Examples:\n  " + strings.Join(ex, "\n  ")
			}
			walk(c.Subcommands, path)
		}
	}
	walk(app.Commands, "")
}

// examples are shown under the summary of the commands whose use is not
// obvious from it.
var examples = map[string][]string{
	"run": {
		"warren run --rm -it busybox sh",
		"warren run -d --name web -p 8080:80 nginx",
		"warren run --rm -v \"$PWD\":/src -w /src busybox ls",
	},
	"create":  {"warren create --name db -e POSTGRES_PASSWORD=secret postgres"},
	"start":   {"warren start web", "warren start -a job"},
	"stop":    {"warren stop web", "warren stop -t 0 web"},
	"exec":    {"warren exec -it web sh", "warren exec -e DEBUG=1 web env"},
	"ps":      {"warren ps -a", "warren ps -q --filter status=exited", "warren ps --format '{{.Names}}\\t{{.Status}}'"},
	"logs":    {"warren logs -f --tail 10 web"},
	"events":  {"warren events --filter container=web", "warren events --since 10m --until 1m --format '{{json .}}'"},
	"inspect": {"warren inspect web", "warren inspect -f '{{.NetworkSettings.IPAddress}}' web"},
	"port":    {"warren port web", "warren port web 80/tcp"},
	"rm":      {"warren rm -f web", "warren rm $(warren ps -aq --filter status=exited)"},
	"images":  {"warren images", "warren images -q busybox"},
	"pull":    {"warren pull busybox:latest"},
	"load":    {"warren load -i busybox.tar", "docker save busybox | warren load"},
	"save":    {"warren save -o busybox.tar busybox"},
	"import":  {"warren import rootfs.tar myimage:1.0"},
	"tag":     {"warren tag busybox:latest mybox:1"},
	"version": {"warren version --format '{{.Server.Version}}'"},
	"info":    {"warren info"},
	"daemon":  {"warren daemon --debug", "warren daemon --subnet 10.99.0.0/24"},
}

// flagHelp is one option as docker prints it: "-a, --all" or "    --name",
// the value's type, then the usage and a default worth showing.
func flagHelp(f cli.Flag) string {
	var short, long []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			short = append(short, "-"+n)
		} else {
			long = append(long, "--"+n)
		}
	}
	names := strings.Join(append(short, long...), ", ")
	if len(short) == 0 {
		names = "    " + names
	}
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return names
	}
	if df.TakesValue() {
		names += " " + valueType(f)
	}
	usage := df.GetUsage()
	if ev, ok := f.(interface{ GetEnvVars() []string }); ok && len(ev.GetEnvVars()) > 0 {
		usage += " ($" + strings.Join(ev.GetEnvVars(), ", $") + ")"
	}
	if d := df.GetDefaultText(); d != "" && d != "false" && d != `""` && d != "[]" {
		usage += fmt.Sprintf(" (default %s)", strings.Trim(d, `"`))
	}
	return names + "\t" + usage
}

// valueType names a flag's value as pflag does.
func valueType(f cli.Flag) string {
	switch f.(type) {
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
		return "int"
	case *cli.StringSliceFlag, *cli.IntSliceFlag:
		return "list"
	case *cli.DurationFlag:
		return "duration"
	case *cli.Float64Flag:
		return "float"
	default:
		return "string"
	}
}
