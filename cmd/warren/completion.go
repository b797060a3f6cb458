package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"

	"warren/internal/config"
)

// The shell scripts call `warren __complete WORDS... CUR` (CUR may be
// empty) and offer the lines it prints. They need no bash-completion package, and use its helpers for
// words with colons (image:tag) when it is loaded.
const bashCompletion = `# bash completion for warren: source <(warren completion bash)
_warren_complete() {
	local cur words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -n =: || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur="${COMP_WORDS[COMP_CWORD]}"
	fi
	local IFS=$'\n'
	local out
	out=$("${words[0]}" __complete "${words[@]:1:cword-1}" "$cur" 2>/dev/null)
	COMPREPLY=($(compgen -W "$out" -- "$cur"))
	if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
		__ltrim_colon_completions "$cur"
	fi
	if [ ${#COMPREPLY[@]} -eq 0 ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _warren_complete warren
`

const zshCompletion = `#compdef warren
# zsh completion for warren: source <(warren completion zsh), after compinit
_warren() {
	local -a opts
	opts=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)}")
	if [[ -n "${opts[1]}" ]]; then
		compadd -a opts
	else
		_files
	fi
}
compdef _warren warren
`

const fishCompletion = `# fish completion for warren: warren completion fish | source
function __warren_complete
	set -l tokens (commandline -opc)
	$tokens[1] __complete $tokens[2..-1] (commandline -ct) 2>/dev/null
end
complete -c warren -f -a '(__warren_complete)'
`

var completionScripts = map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "Print the shell completion script for bash, zsh or fish",
		UsageText: "warren completion bash|zsh|fish",
		Description: `Completes commands, flags, and the names of containers and images, which it
asks the running daemon for (it does not start one).

Examples:
  source <(warren completion bash)          # in ~/.bashrc
  source <(warren completion zsh)           # in ~/.zshrc, after compinit
  warren completion fish | source           # in ~/.config/fish/config.fish`,
		Action: func(c *cli.Context) error {
			if err := requireExact(c, 1); err != nil {
				return err
			}
			script, ok := completionScripts[c.Args().First()]
			if !ok {
				return statusError{status: 1, msg: fmt.Sprintf("warren: unsupported shell %q: choose bash, zsh or fish", c.Args().First())}
			}
			_, err := io.WriteString(sessionOf(c).out, script)
			return err
		},
	}
}

// nameKind is what a command's arguments name.
type nameKind int

const (
	noNames nameKind = iota
	allContainers
	runningContainers
	stoppedContainers
	images
	containersAndImages
	shells
)

// completionKinds maps a command's path to what its arguments name.
var completionKinds = map[string]nameKind{
	"start": stoppedContainers,
	"stop":  runningContainers, "kill": runningContainers, "exec": runningContainers,
	"restart": allContainers, "rm": allContainers, "logs": allContainers, "wait": allContainers, "port": allContainers,
	"inspect": containersAndImages,
	"run":     images, "create": images, "rmi": images, "save": images, "tag": images,
	"image rm": images, "image inspect": images, "image save": images, "image tag": images,
	"completion": shells,
}

// flagValues are the fixed values of flags that take one, by flag name.
var flagValues = map[string][]string{
	"network": {"bridge", "host", "none"}, "net": {"bridge", "host", "none"},
	"restart": {"no", "always", "on-failure", "unless-stopped"},
	"pull":    {"always", "missing", "never"},
}

// completeArg is the hidden command the scripts call:
// `warren __complete WORDS... CUR`, CUR being the word under the cursor
// (maybe empty). It prints one candidate a line; the shell filters them.
// warren parses the words itself: urfave/cli's own completion fails on
// half-typed flags.
const completeArg = "__complete"

// completeMain answers a completion request; names looks up the daemon's
// objects of a kind.
func completeMain(app *cli.App, out io.Writer, words []string, names func(nameKind) []string) {
	for _, c := range complete(app, words, names) {
		fmt.Fprintln(out, c)
	}
}

// complete returns the candidates for the last of words: the flags of the
// command for "-…", a value-taking flag's values after it, the subcommands
// of a command that has them, else the names the command's arguments take.
func complete(app *cli.App, words []string, names func(nameKind) []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, rest := words[len(words)-1], words[:len(words)-1]
	cmds, flags := app.Commands, app.Flags
	var cmd *cli.Command
	path := ""
	for i := 0; i < len(rest); i++ {
		w := rest[i]
		if strings.HasPrefix(w, "-") {
			if f := findFlag(flags, strings.TrimLeft(w, "-")); f != nil && takesValue(f) && !strings.Contains(w, "=") {
				i++ // its value
			}
			continue
		}
		sub := findCommand(cmds, w)
		if sub == nil {
			break // the leaf command's first argument
		}
		cmd, cmds, flags = sub, sub.Subcommands, sub.Flags
		path = strings.TrimSpace(path + " " + sub.Name)
	}
	if strings.HasPrefix(cur, "-") {
		return flagNames(flags)
	}
	if len(rest) > 0 {
		prev := rest[len(rest)-1]
		if strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") {
			name := strings.TrimLeft(prev, "-")
			if f := findFlag(flags, name); f != nil && takesValue(f) {
				vals := append([]string(nil), flagValues[name]...)
				if name == "network" || name == "net" {
					for _, n := range names(runningContainers) {
						vals = append(vals, "container:"+n)
					}
				}
				return vals
			}
		}
	}
	if cmd == nil || len(cmd.Subcommands) > 0 {
		var out []string
		for _, c := range cmds {
			if !c.Hidden {
				out = append(out, c.Names()...)
			}
		}
		return out
	}
	switch kind := completionKinds[path]; kind {
	case noNames:
		return nil
	case shells:
		return []string{"bash", "fish", "zsh"}
	default:
		return names(kind)
	}
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func flagNames(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) == 1 {
				out = append(out, "-"+n)
			} else {
				out = append(out, "--"+n)
			}
		}
	}
	return out
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	v, ok := f.(cli.DocGenerationFlag)
	return ok && v.TakesValue()
}

// completionTimeout bounds a completion's questions to the daemon: a shell
// must not hang on a stuck one.
const completionTimeout = 2 * time.Second

// daemonNames asks the daemon at socket for the names of kind; without a
// daemon there are none (completion does not start one).
func daemonNames(socket string) func(nameKind) []string {
	return func(kind nameKind) []string {
		api, err := client.New(client.WithHost("unix://"+socket), client.WithUserAgent("warren/"+version))
		if err != nil {
			return nil
		}
		defer api.Close()
		cx, cancel := context.WithTimeout(context.Background(), completionTimeout)
		defer cancel()
		var out []string
		if kind == allContainers || kind == runningContainers || kind == stoppedContainers || kind == containersAndImages {
			list, err := api.ContainerList(cx, client.ContainerListOptions{All: kind != runningContainers})
			if err == nil {
				for _, ctr := range list.Items {
					running := ctr.State == container.StateRunning
					if (kind == runningContainers && !running) || (kind == stoppedContainers && running) {
						continue
					}
					for _, n := range ctr.Names {
						out = append(out, strings.TrimPrefix(n, "/"))
					}
				}
			}
		}
		if kind == images || kind == containersAndImages {
			list, err := api.ImageList(cx, client.ImageListOptions{})
			if err == nil {
				for _, img := range list.Items {
					for _, t := range img.RepoTags {
						if t != "<none>:<none>" {
							out = append(out, t)
						}
					}
				}
			}
		}
		sort.Strings(out)
		return out
	}
}

// completionSocket is the socket a completion request asks: the global
// flags among the words win over the environment, as for a command.
func completionSocket(words []string) string {
	for i := 0; i+1 < len(words); i++ {
		for flag, env := range map[string]string{"--runtime-dir": config.EnvRuntimeDir, "--data-dir": config.EnvDataDir} {
			if words[i] == flag {
				os.Setenv(env, words[i+1])
			} else if v, ok := strings.CutPrefix(words[i], flag+"="); ok {
				os.Setenv(env, v)
			}
		}
	}
	p, err := config.DefaultPaths()
	if err != nil {
		return ""
	}
	return p.Socket()
}
