package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// setUsageErrors makes flag errors of c and its subcommands read like the
// docker CLI's (cobra/pflag) ones, with exit status 125.
func setUsageErrors(c *cli.Command, parent string) {
	full := parent + " " + c.Name
	if c.OnUsageError == nil {
		c.OnUsageError = usageError(full, usageLine(c, full))
	}
	for _, sub := range c.Subcommands {
		setUsageErrors(sub, full)
	}
}

// usageLine is the "Usage:" line of a command: its UsageText, or the name
// with its ArgsUsage.
func usageLine(c *cli.Command, full string) string {
	if c.UsageText != "" {
		return c.UsageText
	}
	return strings.TrimSpace(full + " " + c.ArgsUsage)
}

func usageError(full, usage string) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		return statusError{
			status: 125,
			msg:    fmt.Sprintf("%s\n\nUsage:  %s\n\nRun '%s --help' for more information", pflagText(err.Error()), usage, full),
		}
	}
}

// pflagText rewrites Go flag package errors into pflag's wording, which is
// what docker users see.
func pflagText(msg string) string {
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown " + flagRef(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return "flag needs an argument: " + strings.TrimPrefix(strings.TrimPrefix(flagRef(name), "shorthand flag: "), "flag: ")
	}
	return msg
}

// flagRef names a flag as pflag does: "shorthand flag: 'x' in -x" or
// "flag: --name".
func flagRef(name string) string {
	name = strings.TrimLeft(name, "-")
	if len(name) == 1 {
		return fmt.Sprintf("shorthand flag: '%s' in -%s", name, name)
	}
	return "flag: --" + name
}

// argsError is docker's text for a wrong number of arguments (exit 1).
func argsError(c *cli.Context, what, hint string) error {
	full := "warren " + commandPath(c)
	return statusError{
		status: 1,
		msg: fmt.Sprintf("warren: '%s' %s\n\nUsage:  %s\n\n%s '%s --help' for more information",
			full, what, usageLine(c.Command, full), hint, full),
	}
}

// commandPath is the command's name below the program, e.g. "image ls".
func commandPath(c *cli.Context) string {
	parts := []string{}
	for _, l := range c.Lineage() {
		if l.Command != nil && l.Command.Name != "" {
			parts = append([]string{l.Command.Name}, parts...)
		}
	}
	// The root of the lineage is the app itself.
	return strings.TrimPrefix(strings.Join(parts, " "), c.App.Name+" ")
}

func plural(n int) string {
	if n == 1 {
		return "argument"
	}
	return "arguments"
}

// requireMin, requireExact, requireRange and requireNone are docker's
// argument checks (c:cli/required.go).
func requireMin(c *cli.Context, n int) error {
	if c.NArg() >= n {
		return nil
	}
	return argsError(c, fmt.Sprintf("requires at least %d %s", n, plural(n)), "See")
}

func requireExact(c *cli.Context, n int) error {
	if c.NArg() == n {
		return nil
	}
	return argsError(c, fmt.Sprintf("requires %d %s", n, plural(n)), "Run")
}

func requireRange(c *cli.Context, lo, hi int) error {
	if c.NArg() >= lo && c.NArg() <= hi {
		return nil
	}
	return argsError(c, fmt.Sprintf("requires at least %d and at most %d %s", lo, hi, plural(hi)), "Run")
}

func requireNone(c *cli.Context) error {
	if c.NArg() == 0 {
		return nil
	}
	return argsError(c, "accepts no arguments", "Run")
}
