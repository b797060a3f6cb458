package bootstrap

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// idRange is one line of /etc/subuid or /etc/subgid.
type idRange struct {
	Owner         string // user name or numeric uid, as written
	Start, Length int
}

// parseSubIDs reads a subordinate id file (`owner:start:count` lines).
// Malformed lines are skipped, as shadow-utils' newuidmap skips them.
func parseSubIDs(r io.Reader) ([]idRange, error) {
	var ranges []idRange
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 {
			continue
		}
		start, err1 := strconv.Atoi(f[1])
		n, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || start < 0 || n <= 0 {
			continue
		}
		ranges = append(ranges, idRange{Owner: f[0], Start: start, Length: n})
	}
	return ranges, s.Err()
}

// countFor sums the ids given to the user, named or by uid.
func countFor(ranges []idRange, name string, uid int) int {
	n := 0
	for _, r := range ranges {
		if r.Owner == name || r.Owner == strconv.Itoa(uid) {
			n += r.Length
		}
	}
	return n
}

// freeRange suggests 65536 ids (what a container image needs) above every
// range already given out, starting no lower than 100000 as useradd does.
func freeRange(ranges ...[]idRange) (start, end int) {
	start = 100000
	for _, rs := range ranges {
		for _, r := range rs {
			start = max(start, r.Start+r.Length)
		}
	}
	return start, start + 65535
}

// subIDFiles are the files newuidmap and newgidmap read.
var subIDFiles = [2]string{"/etc/subuid", "/etc/subgid"}

// readSubIDs parses both files; a missing file is an empty one.
func readSubIDs() (uids, gids []idRange, err error) {
	read := func(path string) ([]idRange, error) {
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		defer f.Close()
		return parseSubIDs(f)
	}
	if uids, err = read(subIDFiles[0]); err != nil {
		return nil, nil, err
	}
	if gids, err = read(subIDFiles[1]); err != nil {
		return nil, nil, err
	}
	return uids, gids, nil
}

// subIDFix is the administrator's command that gives name a free range of
// both kinds.
func subIDFix(name string, uids, gids []idRange) string {
	start, end := freeRange(uids, gids)
	return fmt.Sprintf("usermod --add-subuids %d-%d --add-subgids %d-%d %s", start, end, start, end, name)
}

// missingSubIDs is the one-line preflight error when the user has no
// subordinate uids or gids, or "" when both are there.
func missingSubIDs(name string, uid int, uids, gids []idRange) string {
	for i, rs := range [][]idRange{uids, gids} {
		if countFor(rs, name, uid) == 0 {
			return fmt.Sprintf("no subordinate ids for user %q in %s: ask an administrator to run %q",
				name, subIDFiles[i], subIDFix(name, uids, gids))
		}
	}
	return ""
}
