package image

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// A layer (or an archive being loaded) is written through file
// descriptors: every path is resolved one component at a time from an fd
// of the root, the layer's own symlinks are read and interpreted as if the
// root were "/", and the kernel is never asked to follow a symlink. So
// nothing a tar entry says, nor what earlier entries left behind, can lead
// a file operation outside the root.

// maxSymlinks bounds symlink resolution, like the kernel's MAXSYMLINKS
// (40) but generous: a loop must still end.
const maxSymlinks = 255

// tree is a folder that is written beneath.
type tree struct {
	root int // O_PATH fd of the root folder
}

func openTree(dir string) (*tree, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &tree{root: fd}, nil
}

func (t *tree) close() { unix.Close(t.root) }

// folder is an open folder beneath the tree's root: its O_PATH fd and its
// path from the root with every symlink resolved.
type folder struct {
	fd    int
	canon []string
}

func (d folder) close(t *tree) {
	if d.fd != t.root {
		unix.Close(d.fd)
	}
}

func (d folder) String() string { return "/" + strings.Join(d.canon, "/") }

// openDir resolves rel to a folder beneath the root, following the tree's
// symlinks as if the root were "/" ("/x" and "../../x" stay inside). With
// mkdir, missing folders are created (0755, like Docker).
func (t *tree) openDir(rel string, mkdir bool) (folder, error) {
	stack := []int{t.root}
	var canon []string
	closeAll := func() {
		for _, fd := range stack[1:] {
			unix.Close(fd)
		}
	}
	todo := splitPath(rel)
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == ".." {
			if len(stack) > 1 {
				unix.Close(stack[len(stack)-1])
				stack, canon = stack[:len(stack)-1], canon[:len(canon)-1]
			}
			continue
		}
		cur := stack[len(stack)-1]
		fd, err := openDirAt(cur, c)
		if errors.Is(err, unix.ENOENT) && mkdir {
			if err := unix.Mkdirat(cur, c, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				closeAll()
				return folder{}, fmt.Errorf("mkdir %s: %w", "/"+path.Join(append(canon, c)...), err)
			}
			fd, err = openDirAt(cur, c)
		}
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			target, isLink, lerr := readlinkAt(cur, c)
			switch {
			case lerr != nil:
				err = lerr
			case !isLink:
				err = unix.ENOTDIR
			case links >= maxSymlinks:
				closeAll()
				return folder{}, fmt.Errorf("resolve %q: too many levels of symbolic links", rel)
			default:
				links++
				if path.IsAbs(target) {
					for _, fd := range stack[1:] {
						unix.Close(fd)
					}
					stack, canon = stack[:1], nil
				}
				todo = append(splitPath(target), todo...)
				continue
			}
		}
		if err != nil {
			closeAll()
			return folder{}, fmt.Errorf("%s: %w", "/"+path.Join(append(canon, c)...), err)
		}
		stack, canon = append(stack, fd), append(canon, c)
	}
	last := len(stack) - 1
	for _, fd := range stack[1:max(last, 1)] {
		unix.Close(fd)
	}
	return folder{fd: stack[last], canon: canon}, nil
}

// openCanon opens a folder by a path openDir returned, following no
// symlink at all: if something along it was replaced by a link, it fails.
func (t *tree) openCanon(canon []string) (folder, error) {
	cur := t.root
	for _, c := range canon {
		fd, err := openDirAt(cur, c)
		if cur != t.root {
			unix.Close(cur)
		}
		if err != nil {
			return folder{}, err
		}
		cur = fd
	}
	return folder{fd: cur, canon: canon}, nil
}

// canonical resolves rel like openDir, its last component too (a
// symlink there is followed, inside the tree), and returns the path it
// reaches from the root, free of symlinks; the last component may not
// exist.
func (t *tree) canonical(rel string) ([]string, error) {
	for links := 0; ; links++ {
		if links > maxSymlinks {
			return nil, fmt.Errorf("resolve %q: too many levels of symbolic links", rel)
		}
		base := path.Base(rel)
		if base == "." || base == ".." || base == "/" {
			d, err := t.openDir(rel, false)
			if err != nil {
				return nil, err
			}
			d.close(t)
			return d.canon, nil
		}
		parent, err := t.openDir(path.Dir(rel), false)
		if err != nil {
			return nil, err
		}
		target, isLink, err := readlinkAt(parent.fd, base)
		parent.close(t)
		switch {
		case err == nil && isLink:
			if !path.IsAbs(target) {
				target = path.Join(parent.String(), target)
			}
			rel = target
		case err == nil || errors.Is(err, unix.ENOENT):
			return append(slices.Clone(parent.canon), base), nil
		default:
			return nil, err
		}
	}
}

// openFile resolves rel like canonical and opens the regular file there
// for reading.
func (t *tree) openFile(rel string) (*os.File, error) {
	canon, err := t.canonical(rel)
	if err != nil {
		return nil, err
	}
	if len(canon) == 0 {
		return nil, fmt.Errorf("%s is a directory", rel)
	}
	parent, err := t.openCanon(canon[:len(canon)-1])
	if err != nil {
		return nil, err
	}
	defer parent.close(t)
	where := "/" + path.Join(canon...)
	fd, err := unix.Openat(parent.fd, canon[len(canon)-1], unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: where, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a regular file", where)
	}
	return os.NewFile(uintptr(fd), where), nil
}

// pinLinks rewrites every symlink under the root to where its confined
// resolution leads now, as a relative path free of symlinks, and removes
// the links that lead nowhere. After it, code that opens paths the
// ordinary way (go-containerregistry's OCI layout reader) cannot be led
// outside the tree, nor onto a device.
func (t *tree) pinLinks() error { return t.pinLinksIn(nil) }

func (t *tree) pinLinksIn(canon []string) error {
	d, err := t.openCanon(canon)
	if err != nil {
		return err
	}
	defer d.close(t)
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), d.String())
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, name := range names {
		st, err := lstatAt(d.fd, name)
		if err != nil {
			return err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if err := t.pinLinksIn(append(slices.Clone(canon), name)); err != nil {
				return err
			}
		case unix.S_IFLNK:
			if err := t.pinLink(d, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// pinLink rewrites the symlink name in d (see pinLinks).
func (t *tree) pinLink(d folder, name string) error {
	text, _, err := readlinkAt(d.fd, name)
	if err != nil {
		return err
	}
	if !path.IsAbs(text) {
		text = path.Join(d.String(), text)
	}
	target, err := t.canonical(text)
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return err
	}
	if err != nil {
		return nil // leads nowhere (a loop, a file used as a folder)
	}
	return unix.Symlinkat(relativePath(d.canon, target), d.fd, name)
}

// relativePath is the path from folder from to to, both from the root.
func relativePath(from, to []string) string {
	common := 0
	for common < len(from) && common < len(to) && from[common] == to[common] {
		common++
	}
	var parts []string
	for range from[common:] {
		parts = append(parts, "..")
	}
	parts = append(parts, to[common:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// openDirAt opens the folder name in dirfd, failing (ELOOP or ENOTDIR)
// on a symlink rather than following it.
func openDirAt(dirfd int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// readlinkAt returns name's link text if name is a symlink.
func readlinkAt(dirfd int, name string) (string, bool, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "", false, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", false, nil
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", false, err
	}
	return string(buf[:n]), true, nil
}

// lstatAt is fstatat without following a final symlink.
func lstatAt(dirfd int, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// removeAt removes name in dirfd and, for a folder, all below it, never
// following a symlink.
func removeAt(dirfd int, name string) error {
	st, err := lstatAt(dirfd, name)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unix.Unlinkat(dirfd, name, 0)
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	names, err := f.Readdirnames(-1)
	if err == nil {
		for _, n := range names {
			if err = removeAt(fd, n); err != nil {
				break
			}
		}
	}
	f.Close()
	if err != nil {
		return err
	}
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}

// chmodAt sets name's mode without following a symlink (a symlink has no
// mode of its own and is left alone).
func chmodAt(dirfd int, name string, mode uint32) error {
	err := unix.Fchmodat(dirfd, name, mode, unix.AT_SYMLINK_NOFOLLOW)
	if !errors.Is(err, unix.EOPNOTSUPP) {
		return err
	}
	// Before fchmodat2 (Linux 6.6), or for a symlink: pin the inode with
	// O_PATH and change it through /proc, which names that inode.
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil
	}
	return unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", fd), mode)
}

// splitPath splits p into its components, dropping "" and ".".
func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}
