package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func fakeNames(kind nameKind) []string {
	switch kind {
	case runningContainers:
		return []string{"web"}
	case stoppedContainers:
		return []string{"job"}
	case allContainers:
		return []string{"job", "web"}
	case images:
		return []string{"busybox:latest"}
	case containersAndImages:
		return []string{"busybox:latest", "job", "web"}
	}
	return nil
}

func TestComplete(t *testing.T) {
	app := newApp(&session{})
	tests := []struct {
		words      []string
		want, not  []string
		wantNoneOf bool
	}{
		{words: []string{""}, want: []string{"run", "ps", "image", "system", "setup", "completion"}, not: []string{"__complete", "help"}},
		{words: []string{"st"}, want: []string{"start", "stop"}},
		{words: []string{"stop", ""}, want: []string{"web"}, not: []string{"job"}},
		{words: []string{"start", ""}, want: []string{"job"}, not: []string{"web"}},
		{words: []string{"rm", "-f", ""}, want: []string{"job", "web"}},
		{words: []string{"exec", "-it", ""}, want: []string{"web"}},
		{words: []string{"rmi", ""}, want: []string{"busybox:latest"}},
		{words: []string{"run", "-d", ""}, want: []string{"busybox:latest"}},
		{words: []string{"run", "--network", ""}, want: []string{"bridge", "host", "none", "container:web"}, not: []string{"busybox:latest"}},
		{words: []string{"run", "--restart", ""}, want: []string{"always", "unless-stopped"}},
		{words: []string{"run", "--name", ""}, wantNoneOf: true},
		{words: []string{"ps", "--al"}, want: []string{"--all", "-a", "--format"}},
		{words: []string{"image", ""}, want: []string{"ls", "list", "rm", "inspect"}, not: []string{"help"}},
		{words: []string{"image", "rm", ""}, want: []string{"busybox:latest"}},
		{words: []string{"image", "ls", "-"}, want: []string{"--all", "--quiet"}},
		{words: []string{"--data-dir", "/x", "stop", ""}, want: []string{"web"}},
		{words: []string{"--data-dir=/x", "st"}, want: []string{"start"}},
		{words: []string{"-"}, want: []string{"--data-dir", "--runtime-dir"}},
		{words: []string{"system", ""}, want: []string{"info", "reset"}},
		{words: []string{"system", "reset", "-"}, want: []string{"--force", "-f"}},
		{words: []string{"completion", ""}, want: []string{"bash", "zsh", "fish"}},
		{words: []string{"ps", ""}, wantNoneOf: true},
		{words: []string{"inspect", ""}, want: []string{"busybox:latest", "job", "web"}},
		{words: nil, want: []string{"run"}},
	}
	for _, tt := range tests {
		got := complete(app, tt.words, fakeNames)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("complete(%q) = %q, missing %q", tt.words, got, w)
			}
		}
		for _, n := range tt.not {
			if slices.Contains(got, n) {
				t.Errorf("complete(%q) = %q, should not offer %q", tt.words, got, n)
			}
		}
		if tt.wantNoneOf && len(got) != 0 {
			t.Errorf("complete(%q) = %q, want nothing", tt.words, got)
		}
	}
}

func TestCompletionScriptsCallWarren(t *testing.T) {
	for shell, script := range completionScripts {
		if !strings.Contains(script, completeArg) {
			t.Errorf("%s script does not call warren %s", shell, completeArg)
		}
	}
}

// Every command, at every level, has a one-line summary.
func TestEveryCommandHasSummary(t *testing.T) {
	var walk func(cmds []*cli.Command, prefix string)
	walk = func(cmds []*cli.Command, prefix string) {
		for _, c := range cmds {
			path := prefix + " " + c.Name
			if c.Usage == "" || strings.Contains(c.Usage, "\n") {
				t.Errorf("%s: summary %q is not one line", path, c.Usage)
			}
			walk(c.Subcommands, path)
		}
	}
	walk(newApp(&session{}).Commands, "warren")
}

func TestFlagHelp(t *testing.T) {
	tests := []struct {
		flag cli.Flag
		want string
	}{
		{&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "Show all"}, "-a, --all\tShow all"},
		{&cli.StringFlag{Name: "format", Usage: "Format output"}, "    --format string\tFormat output"},
		{&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "Show n last"}, "-n, --last int\tShow n last (default -1)"},
		{&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "Set variables"}, "-e, --env list\tSet variables"},
		{&cli.StringFlag{Name: "data-dir", Usage: "Data", EnvVars: []string{"WARREN_DATA_DIR"}}, "    --data-dir string\tData ($WARREN_DATA_DIR)"},
	}
	for _, tt := range tests {
		if got := flagHelp(tt.flag); got != tt.want {
			t.Errorf("flagHelp(%s) = %q, want %q", tt.flag.Names()[0], got, tt.want)
		}
	}
}

// Help is asked with --help, with the help command, and for a command.
func TestHelpRequests(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"warren", "--help"}, "Usage:  warren [OPTIONS] COMMAND\n\nRun Docker-style containers without root\n"},
		{[]string{"warren", "help"}, "Usage:  warren [OPTIONS] COMMAND\n"},
		{[]string{"warren", "help", "ps"}, "Usage:  warren ps [OPTIONS]\n\nList containers\n"},
		{[]string{"warren", "ps", "--help"}, "Usage:  warren ps [OPTIONS]\n\nList containers\n"},
		{[]string{"warren", "system", "--help"}, "Usage:  warren system COMMAND\n\nManage warren\n"},
	} {
		var out, errOut bytes.Buffer
		s := &session{streams: streams{out: &out, err: &errOut}}
		if err := newApp(s).Run(tt.args); err != nil {
			t.Errorf("%q: %v %s", tt.args, err, errOut.String())
			continue
		}
		if !strings.HasPrefix(out.String(), tt.want) {
			t.Errorf("%q printed:\n%s\nwant it to begin with:\n%s", tt.args, out.String(), tt.want)
		}
	}
}

func TestResettable(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	mk := func(names ...string) string {
		d := t.TempDir()
		for _, n := range names {
			if err := os.Mkdir(filepath.Join(d, n), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	known := warrenEntries[0]
	for _, tt := range []struct {
		name, dir string
		ok        bool
	}{
		{"missing", filepath.Join(home, "nothing-here"), true},
		{"empty", mk(), true},
		{"warren's", mk("images", "containers", "other"), true},
		{"someone else's", mk("Documents", "src"), false},
		{"the home folder", home, false},
		{"above the home folder", filepath.Dir(home), false},
		{"root", "/", false},
	} {
		if err := resettable(tt.dir, known); (err == nil) != tt.ok {
			t.Errorf("%s (%s): %v, want ok=%v", tt.name, tt.dir, err, tt.ok)
		}
	}
}
