// Package treesnap records a folder tree's metadata and content hashes so
// that a test can show that something (a hostile layer, say) left a canary
// tree as it was. It is for tests only.
package treesnap

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Take records every path under root with its type, mode, owner, size,
// mtime and content hash, without following symlinks. A path in skip is
// recorded as "(layer)" and not entered: it is where the change under
// test may write. A path that cannot be read is recorded with its error,
// since a folder made untraversable is a change too.
func Take(root string, skip ...string) map[string]string {
	out := map[string]string{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		for _, s := range skip {
			if p == s {
				out[p] = "(layer)"
				return filepath.SkipDir
			}
		}
		if err != nil {
			out[p] = "error: " + err.Error()
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			out[p] = "error: " + err.Error()
			return nil
		}
		st := fi.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%v uid=%d gid=%d size=%d mtime=%d", fi.Mode(), st.Uid, st.Gid, fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			line += fmt.Sprintf(" sha256=%x err=%v", sha256.Sum256(data), err)
		}
		out[p] = line
		return nil
	})
	return out
}

// Diff lists, a line each, the paths removed, changed and new from
// before to after; "" when the two are the same.
func Diff(before, after map[string]string) string {
	var b strings.Builder
	for p, was := range before {
		if now, ok := after[p]; !ok {
			fmt.Fprintf(&b, "removed %s (%s)\n", p, was)
		} else if now != was {
			fmt.Fprintf(&b, "changed %s: %s → %s\n", p, was, now)
		}
	}
	for p, now := range after {
		if _, ok := before[p]; !ok {
			fmt.Fprintf(&b, "new %s (%s)\n", p, now)
		}
	}
	return b.String()
}
