package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// OCI whiteout names (image-spec layer.md) and the overlayfs forms they
// become: a 0/0 character device hides a lower file, the opaque xattr
// (user.* because the engine mounts overlay with "userxattr") hides a
// lower folder's contents.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	opaqueXattr    = "user.overlay.opaque"
)

// whiteout is what a tar entry's base name asks for.
type whiteout int

const (
	notWhiteout whiteout = iota
	whiteoutFile
	whiteoutDir // opaque: hide everything below in lower layers
)

// classifyWhiteout tells whether base is an OCI whiteout, and which name
// it hides for a file whiteout.
func classifyWhiteout(base string) (whiteout, string) {
	switch {
	case base == whiteoutOpaque:
		return whiteoutDir, ""
	case strings.HasPrefix(base, whiteoutPrefix) && len(base) > len(whiteoutPrefix):
		return whiteoutFile, base[len(whiteoutPrefix):]
	default:
		return notWhiteout, ""
	}
}

// entryPath cleans a tar entry name into a path relative to the layer
// root, refusing names that leave it ("../x", "/etc/passwd").
func entryPath(entry string) (string, error) {
	clean := path.Clean(entry)
	if path.IsAbs(entry) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", refuse("refusing layer entry %q: path escapes the layer", entry)
	}
	return clean, nil
}

// dirMeta is a folder's mode and times, applied after its contents are
// written (writing children changes the mtime; a 0555 folder would refuse
// them when not privileged). dev and ino tell whether the folder is still
// the one the entry made: a later entry may have replaced it, by a
// symlink to anywhere for instance.
type dirMeta struct {
	canon    []string
	dev, ino uint64
	mode     fs.FileMode
	mtime    time.Time
}

// unpacker writes one uncompressed layer tar beneath a root folder.
type unpacker struct {
	t      *tree
	isRoot bool // running as uid 0: ownership failures are real errors
	dirs   []dirMeta
	dirAt  map[[2]uint64]int // dev, ino → index in dirs: a repeated folder's last entry wins
	size   int64             // bytes of regular files, Docker's layer size
}

// unpackLayer writes the layer tar r into the existing folder root and
// returns the layer's size (sum of its regular files). It reads r to its
// end, so that a compressed stream's checksum is verified.
func unpackLayer(r io.Reader, root string) (int64, error) {
	t, err := openTree(root)
	if err != nil {
		return 0, err
	}
	defer t.close()
	u := &unpacker{t: t, isRoot: os.Geteuid() == 0, dirAt: map[[2]uint64]int{}}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read layer: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return 0, err
		}
	}
	// Past the end-of-archive blocks: the padding, and a compressed
	// stream's trailer (gzip checks its CRC and size only at EOF).
	if _, err := io.Copy(io.Discard, r); err != nil {
		return 0, fmt.Errorf("read layer: %w", err)
	}
	// Children first: a folder's own times go last.
	for i := len(u.dirs) - 1; i >= 0; i-- {
		if err := u.dirMeta(u.dirs[i]); err != nil {
			return 0, err
		}
	}
	return u.size, nil
}

// dirMeta applies a folder's deferred mode and times if the folder is
// still there, reached without following any symlink.
func (u *unpacker) dirMeta(m dirMeta) error {
	d, err := u.t.openCanon(m.canon)
	if err != nil {
		return nil // replaced by a later entry, which brought its own metadata
	}
	defer d.close(u.t)
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return err
	}
	if st.Dev != m.dev || st.Ino != m.ino {
		return nil
	}
	if err := unix.Fchmodat(d.fd, ".", unixMode(m.mode), 0); err != nil {
		return fmt.Errorf("chmod %s: %w", d, err)
	}
	return setTimes(d.fd, ".", m.mtime)
}

// entry writes one tar entry.
func (u *unpacker) entry(hdr *tar.Header, body io.Reader) error {
	rel, err := entryPath(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		if hdr.Typeflag != tar.TypeDir {
			return refuse("refusing layer entry %q: the layer root must be a folder", hdr.Name)
		}
		if err := u.owner(u.t.root, ".", hdr); err != nil {
			return err
		}
		return u.recordDir(folder{fd: u.t.root}, ".", hdr)
	}
	parent, err := u.t.openDir(path.Dir(rel), true)
	if err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	defer parent.close(u.t)
	base := path.Base(rel)
	switch kind, hidden := classifyWhiteout(base); kind {
	case whiteoutDir:
		return u.opaque(parent)
	case whiteoutFile:
		if hidden == "." || hidden == ".." {
			return refuse("refusing layer entry %q: path escapes the layer", hdr.Name)
		}
		return u.whiteout(parent, hidden, hdr)
	}
	if err := u.clear(parent.fd, base, hdr.Typeflag == tar.TypeDir); err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	if err := u.create(parent, base, hdr, body); err != nil {
		var refused *refusal
		if errors.As(err, &refused) {
			return err
		}
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	return nil
}

// clear removes what is at name unless both it and the entry are folders
// (a later entry for an existing folder only updates it).
func (u *unpacker) clear(dirfd int, name string, isDir bool) error {
	st, err := lstatAt(dirfd, name)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	if isDir && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return nil
	}
	return removeAt(dirfd, name)
}

// create makes the file, folder, link or node hdr describes as name in
// parent.
func (u *unpacker) create(parent folder, name string, hdr *tar.Header, body io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(parent.fd, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
		if err := u.owner(parent.fd, name, hdr); err != nil {
			return err
		}
		return u.recordDir(parent, name, hdr)
	case tar.TypeReg: // the reader reports old TypeRegA entries as TypeReg
		if err := u.writeFile(parent.fd, name, hdr, body); err != nil {
			return err
		}
		u.size += hdr.Size
		return nil
	case tar.TypeSymlink:
		// The link text is kept as is: it is only ever followed inside a
		// container's root or by tree.openDir, both confined.
		if err := unix.Symlinkat(hdr.Linkname, parent.fd, name); err != nil {
			return err
		}
		if err := u.owner(parent.fd, name, hdr); err != nil {
			return err
		}
		return setTimes(parent.fd, name, hdr.ModTime)
	case tar.TypeLink:
		return u.hardlink(parent.fd, name, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		created, err := u.node(parent.fd, name, hdr)
		if err != nil || !created {
			return err
		}
		return u.finish(parent.fd, name, hdr)
	default:
		// Docker skips what it cannot represent (sparse, GNU volume headers).
		return nil
	}
}

// recordDir notes a folder's mode and times for the end of the layer,
// with the identity of the folder they belong to.
func (u *unpacker) recordDir(parent folder, name string, hdr *tar.Header) error {
	d, err := u.t.openCanon(append(slices.Clone(parent.canon), splitPath(name)...))
	if err != nil {
		return err
	}
	defer d.close(u.t)
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return err
	}
	m := dirMeta{canon: d.canon, dev: st.Dev, ino: st.Ino, mode: hdrMode(hdr), mtime: hdr.ModTime}
	if i, ok := u.dirAt[[2]uint64{st.Dev, st.Ino}]; ok {
		u.dirs[i] = m
		return nil
	}
	u.dirAt[[2]uint64{st.Dev, st.Ino}] = len(u.dirs)
	u.dirs = append(u.dirs, m)
	return nil
}

// writeFile creates name (never following a link), fills it and applies
// the entry's metadata through the open file.
func (u *unpacker) writeFile(dirfd int, name string, hdr *tar.Header, body io.Reader) error {
	f, err := createAt(dirfd, name)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(f, body); err != nil {
		return err
	}
	// chown first: it clears set-id bits that the mode then restores.
	if err := u.ignoreUnprivileged(unix.Fchown(int(f.Fd()), hdr.Uid, hdr.Gid)); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if err := unix.Fchmod(int(f.Fd()), unixMode(hdrMode(hdr))); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	for attr, value := range xattrs(hdr) {
		_ = unix.Fsetxattr(int(f.Fd()), attr, []byte(value), 0)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return setTimes(dirfd, name, hdr.ModTime)
}

// createAt creates name in dirfd for writing; it must not exist.
func createAt(dirfd int, name string) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// finish applies owner, mode, xattrs and times to a node: chown first, as
// it clears set-id bits that the mode then restores.
func (u *unpacker) finish(dirfd int, name string, hdr *tar.Header) error {
	if err := u.owner(dirfd, name, hdr); err != nil {
		return err
	}
	if err := chmodAt(dirfd, name, unixMode(hdrMode(hdr))); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	for attr, value := range xattrs(hdr) {
		// /proc/self/fd/N is the folder itself; the name is not followed.
		_ = unix.Lsetxattr(fmt.Sprintf("/proc/self/fd/%d/%s", dirfd, name), attr, []byte(value), 0)
	}
	return setTimes(dirfd, name, hdr.ModTime)
}

// hardlink links name to an earlier entry of this layer; a link name
// that leaves the layer is refused.
func (u *unpacker) hardlink(dirfd int, name string, hdr *tar.Header) error {
	rel, err := entryPath(hdr.Linkname)
	if err != nil || rel == "." {
		return refuse("refusing layer entry %q: hardlink target %q escapes the layer", hdr.Name, hdr.Linkname)
	}
	src, err := u.t.openDir(path.Dir(rel), false)
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
	}
	defer src.close(u.t)
	// Without AT_SYMLINK_FOLLOW a symlink is linked itself, not its target.
	if err := unix.Linkat(src.fd, path.Base(rel), dirfd, name, 0); err != nil {
		return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
	}
	return nil
}

// node makes a device or fifo. Device nodes need privileges the user
// namespace may lack; Docker's rootless mode skips them too.
func (u *unpacker) node(dirfd int, name string, hdr *tar.Header) (bool, error) {
	mode := uint32(hdrMode(hdr).Perm())
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode |= unix.S_IFCHR
	case tar.TypeBlock:
		mode |= unix.S_IFBLK
	case tar.TypeFifo:
		mode |= unix.S_IFIFO
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	err := unix.Mknodat(dirfd, name, mode, int(dev))
	if errors.Is(err, unix.EPERM) && hdr.Typeflag != tar.TypeFifo {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mknod: %w", err)
	}
	return true, nil
}

// whiteout hides name in lower layers with overlayfs's 0/0 char device.
func (u *unpacker) whiteout(parent folder, name string, hdr *tar.Header) error {
	if err := removeAt(parent.fd, name); err != nil {
		return fmt.Errorf("whiteout %q: %w", hdr.Name, err)
	}
	if err := unix.Mknodat(parent.fd, name, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("whiteout %q: mknod: %w", hdr.Name, err)
	}
	return u.owner(parent.fd, name, hdr)
}

// opaque marks the folder so overlayfs hides the lower layers' contents
// of it. xattrs need a real fd: "." reopens the folder itself.
func (u *unpacker) opaque(d folder) error {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		err = unix.Fsetxattr(fd, opaqueXattr, []byte("y"), 0)
		unix.Close(fd)
	}
	if err != nil {
		return fmt.Errorf("opaque whiteout %s: %w", d, err)
	}
	return nil
}

// owner sets the entry's uid/gid on name, not following a symlink.
func (u *unpacker) owner(dirfd int, name string, hdr *tar.Header) error {
	err := unix.Fchownat(dirfd, name, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW)
	if err := u.ignoreUnprivileged(err); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}

// ignoreUnprivileged drops EPERM when not running as root (unit tests):
// inside the user namespace it is a real failure.
func (u *unpacker) ignoreUnprivileged(err error) error {
	if err != nil && !u.isRoot && errors.Is(err, unix.EPERM) {
		return nil
	}
	return err
}

// hdrMode converts the tar mode, keeping set-id and sticky bits.
func hdrMode(hdr *tar.Header) fs.FileMode {
	m := fs.FileMode(hdr.Mode).Perm()
	if hdr.Mode&04000 != 0 {
		m |= fs.ModeSetuid
	}
	if hdr.Mode&02000 != 0 {
		m |= fs.ModeSetgid
	}
	if hdr.Mode&01000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// unixMode is m as chmod(2) takes it.
func unixMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		mode |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		mode |= unix.S_ISVTX
	}
	return mode
}

// xattrs are the entry's extended attributes (file capabilities, for ping
// and the like). Applied best effort, as Docker: a filesystem or a user
// namespace may refuse some namespaces; trusted.* is never taken.
func xattrs(hdr *tar.Header) map[string]string {
	out := map[string]string{}
	for key, value := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(key, "SCHILY.xattr.")
		if ok && !strings.HasPrefix(attr, "trusted.") {
			out[attr] = value
		}
	}
	return out
}

// setTimes sets access and modification time of name, not following a
// symlink.
func setTimes(dirfd int, name string, mtime time.Time) error {
	if mtime.IsZero() {
		return nil
	}
	ts := unix.NsecToTimespec(mtime.UnixNano())
	err := unix.UtimesNanoAt(dirfd, name, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("set times of %s: %w", name, err)
	}
	return nil
}

// refusal is an entry refused because it would leave the layer; its text
// already names the entry.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

func refuse(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

// errNotEmpty is rename(2)'s answer when the target folder exists.
var errNotEmpty = unix.ENOTEMPTY
