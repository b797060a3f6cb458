package image

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// importComment is what Docker writes as comment and history of an
// imported image when no message is given (the source is the request
// body, "-").
const importComment = "Imported from -"

// importConfig is the config Docker writes for `docker import`.
type importConfig struct {
	Architecture string       `json:"architecture"`
	Comment      string       `json:"comment"`
	Config       v1.Config    `json:"config"`
	Created      time.Time    `json:"created"`
	History      []v1.History `json:"history"`
	OS           string       `json:"os"`
	RootFS       v1.RootFS    `json:"rootfs"`
}

// Import makes a one-layer image from a root filesystem tarball (plain,
// gzip or zstd); ref may be "". changes are Dockerfile instructions
// (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR).
func (s *Store) Import(ctx context.Context, r io.Reader, ref string, changes []string) (*Image, error) {
	var tag reference
	if ref != "" {
		var err error
		if tag, err = parseTagTarget(ref); err != nil {
			return nil, err
		}
	}
	var cfg v1.Config
	if err := applyChanges(&cfg, changes); err != nil {
		return nil, err
	}
	blob, diffID, err := s.spoolTar(ctx, r)
	if err != nil {
		return nil, err
	}
	defer os.Remove(blob)

	created := time.Now().UTC()
	raw, err := json.Marshal(importConfig{
		Architecture: runtime.GOARCH,
		Comment:      importComment,
		Config:       cfg,
		Created:      created,
		History:      []v1.History{{Created: v1.Time{Time: created}, Comment: importComment}},
		OS:           "linux",
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}},
	})
	if err != nil {
		return nil, err
	}
	src := &imageSource{rawConfig: raw, layers: []layerSource{{
		digest:    diffID,
		mediaType: types.DockerUncompressedLayer,
		open:      func() (io.ReadCloser, error) { return os.Open(blob) },
	}}}
	id, err := s.ingest(ctx, src, nil)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if ref != "" {
		s.mu.Lock()
		_, err = s.setRefs(id, []reference{tag}, time.Time{})
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return s.Get(id)
}

// spoolTar writes the uncompressed tar of r to tmp/ and returns its path
// and digest (the layer's diffID).
func (s *Store) spoolTar(ctx context.Context, r io.Reader) (_ string, _ v1.Hash, err error) {
	rc, err := decompress(&ctxReader{ctx: ctx, r: r})
	if err != nil {
		return "", v1.Hash{}, err
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.tmpDir(), "import-")
	if err != nil {
		return "", v1.Hash{}, err
	}
	defer func() {
		f.Close()
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), rc); err != nil {
		return "", v1.Hash{}, fmt.Errorf("import: read archive: %w", err)
	}
	return f.Name(), hashOf(h), nil
}

// applyChanges applies `--change` instructions the way Docker's
// BuildFromConfig does for the instructions it allows there.
func applyChanges(cfg *v1.Config, changes []string) error {
	for _, change := range changes {
		instr, rest, _ := strings.Cut(strings.TrimSpace(change), " ")
		rest = strings.TrimSpace(rest)
		if err := applyChange(cfg, strings.ToUpper(instr), rest); err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
	}
	return nil
}

func applyChange(cfg *v1.Config, instr, rest string) error {
	switch instr {
	case "CMD":
		cfg.Cmd = commandForm(rest)
	case "ENTRYPOINT":
		cfg.Entrypoint = commandForm(rest)
	case "ENV":
		pairs, err := keyValues("ENV", rest)
		if err != nil {
			return err
		}
		for _, kv := range pairs {
			cfg.Env = setEnv(cfg.Env, kv[0], kv[1])
		}
	case "LABEL":
		pairs, err := keyValues("LABEL", rest)
		if err != nil {
			return err
		}
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range pairs {
			cfg.Labels[kv[0]] = kv[1]
		}
	case "EXPOSE":
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range strings.Fields(rest) {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			cfg.ExposedPorts[strings.ToLower(p)] = struct{}{}
		}
	case "VOLUME":
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		vols := jsonArray(rest)
		if vols == nil {
			vols = strings.Fields(rest)
		}
		for _, v := range vols {
			cfg.Volumes[v] = struct{}{}
		}
	case "WORKDIR":
		cfg.WorkingDir = rest
	case "USER":
		cfg.User = rest
	case "STOPSIGNAL":
		cfg.StopSignal = rest
	default:
		return fmt.Errorf("%s is not a valid change command", instr)
	}
	return nil
}

// commandForm is the exec form of a JSON array, else the shell form.
func commandForm(rest string) []string {
	if args := jsonArray(rest); args != nil {
		return args
	}
	return []string{"/bin/sh", "-c", rest}
}

func jsonArray(s string) []string {
	var out []string
	if !strings.HasPrefix(s, "[") || json.Unmarshal([]byte(s), &out) != nil {
		return nil
	}
	return out
}

// keyValues parses "k=v k2=\"v 2\"" or the legacy "k v with spaces".
func keyValues(instr, rest string) ([][2]string, error) {
	words := splitWords(rest)
	if len(words) == 0 {
		return nil, fmt.Errorf("%s requires at least one argument", instr)
	}
	if !strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(rest, " ")
		return [][2]string{{k, strings.TrimSpace(v)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("%s names can not be blank", instr)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// splitWords splits on blanks, honouring double and single quotes.
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, c := range s {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// setEnv replaces or appends key=value.
func setEnv(env []string, key, value string) []string {
	for i, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}
