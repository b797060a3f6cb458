package image

import (
	"encoding/json"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/storage"
)

// Summary is img as GET /images/json lists it. Docker leaves Containers
// and SharedSize at -1 unless asked for disk usage.
func (s *Store) Summary(img *Image) imagetypes.Summary {
	return imagetypes.Summary{
		Containers:  -1,
		Created:     img.Created.Unix(),
		ID:          img.ID,
		Labels:      img.Config.Config.Labels,
		RepoDigests: nonNil(img.RepoDigests),
		RepoTags:    nonNil(img.RepoTags),
		SharedSize:  -1,
		Size:        img.Size,
	}
}

// Inspect is img as GET /images/{name}/json shows it.
func (s *Store) Inspect(img *Image) imagetypes.InspectResponse {
	cfg := img.Config
	resp := imagetypes.InspectResponse{
		ID:           img.ID,
		RepoTags:     nonNil(img.RepoTags),
		RepoDigests:  nonNil(img.RepoDigests),
		Comment:      img.Comment,
		Author:       cfg.Author,
		Config:       dockerConfig(cfg.Config),
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		OsVersion:    cfg.OSVersion,
		Size:         img.Size,
		GraphDriver:  graphDriver(img.Layers),
		RootFS:       imagetypes.RootFS{Type: "layers"},
		Metadata:     imagetypes.Metadata{LastTagTime: img.LastTagTime},
	}
	if !img.Created.IsZero() {
		resp.Created = img.Created.UTC().Format(time.RFC3339Nano)
	}
	if cfg.RootFS.Type != "" {
		resp.RootFS.Type = cfg.RootFS.Type
	}
	for _, d := range cfg.RootFS.DiffIDs {
		resp.RootFS.Layers = append(resp.RootFS.Layers, d.String())
	}
	return resp
}

// dockerConfig converts the image's container config to the API type.
// Both spell their JSON the same (Docker's container config keys), so a
// JSON round trip keeps every field, including ones one side lacks.
func dockerConfig(c any) *dockerspec.DockerOCIImageConfig {
	data, err := json.Marshal(c)
	if err != nil {
		return &dockerspec.DockerOCIImageConfig{}
	}
	var out dockerspec.DockerOCIImageConfig
	if err := json.Unmarshal(data, &out); err != nil {
		return &dockerspec.DockerOCIImageConfig{}
	}
	return &out
}

// graphDriver describes the layer folders the way Docker's overlay2
// driver does: the top layer as UpperDir, the rest (top first) as LowerDir.
func graphDriver(layers []string) *storage.DriverData {
	data := map[string]string{}
	if n := len(layers); n > 0 {
		data["UpperDir"] = layers[n-1]
		lower := make([]string, 0, n-1)
		for i := n - 2; i >= 0; i-- {
			lower = append(lower, layers[i])
		}
		if len(lower) > 0 {
			data["LowerDir"] = strings.Join(lower, ":")
		}
	}
	return &storage.DriverData{Name: "overlay2", Data: data}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
