package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
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

// maxSymlinks bounds symlink resolution, like the kernel's MAXSYMLINKS
// (40) but generous: a loop must still end.
const maxSymlinks = 255

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

// resolveIn returns the host path of rel inside root, following symlinks
// as if root were "/" so that no link (absolute or "../..") can lead out.
// With mkdir, missing folders are created (0755, like Docker).
func resolveIn(root, rel string, mkdir bool) (string, error) {
	todo := splitPath(rel)
	var cur []string
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == ".." {
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			}
			continue
		}
		p := filepath.Join(root, filepath.Join(cur...), c)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && mkdir:
			if err := os.Mkdir(p, 0o755); err != nil {
				return "", err
			}
			cur = append(cur, c)
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink != 0:
			links++
			if links > maxSymlinks {
				return "", fmt.Errorf("resolve %q: too many levels of symbolic links", rel)
			}
			target, err := os.Readlink(p)
			if err != nil {
				return "", err
			}
			if path.IsAbs(target) {
				cur = cur[:0]
			}
			todo = append(splitPath(target), todo...)
		case fi.IsDir():
			cur = append(cur, c)
		case len(todo) == 0:
			// The last component may be a file (opening a known entry).
			cur = append(cur, c)
		default:
			return "", fmt.Errorf("resolve %q: %s is not a directory", rel, filepath.Join(cur...))
		}
	}
	return filepath.Join(root, filepath.Join(cur...)), nil
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

// dirMeta is a folder's mode and times, applied after its contents are
// written (writing children changes the mtime; a 0555 folder would refuse
// them when not privileged).
type dirMeta struct {
	path  string
	mode  fs.FileMode
	mtime time.Time
}

// unpacker writes one uncompressed layer tar into root.
type unpacker struct {
	root   string
	isRoot bool // running as uid 0: ownership failures are real errors
	dirs   []dirMeta
	size   int64 // bytes of regular files, Docker's layer size
}

// unpackLayer writes the layer tar r into the existing folder root and
// returns the layer's size (sum of its regular files).
func unpackLayer(r io.Reader, root string) (int64, error) {
	u := &unpacker{root: root, isRoot: os.Geteuid() == 0}
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
	// Children first: a folder's own times go last.
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		if err := os.Chmod(d.path, d.mode); err != nil {
			return 0, fmt.Errorf("chmod %s: %w", d.path, err)
		}
		if err := setTimes(d.path, d.mtime); err != nil {
			return 0, err
		}
	}
	return u.size, nil
}

// entry writes one tar entry.
func (u *unpacker) entry(hdr *tar.Header, body io.Reader) error {
	rel, err := entryPath(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		if hdr.Typeflag == tar.TypeDir {
			u.dirs = append(u.dirs, dirMeta{u.root, hdrMode(hdr), hdr.ModTime})
			return u.owner(u.root, hdr)
		}
		return refuse("refusing layer entry %q: the layer root must be a folder", hdr.Name)
	}
	parent, err := resolveIn(u.root, path.Dir(rel), true)
	if err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	base := path.Base(rel)
	switch kind, hidden := classifyWhiteout(base); kind {
	case whiteoutDir:
		return u.opaque(parent)
	case whiteoutFile:
		if hidden == "." || hidden == ".." {
			return refuse("refusing layer entry %q: path escapes the layer", hdr.Name)
		}
		return u.whiteout(filepath.Join(parent, hidden), hdr)
	}
	target := filepath.Join(parent, base)
	if err := u.clear(target, hdr.Typeflag == tar.TypeDir); err != nil {
		return err
	}
	if err := u.create(target, hdr, body); err != nil {
		var refused *refusal
		if errors.As(err, &refused) {
			return err
		}
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	return nil
}

// clear removes what is at target unless both it and the entry are
// folders (a later entry for an existing folder only updates it).
func (u *unpacker) clear(target string, isDir bool) error {
	fi, err := os.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if isDir && fi.IsDir() {
		return nil
	}
	return os.RemoveAll(target)
}

// create makes the file, folder, link or node hdr describes at target.
func (u *unpacker) create(target string, hdr *tar.Header, body io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		u.dirs = append(u.dirs, dirMeta{target, hdrMode(hdr), hdr.ModTime})
		return u.owner(target, hdr)
	case tar.TypeReg: // the reader reports old TypeRegA entries as TypeReg
		if err := writeFile(target, body); err != nil {
			return err
		}
		u.size += hdr.Size
	case tar.TypeSymlink:
		// The link text is kept as is: it is only ever followed inside a
		// container's root or by resolveIn, both confined.
		if err := os.Symlink(hdr.Linkname, target); err != nil {
			return err
		}
		if err := u.owner(target, hdr); err != nil {
			return err
		}
		return setTimes(target, hdr.ModTime)
	case tar.TypeLink:
		return u.hardlink(target, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		created, err := u.node(target, hdr)
		if err != nil || !created {
			return err
		}
	case tar.TypeXGlobalHeader:
		return nil
	default:
		// Docker skips what it cannot represent (sparse, GNU volume headers).
		return nil
	}
	return u.finish(target, hdr)
}

// finish applies owner, mode, xattrs and times: chown first, as it
// clears set-id bits that the mode then restores.
func (u *unpacker) finish(target string, hdr *tar.Header) error {
	if err := u.owner(target, hdr); err != nil {
		return err
	}
	if err := os.Chmod(target, hdrMode(hdr)); err != nil {
		return err
	}
	setXattrs(target, hdr)
	return setTimes(target, hdr.ModTime)
}

// hardlink links target to an earlier entry of this layer; a link name
// that leaves the layer is refused.
func (u *unpacker) hardlink(target string, hdr *tar.Header) error {
	rel, err := entryPath(hdr.Linkname)
	if err != nil || rel == "." {
		return refuse("refusing layer entry %q: hardlink target %q escapes the layer", hdr.Name, hdr.Linkname)
	}
	dir, err := resolveIn(u.root, path.Dir(rel), false)
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
	}
	return os.Link(filepath.Join(dir, path.Base(rel)), target)
}

// node makes a device or fifo. Device nodes need privileges the user
// namespace may lack; Docker's rootless mode skips them too.
func (u *unpacker) node(target string, hdr *tar.Header) (bool, error) {
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
	err := unix.Mknod(target, mode, int(dev))
	if errors.Is(err, unix.EPERM) && hdr.Typeflag != tar.TypeFifo {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mknod: %w", err)
	}
	return true, nil
}

// whiteout hides target in lower layers with overlayfs's 0/0 char device.
func (u *unpacker) whiteout(target string, hdr *tar.Header) error {
	if err := os.RemoveAll(target); err != nil {
		return err
	}
	if err := unix.Mknod(target, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("whiteout %q: mknod: %w", hdr.Name, err)
	}
	return u.owner(target, hdr)
}

// opaque marks dir so overlayfs hides the lower layers' contents of it.
func (u *unpacker) opaque(dir string) error {
	if err := unix.Lsetxattr(dir, opaqueXattr, []byte("y"), 0); err != nil {
		return fmt.Errorf("opaque whiteout %s: %w", dir, err)
	}
	return nil
}

// owner sets the entry's uid/gid. Unprivileged (unit tests) an EPERM is
// expected and ignored; inside the user namespace it is a real failure.
func (u *unpacker) owner(target string, hdr *tar.Header) error {
	err := os.Lchown(target, hdr.Uid, hdr.Gid)
	if err != nil && !u.isRoot && errors.Is(err, fs.ErrPermission) {
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

// writeFile creates target (never following a link) and fills it.
func writeFile(target string, body io.Reader) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// setXattrs applies the entry's extended attributes (file capabilities,
// for ping and the like). Best effort, as Docker: a filesystem or a user
// namespace may refuse some namespaces.
func setXattrs(target string, hdr *tar.Header) {
	for key, value := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(key, "SCHILY.xattr.")
		if !ok || strings.HasPrefix(attr, "trusted.") {
			continue
		}
		_ = unix.Lsetxattr(target, attr, []byte(value), 0)
	}
}

// setTimes sets access and modification time without following links.
func setTimes(target string, mtime time.Time) error {
	ts := unix.NsecToTimespec(mtime.UnixNano())
	if mtime.IsZero() {
		return nil
	}
	err := unix.UtimesNanoAt(unix.AT_FDCWD, target, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("set times of %s: %w", target, err)
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
