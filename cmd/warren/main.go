// Command warren runs Docker-style containers without root.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"warren/rootless/bootstrap"
	"warren/rootless/sandbox"
	"warren/rootless/wire"
)

func main() {
	// Hidden re-exec entry points come first: a container's init must not pay
	// for building the CLI.
	if filepath.Base(os.Args[0]) == "docker-init" {
		sandbox.DockerInitMain(os.Args[1:])
	}
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "__init":
			sandbox.InitMain()
		case "__exec":
			sandbox.ExecMain()
		case bootstrap.RemoveArg:
			bootstrap.RemoveMain(os.Args[2:])
		case "__engine":
			if err := wire.Main(os.Args[2:]); err != nil {
				fmt.Fprintln(os.Stderr, "warren engine:", err)
				os.Exit(1)
			}
			return
		}
	}
	if bootstrap.IsActivationHelper() {
		bootstrap.ActivationHelperMain()
	}
	if bootstrap.IsChild() {
		bootstrap.ChildMain()
	}
	os.Exit(runCLI(os.Args))
}
