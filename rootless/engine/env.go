package engine

import (
	"slices"
	"strings"
)

// defaultPath is Docker's PATH for Linux containers (system.DefaultPathEnv).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// mergeEnv is Docker's create-time merge: the container's entries first,
// then each image entry whose key the container did not set.
func mergeEnv(imageEnv, userEnv []string) []string {
	if len(userEnv) == 0 {
		return append([]string{}, imageEnv...)
	}
	out := append([]string{}, userEnv...)
	for _, ie := range imageEnv {
		key, _, _ := splitKV(ie)
		found := false
		for _, ue := range userEnv {
			if k, _, _ := splitKV(ue); k == key {
				found = true
				break
			}
		}
		if !found {
			out = append(out, ie)
		}
	}
	return out
}

// processEnv is Docker's final env of a container's process
// (CreateDaemonEnvironment): PATH, HOSTNAME, TERM with a tty, the link
// variables, then the container's env replacing or appending.
func processEnv(hostname string, tty bool, linkEnv, cfgEnv []string) []string {
	env := []string{"PATH=" + defaultPath, "HOSTNAME=" + hostname}
	if tty {
		env = append(env, "TERM=xterm")
	}
	env = append(env, linkEnv...)
	return dedupEnv(replaceOrAppendEnv(env, cfgEnv))
}

// dedupEnv keeps the last of each key, where it stands, as runc does
// before exec: `--env-file f -e K=flag` gives K=flag only.
func dedupEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		k, _, _ := strings.Cut(env[i], "=")
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, env[i])
	}
	slices.Reverse(out)
	return out
}

// replaceOrAppendEnv is Docker's ReplaceOrAppendEnvValues: each override
// replaces the same key of defaults in place or is appended; a bare "KEY"
// deletes it.
func replaceOrAppendEnv(defaults, overrides []string) []string {
	out := append([]string{}, defaults...)
	index := map[string]int{}
	for i, e := range out {
		k, _, _ := splitKV(e)
		index[k] = i
	}
	for _, o := range overrides {
		k, _, hasValue := splitKV(o)
		i, exists := index[k]
		switch {
		case !hasValue && exists:
			out[i] = "" // dropped below
		case !hasValue:
		case exists:
			out[i] = o
		default:
			// Like Docker, appended keys are not indexed: an override list
			// that repeats a new key keeps both.
			out = append(out, o)
		}
	}
	return slices.DeleteFunc(out, func(e string) bool { return e == "" })
}

// execEnv is the env of an exec (Docker's exec create): the container's
// process env, with TERM from the exec's own tty, then the exec's entries.
func execEnv(hostname string, tty bool, linkEnv, cfgEnv, extra []string) []string {
	return dedupEnv(replaceOrAppendEnv(processEnv(hostname, tty, linkEnv, cfgEnv), extra))
}
