package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"

	"warren/internal/config"
	"warren/rootless/bootstrap"
	"warren/rootless/engine"
)

// version is the engine's: one binary holds both CLI and daemon.
var version = engine.Version

// streams are the CLI's standard streams; tests swap them for buffers.
type streams struct {
	in  io.ReadCloser
	out io.Writer
	err io.Writer
}

// session is what every command needs: the streams, the daemon paths from
// the global flags, and a lazily connected API client.
type session struct {
	streams
	paths config.Paths
	api   *client.Client
	// notFound is set when the first argument names no command.
	notFound error
	// missed names the endpoint of a 404 "page not found".
	missed missedEndpoint
	// ensureDaemon starts the daemon when it is not running; tests replace
	// it to talk to a fake Engine API.
	ensureDaemon func(config.Paths) error
}

// sessionKey stores the session in the urfave/cli app metadata.
const sessionKey = "session"

func runCLI(args []string) int {
	s := &session{streams: streams{in: os.Stdin, out: os.Stdout, err: os.Stderr}, ensureDaemon: bootstrap.EnsureDaemon}
	app := newApp(s)
	if len(args) > 1 && args[1] == completeArg {
		completeMain(app, s.out, args[2:], daemonNames(completionSocket(args[2:])))
		return 0
	}
	// The first SIGINT or SIGTERM cancels the command's context (c.Context),
	// so that a pull or a wait stops cleanly; the next one kills as usual,
	// as with the docker CLI.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	err := app.RunContext(ctx, args)
	if s.api != nil {
		s.api.Close()
	}
	if err == nil {
		err = s.notFound
	}
	return report(s.err, s.explain(err))
}

// explain rewrites a failed connection into docker's sentence about the
// daemon, naming warren's socket.
func (s *session) explain(err error) error {
	if err == nil {
		return nil
	}
	if !client.IsErrConnectionFailed(err) {
		return s.missed.explain(err)
	}
	return fmt.Errorf("Cannot connect to the warren daemon at unix://%s. Is the warren daemon running?", s.paths.Socket())
}

// newApp builds the command tree. Short options combine (-it, -dP) and
// slice flags keep commas (-e A=1,2) as the docker CLI does.
func newApp(s *session) *cli.App {
	// -h is --hostname for run/create, as in docker; help is --help only.
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "Print usage"}
	// `docker --version` prints one line and quits; so does warren's.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "Print version information and quit"}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "warren version %s, build %s\n", version, gitCommit)
	}
	app := &cli.App{
		Name:                      "warren",
		Usage:                     "Run Docker-style containers without root",
		Version:                   version,
		UseShortOptionHandling:    true,
		DisableSliceFlagSeparator: true,
		Writer:                    s.out,
		ErrWriter:                 s.err,
		Metadata:                  map[string]any{sessionKey: s},
		// Errors are printed once, by report, with Docker's exit statuses.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError("warren", "warren [OPTIONS] COMMAND"),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "runtime-dir", Usage: "Directory for the daemon socket and runtime state", EnvVars: []string{config.EnvRuntimeDir}},
			&cli.StringFlag{Name: "data-dir", Usage: "Directory for images and containers", EnvVars: []string{config.EnvDataDir}},
		},
		Before: s.setup,
		CommandNotFound: func(_ *cli.Context, name string) {
			s.notFound = statusError{status: 1, msg: fmt.Sprintf(
				"warren: unknown command: warren %s\n\nRun 'warren --help' for more information", name)}
		},
		Commands: commands(),
	}
	for _, c := range app.Commands {
		setUsageErrors(c, "warren")
	}
	setHelp(app)
	return app
}

// setup resolves the daemon paths from the environment and global flags.
func (s *session) setup(c *cli.Context) error {
	p, err := config.DefaultPaths()
	if err != nil {
		return err
	}
	// The flags are exported to the environment so that `warren daemon`,
	// and a daemon started in the background, use the same folders.
	if d := c.String("runtime-dir"); d != "" {
		p.RuntimeDir = d
		if err := os.Setenv(config.EnvRuntimeDir, d); err != nil {
			return fmt.Errorf("set %s: %w", config.EnvRuntimeDir, err)
		}
	}
	if d := c.String("data-dir"); d != "" {
		p.DataDir = d
		if err := os.Setenv(config.EnvDataDir, d); err != nil {
			return fmt.Errorf("set %s: %w", config.EnvDataDir, err)
		}
	}
	s.paths = p
	return nil
}

func commands() []*cli.Command {
	return []*cli.Command{
		runCommand(), createCommand(), startCommand(), attachCommand(), stopCommand(), restartCommand(),
		killCommand(), rmCommand(), updateCommand(), psCommand(), inspectCommand(), logsCommand(),
		execCommand(), waitCommand(), portCommand(), containerCommand(),
		imagesCommand(), imageCommand(), loadCommand(), saveCommand(), importCommand(),
		pullCommand(), tagCommand(), rmiCommand(),
		eventsCommand(), versionCommand(), infoCommand(), systemCommand(), daemonCommand(),
		setupCommand(), completionCommand(),
	}
}

// sessionOf returns the session stored in the app.
func sessionOf(c *cli.Context) *session {
	return c.App.Metadata[sessionKey].(*session)
}

// client starts the daemon if needed and connects to its socket.
func (s *session) client() (*client.Client, error) {
	if s.api != nil {
		return s.api, nil
	}
	if err := s.ensureDaemon(s.paths); err != nil {
		return nil, err
	}
	api, err := client.New(
		client.WithHost("unix://"+s.paths.Socket()),
		client.WithUserAgent("warren/"+version),
		client.WithHTTPResponseHook(s.missed.hook),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to the warren daemon: %w", err)
	}
	s.api = api
	return api, nil
}

// apiClient is the common prologue of the commands: the session and its
// connected client.
func apiClient(c *cli.Context) (*session, *client.Client, error) {
	s := sessionOf(c)
	api, err := s.client()
	if err != nil {
		return nil, nil, err
	}
	return s, api, nil
}

// statusError is an error with the exit status the docker CLI uses for it.
// An empty message prints nothing (the command already said what failed).
type statusError struct {
	status int
	msg    string
}

func (e statusError) Error() string { return e.msg }

// report prints err as the docker CLI does and returns the exit status.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var se statusError
	if errors.As(err, &se) {
		if se.msg != "" {
			fmt.Fprintln(stderr, se.msg)
		}
		if se.status == 0 {
			return 1
		}
		return se.status
	}
	var ee cli.ExitCoder
	if errors.As(err, &ee) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, msg)
		}
		return ee.ExitCode()
	}
	fmt.Fprintln(stderr, err)
	return 1
}

// withHelp formats an error of run/create as docker does: prefixed with the
// program name and followed by the help hint, with the exit status docker
// derives from the daemon's message (125, 126 or 127).
func withHelp(cmd string, err error) error {
	if err == nil {
		return nil
	}
	var se statusError
	if errors.As(err, &se) {
		return err
	}
	return statusError{status: runExitStatus(err.Error()), msg: helpText(cmd, err)}
}

// invalidFlags reports a client-side option error of run/create: always 125,
// even when the text mentions a missing file (docker maps only daemon errors).
func invalidFlags(cmd string, err error) error {
	return statusError{status: 125, msg: helpText(cmd, err)}
}

func helpText(cmd string, err error) string {
	return fmt.Sprintf("warren: %s\n\nRun 'warren %s --help' for more information", err, cmd)
}

// runExitStatus maps a failed run/create/start to docker's exit status: 126
// when the command cannot be invoked, 127 when it cannot be found, 125 for
// everything else (c:cli/command/container/run.go).
func runExitStatus(msg string) int {
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"),
		strings.Contains(msg, "system cannot find the file specified"):
		return 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"):
		return 126
	default:
		return 125
	}
}
