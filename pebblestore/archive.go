package pebblestore

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// A backup archive is a tar stream (archive/tar) of a checkpoint's files,
// flat, followed by its manifest, BackupManifestFile, as the last entry:
// the store id and every file with its size and SHA-256. An archive that
// ends without its manifest, or whose files do not match it, was cut off
// or damaged. The backup directory that ReadArchive writes holds the same
// files and the manifest, which Restore checks.

// BackupManifestFile is the manifest of a backup: the last entry of an
// archive, and the file that says a backup directory is complete.
const BackupManifestFile = "backup.json"

// backupFormat is the version of the archive and manifest.
const backupFormat = 1

// maxManifestSize bounds the manifest an archive may carry.
const maxManifestSize = 16 << 20

// BackupManifest lists a backup.
type BackupManifest struct {
	Format    int          `json:"format"`
	StoreID   string       `json:"store_id"`
	CreatedAt time.Time    `json:"created_at"`
	Files     []BackupFile `json:"files"`
}

// BackupFile is one file of a backup.
type BackupFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Bytes is the size of the backup's files.
func (m *BackupManifest) Bytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// check refuses a manifest that does not describe a whole backup.
func (m *BackupManifest) check() error {
	if m.Format != backupFormat {
		return fmt.Errorf("backup format %d, this release reads %d", m.Format, backupFormat)
	}
	if m.StoreID == "" {
		return errors.New("the manifest names no store id")
	}
	seen := map[string]bool{}
	var manifest, id bool
	for _, f := range m.Files {
		if !validArchiveName(f.Name) || f.Name == BackupManifestFile || seen[f.Name] {
			return fmt.Errorf("the manifest lists %q, which cannot be a file of a backup", f.Name)
		}
		seen[f.Name] = true
		manifest = manifest || strings.HasPrefix(f.Name, "MANIFEST-")
		id = id || f.Name == StoreIDFile
	}
	if !manifest || !id {
		return fmt.Errorf("the manifest lists no MANIFEST file or no %s", StoreIDFile)
	}
	return nil
}

func validArchiveName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// WriteArchive writes the checkpoint's files to w as a backup archive, the
// manifest last.
func (c *Checkpoint) WriteArchive(w io.Writer) error {
	names, err := c.names()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	m := BackupManifest{Format: backupFormat, StoreID: c.StoreID, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	for _, name := range names {
		f, err := c.writeFile(tw, name)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, f)
	}
	b, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := tw.WriteHeader(&tar.Header{Name: BackupManifestFile, Mode: 0o600, Size: int64(len(b)), ModTime: m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(b); err != nil {
		return err
	}
	return tw.Close()
}

func (c *Checkpoint) writeFile(tw *tar.Writer, name string) (BackupFile, error) {
	f, err := c.fs.Open(c.fs.PathJoin(c.dir, name), vfs.SequentialReadsOption)
	if err != nil {
		return BackupFile{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return BackupFile{}, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return BackupFile{}, err
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(h, tw), f, fi.Size()); err != nil {
		return BackupFile{}, err
	}
	return BackupFile{Name: name, Size: fi.Size(), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ReadArchive writes a backup archive into dir, on the disk, which must
// not exist or be empty: its files with mode 0600, directories 0700, each
// fsynced. It writes into dir.partial and renames it to dir only once the
// archive ended with its manifest and every file matched it, so that a
// download cut off never looks like a backup; the .partial directory is
// removed when it fails. It returns the manifest.
func ReadArchive(r io.Reader, dir string) (*BackupManifest, error) {
	dir = filepath.Clean(dir)
	if err := CheckBackupDir(dir); err != nil {
		return nil, err
	}
	partial := dir + ".partial"
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(partial, 0o700); err != nil {
		return nil, err
	}
	m, err := extract(r, partial)
	if err == nil {
		err = syncDir(vfs.Default, partial)
	}
	if err == nil {
		// An empty directory in the way goes (os.Rename will not replace
		// a directory); one that is not empty stays, and the rename fails.
		if err = os.Remove(dir); errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	if err == nil {
		err = os.Rename(partial, dir)
	}
	if err != nil {
		_ = os.RemoveAll(partial)
		return nil, err
	}
	return m, syncDir(vfs.Default, parent)
}

// CheckBackupDir refuses a directory that ReadArchive would refuse to
// write: one that has files, or whose .partial directory is there.
func CheckBackupDir(dir string) error {
	dir = filepath.Clean(dir)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("pebblestore: %s exists and is not empty; back up into a new directory", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := os.Lstat(dir + ".partial"); err == nil {
		return fmt.Errorf("pebblestore: %s.partial exists, left by a backup that did not finish; remove it", dir)
	}
	return nil
}

// extract writes the archive's files into dir and checks them against the
// manifest that must end it.
func extract(r io.Reader, dir string) (*BackupManifest, error) {
	tr := tar.NewReader(r)
	got := map[string]BackupFile{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("pebblestore: the archive ended before its manifest: it was cut off")
		}
		if err != nil {
			return nil, fmt.Errorf("pebblestore: the archive was cut off or is damaged: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg || !validArchiveName(hdr.Name) {
			return nil, fmt.Errorf("pebblestore: the archive holds %q, which cannot be a file of a backup", hdr.Name)
		}
		if _, dup := got[hdr.Name]; dup {
			return nil, fmt.Errorf("pebblestore: the archive holds %s twice", hdr.Name)
		}
		if hdr.Name == BackupManifestFile {
			return finish(tr, r, dir, hdr, got)
		}
		f, err := writeDiskFile(filepath.Join(dir, hdr.Name), tr)
		if err != nil {
			return nil, fmt.Errorf("pebblestore: write %s: %w", hdr.Name, err)
		}
		if f.Size != hdr.Size {
			return nil, fmt.Errorf("pebblestore: the archive was cut off in %s", hdr.Name)
		}
		got[hdr.Name] = f
	}
}

// finish reads the manifest, checks that the archive ends after it and
// that the files written are the ones it lists, and writes it.
func finish(tr *tar.Reader, r io.Reader, dir string, hdr *tar.Header, got map[string]BackupFile) (*BackupManifest, error) {
	if hdr.Size > maxManifestSize {
		return nil, fmt.Errorf("pebblestore: the archive's manifest has %d bytes", hdr.Size)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: the archive was cut off in its manifest: %w", err)
	}
	var m BackupManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("pebblestore: the archive's manifest does not decode: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("pebblestore: the archive's manifest: %w", err)
	}
	if _, err := tr.Next(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("pebblestore: the archive goes on after its manifest (%v)", err)
	}
	// What follows the archive's end is the end of the transfer, whose
	// own errors (a connection cut) are the archive's.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("pebblestore: the transfer ended badly: %w", err)
	}
	if len(got) != len(m.Files) {
		return nil, fmt.Errorf("pebblestore: the archive holds %d files, its manifest lists %d", len(got), len(m.Files))
	}
	for _, want := range m.Files {
		if g, ok := got[want.Name]; !ok || g != want {
			return nil, fmt.Errorf("pebblestore: %s does not match the archive's manifest (size or SHA-256)", want.Name)
		}
	}
	id, err := os.ReadFile(filepath.Join(dir, StoreIDFile))
	if err != nil || strings.TrimSpace(string(id)) != m.StoreID {
		return nil, fmt.Errorf("pebblestore: the archive's %s does not hold its manifest's store id", StoreIDFile)
	}
	if _, err := writeDiskFile(filepath.Join(dir, BackupManifestFile), bytes.NewReader(b)); err != nil {
		return nil, err
	}
	return &m, nil
}

// writeDiskFile writes a new file of mode 0600 from r, fsynced, and
// returns its size and SHA-256.
func writeDiskFile(path string, r io.Reader) (BackupFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return BackupFile{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(h, f), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return BackupFile{Name: filepath.Base(path), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
}

// readBackupManifest reads and checks a backup directory's manifest.
func readBackupManifest(fs vfs.FS, dir string) (*BackupManifest, error) {
	b, err := readFile(fs, fs.PathJoin(dir, BackupManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := fs.Stat(dir); serr != nil {
			return nil, fmt.Errorf("pebblestore: no backup at %s: %w", dir, serr)
		}
		return nil, fmt.Errorf("pebblestore: %s is not a complete backup: it has no %s (a backup cut off is left as <dir>.partial, without one)", dir, BackupManifestFile)
	}
	if err != nil {
		return nil, err
	}
	var m BackupManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("pebblestore: %s of %s does not decode: %w", BackupManifestFile, dir, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("pebblestore: %s of %s: %w", BackupManifestFile, dir, err)
	}
	id, err := readFile(fs, fs.PathJoin(dir, StoreIDFile))
	if err != nil || strings.TrimSpace(string(id)) != m.StoreID {
		return nil, fmt.Errorf("pebblestore: the %s of %s does not hold its manifest's store id", StoreIDFile, dir)
	}
	return &m, nil
}
