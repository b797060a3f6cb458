package tests

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Repositories pushed to the test registry. Each pull test gets its own, so
// that parallel tests and the two CLIs each pull something not yet present.
var registryRepos = []string{
	"test/pull-warren", "test/pull-docker",
	"test/auto-warren", "test/auto-docker",
	"test/platform-warren", "test/platform-docker",
}

// noCmdRepo holds busybox without Cmd, for the "no command specified" error.
const noCmdRepo = "test/nocmd"

// startRegistry serves an in-memory registry on 127.0.0.1 (loopback only)
// and pushes busybox to it. The server lives as long as the test binary.
func startRegistry() error {
	srv := httptest.NewServer(registryHandler())
	suite.registry = strings.TrimPrefix(srv.URL, "http://")
	img, err := tarball.ImageFromPath(filepath.Join(suite.images, "busybox.tar"), nil)
	if err != nil {
		return fmt.Errorf("read busybox.tar: %w", err)
	}
	for _, repo := range registryRepos {
		if err := push(repo, img); err != nil {
			return err
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Cmd = nil
	noCmd, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		return err
	}
	return push(noCmdRepo, noCmd)
}

func push(repo string, img v1.Image) error {
	return pushTo(suite.registry+"/"+repo+":latest", img)
}

// pushTo pushes img to a full reference on a loopback registry.
func pushTo(full string, img v1.Image) error {
	ref, err := name.ParseReference(full, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// ref names a repository of the test registry as a user would type it.
func ref(repo string) string { return suite.registry + "/" + repo }

// registryHandler is go-containerregistry's in-memory registry, quiet.
func registryHandler() http.Handler {
	return registry.New(registry.Logger(log.New(io.Discard, "", 0)))
}
