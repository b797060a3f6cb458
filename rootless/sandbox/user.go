package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The texts runc (and so Docker) reports for a -u it cannot resolve.
var (
	errNoPasswdEntries = errors.New("no matching entries in passwd file")
	errNoGroupEntries  = errors.New("no matching entries in group file")
)

// execUser is who the container process runs as.
type execUser struct {
	UID, GID int
	Sgids    []int
	Home     string
}

type passwdEntry struct {
	Name     string
	UID, GID int
	Home     string
}

type groupEntry struct {
	Name    string
	GID     int
	Members []string
}

// parsePasswd reads /etc/passwd text; malformed lines are skipped, as libc does.
func parsePasswd(r io.Reader) []passwdEntry {
	var out []passwdEntry
	forEachLine(r, func(f []string) {
		if len(f) < 6 {
			return
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return
		}
		out = append(out, passwdEntry{Name: f[0], UID: uid, GID: gid, Home: f[5]})
	})
	return out
}

// parseGroup reads /etc/group text.
func parseGroup(r io.Reader) []groupEntry {
	var out []groupEntry
	forEachLine(r, func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			return
		}
		g := groupEntry{Name: f[0], GID: gid}
		if len(f) > 3 && f[3] != "" {
			g.Members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	})
	return out
}

func forEachLine(r io.Reader, fn func(fields []string)) {
	if r == nil {
		return
	}
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fn(strings.Split(line, ":"))
	}
}

// resolveUser turns a Docker -u value ("", "uid", "uid:gid", "name",
// "name:group", "uid:group", ...) into ids, following runc's GetExecUser:
// numeric ids need not exist, names must; supplementary groups come from
// the group file only when no group is given explicitly. A nil reader is a
// missing file.
func resolveUser(spec string, passwd, group io.Reader) (execUser, error) {
	u := execUser{Home: "/"}
	userArg, groupArg, _ := strings.Cut(spec, ":")
	uidArg, uidErr := strconv.Atoi(userArg)
	gidArg, gidErr := strconv.Atoi(groupArg)

	matched := ""
	for _, p := range parsePasswd(passwd) {
		ok := false
		switch {
		case userArg == "":
			ok = p.UID == 0
		case uidErr == nil:
			ok = p.UID == uidArg
		default:
			ok = p.Name == userArg
		}
		if ok {
			matched, u.UID, u.GID, u.Home = p.Name, p.UID, p.GID, p.Home
			break
		}
	}
	if matched == "" && userArg != "" {
		if uidErr != nil {
			return execUser{}, fmt.Errorf("unable to find user %s: %w", userArg, errNoPasswdEntries)
		}
		if uidArg < 0 {
			return execUser{}, fmt.Errorf("uid %d out of range", uidArg)
		}
		u.UID = uidArg
	}
	if groupArg == "" && matched == "" {
		return u, nil
	}

	groups := parseGroup(group)
	if groupArg != "" {
		for _, g := range groups {
			if (gidErr == nil && g.GID == gidArg) || (gidErr != nil && g.Name == groupArg) {
				u.GID = g.GID
				return u, nil
			}
		}
		if gidErr != nil {
			return execUser{}, fmt.Errorf("unable to find group %s: %w", groupArg, errNoGroupEntries)
		}
		if gidArg < 0 {
			return execUser{}, fmt.Errorf("gid %d out of range", gidArg)
		}
		u.GID = gidArg
		return u, nil
	}
	for _, g := range groups {
		for _, m := range g.Members {
			if m == matched {
				u.Sgids = append(u.Sgids, g.GID)
				break
			}
		}
	}
	return u, nil
}

// additionalGroups is --group-add, as runc's GetAdditionalGroups: each
// entry is a group name in the container's group file, else a numeric id.
func additionalGroups(names []string, group io.Reader) ([]int, error) {
	if len(names) == 0 {
		return nil, nil
	}
	groups := parseGroup(group)
	var out []int
	for _, n := range names {
		gid, found := 0, false
		for _, g := range groups {
			if g.Name == n {
				gid, found = g.GID, true
				break
			}
		}
		if !found {
			id, err := strconv.Atoi(n)
			if err != nil {
				return nil, fmt.Errorf("Unable to find group %s: %w", n, errNoGroupEntries)
			}
			if id < 0 || id > maxID {
				return nil, fmt.Errorf("gid %d out of range", id)
			}
			gid = id
		}
		out = append(out, gid)
	}
	return out, nil
}

// maxID is the largest uid or gid (2^31-1, as runc's).
const maxID = 1<<31 - 1
