package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// parseSecurityOpts is the docker CLI's: every option needs a value but
// no-new-privileges, and seccomp=FILE sends the file's JSON, compacted;
// "builtin" and "unconfined" are names the daemon knows.
func parseSecurityOpts(opts []string) ([]string, error) {
	out := make([]string, 0, len(opts))
	for _, opt := range opts {
		k, v, ok := strings.Cut(opt, "=")
		if !ok && k != "no-new-privileges" {
			k, v, ok = strings.Cut(opt, ":")
		}
		if (!ok || v == "") && k != "no-new-privileges" {
			return nil, fmt.Errorf("Invalid --security-opt: %q", opt) // the docker CLI v28 capitalises it
		}
		if k == "seccomp" && v != "builtin" && v != "unconfined" {
			f, err := os.ReadFile(v)
			if err != nil {
				return nil, fmt.Errorf("opening seccomp profile (%s) failed: %w", v, err)
			}
			var b bytes.Buffer
			if err := json.Compact(&b, f); err != nil {
				return nil, fmt.Errorf("compacting json for seccomp profile (%s) failed: %w", v, err)
			}
			opt = "seccomp=" + b.String()
		}
		out = append(out, opt)
	}
	return out, nil
}

// parseSystemPaths takes systempaths=unconfined out of the options, as the
// docker CLI does: it is sent as empty masked and read-only path lists.
func parseSystemPaths(opts []string) (filtered, masked, readonly []string) {
	filtered = opts[:0]
	for _, opt := range opts {
		if opt == "systempaths=unconfined" {
			masked, readonly = []string{}, []string{}
			continue
		}
		filtered = append(filtered, opt)
	}
	return filtered, masked, readonly
}
