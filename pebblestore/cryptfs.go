package pebblestore

// Encryption at rest: a vfs.FS that keeps every file it writes as
// ciphertext, beneath Pebble, so that Pebble never sees a plaintext file.
//
// # Construction
//
// Every file has its own random 256-bit key. The file starts with a 4 KiB
// header:
//
//	0    magic "WHCRYPT1"
//	8    version:u8=1 suite:u8 flags:u8 reserved:5 (flag 1: a reused file)
//	16   master key id:8 (first 8 bytes of SHA-256("wearhouse key id" 0x00 master))
//	24   nonce:24 and 72: the file key wrapped by the master key with
//	     XChaCha20-Poly1305 (32 bytes + 16 tag), bytes 0..24 as additional data
//	512  synced-length slot 0, 1024 synced-length slot 1 (below)
//
// The file key is expanded with HKDF-SHA256 into an encryption key and a
// MAC key. The plaintext is cut into blocks of 4,000 bytes; block j is kept
// in the 4 KiB physical block at 4096*(j+1):
//
//	0   tag slot 0: len:u32 0:4 nonce:24 tag:16
//	48  tag slot 1, the same
//	96  ciphertext of the block's first len bytes
//
// Ciphertext is the plaintext XORed with a keystream addressed by the
// plaintext offset: AES-256-CTR (counter = offset/16) or ChaCha20 (block
// counter = offset/64) under the file's encryption key. A tag slot
// authenticates (block index, len, ciphertext[:len]) with AES-256-GCM or
// XChaCha20-Poly1305 used as a MAC (nothing to encrypt, all of it
// additional data) under the MAC key, with a fresh random nonce for every
// tag written. Encrypt-then-MAC with independent keys: a flipped byte, a
// block moved to another index or another file, or a shortened block fails
// its tag, and a read reports ErrCorrupt, never wrong data.
//
// Why two tag slots and a keystream rather than one AEAD per block: a file
// grows by appends that end mid-block (a WAL syncs every few hundred
// bytes), so the last block's tag must be rewritten as the block grows.
// With a keystream the bytes already written never change (the same key
// and offset give the same ciphertext), and each growth writes only the
// new bytes and one tag slot. The slot written since the last Sync is the
// working one; the other holds the tag of what the last Sync made durable,
// and is not touched until the next Sync has succeeded. A crash that tears
// the working slot or the new bytes leaves the older slot valid over every
// synced byte: nothing acknowledged is lost. (A per-block AEAD would have to
// re-encrypt the whole block on each growth, under a new nonce, and a torn
// rewrite would destroy the synced bytes with it.) Every offset of a file
// is encrypted once under its key: files are append-only (WriteAt is
// refused), and a recycled WAL (ReuseForWrite) is written over from its
// start under a new header and a new key; its old header is zeroed and
// synced first, so that a crash leaves the new file or an empty one.
//
// The synced-length slots (len:u64 nonce:24 tag:16, MAC over "S" len) say
// how much of the file a Sync had made durable; each Sync writes, before
// its fsync, the length made durable by the previous Sync, and Close after
// a final Sync records the full length (one more fsync). A tag that fails
// below that length is corruption and an error; past it, the first block
// that does not verify ends the file for sequential reads, the way Pebble
// reads a WAL torn by a crash. Stat reports the plaintext size, from the
// last physical block.
//
// Key rotation: the header names its master key by id, so a file is read
// with whichever of the current and the older master keys it was written
// with, and no registry is needed; new files are written under the
// current key, and compactions, WAL and MANIFEST rotation rewrite the
// rest. The suite is chosen per process by CPU (AES where the CPU has AES
// and carry-less multiply instructions, ChaCha20 elsewhere: a Raspberry
// Pi 4) and recorded per file, so either reads both.
//
// Not covered: an attacker who can write the disk can roll a file back to
// an older complete version of itself, or truncate a file at a block
// boundary past its recorded synced length (for a WAL that is a crash's
// torn tail, which Pebble accepts too). File names, sizes and times are
// not hidden. LOCK and the directory entries pass through. A file whose
// header's first 96 bytes are zeros reads as empty (a crash before its
// header was durable); zeroing them is, to an attacker, what deleting the
// file is.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/sys/cpu"
)

const (
	flagReused     = 1
	cryptMagic     = "WHCRYPT1"
	cryptVersion   = 1
	cryptHeader    = 4096
	cryptPhys      = 4096 // a physical block
	cryptSlot      = 48
	cryptDataOff   = 2 * cryptSlot
	cryptBlock     = cryptPhys - cryptDataOff // plaintext per block: 4,000
	cryptSyncSlot0 = 512
	cryptSyncSlot1 = 1024
	// KeySize is the size of a master key.
	KeySize = 32
)

// Cipher suites.
const (
	SuiteAES    byte = 1 // AES-256-CTR, AES-256-GCM tags
	SuiteChaCha byte = 2 // ChaCha20, XChaCha20-Poly1305 tags
)

var (
	// ErrCorrupt is returned when a file's tag does not verify: its bytes
	// were changed on the disk.
	ErrCorrupt = errors.New("pebblestore: encrypted file failed authentication (on-disk corruption or tampering)")
	// ErrWrongKey is returned for a file written under a master key that
	// was not given.
	ErrWrongKey = errors.New("pebblestore: file is encrypted under a key that was not given")
	// ErrNotEncrypted is returned for a file that is not one of ours.
	ErrNotEncrypted = errors.New("pebblestore: file is not encrypted")
)

// DefaultSuite is the suite new files are written with on this CPU: AES
// where it has AES instructions with carry-less multiply (the GCM tags),
// ChaCha20 elsewhere.
func DefaultSuite() byte {
	if (cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ) || (cpu.ARM64.HasAES && cpu.ARM64.HasPMULL) {
		return SuiteAES
	}
	return SuiteChaCha
}

// KeyID is the id a file's header names its master key by.
func KeyID(master []byte) [8]byte {
	h := sha256.New()
	h.Write([]byte("wearhouse key id\x00"))
	h.Write(master)
	var id [8]byte
	copy(id[:], h.Sum(nil))
	return id
}

type cryptFS struct {
	base  vfs.FS
	suite byte
	cur   [8]byte
	wrap  map[[8]byte]cipher.AEAD
}

var _ vfs.FS = (*cryptFS)(nil)

// NewEncryptedFS wraps base so that every file written through it is
// ciphertext under master (KeySize bytes); files written under one of old
// are still read.
func NewEncryptedFS(base vfs.FS, master []byte, old ...[]byte) (vfs.FS, error) {
	return newCryptFS(base, DefaultSuite(), master, old...)
}

// NewEncryptedFSSuite is NewEncryptedFS writing new files with the given
// suite (benchmarks and tests).
func NewEncryptedFSSuite(base vfs.FS, suite byte, master []byte, old ...[]byte) (vfs.FS, error) {
	return newCryptFS(base, suite, master, old...)
}

func newCryptFS(base vfs.FS, suite byte, master []byte, old ...[]byte) (*cryptFS, error) {
	if suite != SuiteAES && suite != SuiteChaCha {
		return nil, fmt.Errorf("pebblestore: unknown cipher suite %d", suite)
	}
	fs := &cryptFS{base: base, suite: suite, wrap: map[[8]byte]cipher.AEAD{}}
	for i, k := range append([][]byte{master}, old...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("pebblestore: an encryption key must be %d bytes, not %d", KeySize, len(k))
		}
		a, err := chacha20poly1305.NewX(k)
		if err != nil {
			return nil, err
		}
		id := KeyID(k)
		if i == 0 {
			fs.cur = id
		}
		fs.wrap[id] = a
	}
	return fs, nil
}

// fileKeys are a file's keystream and MAC.
type fileKeys struct {
	suite byte
	aes   cipher.Block // SuiteAES keystream
	enc   []byte       // SuiteChaCha keystream key
	mac   cipher.AEAD
	fk    []byte // the file key, until the header is sealed
}

func newFileKeys(suite byte, fk []byte) (*fileKeys, error) {
	encKey, err := hkdf.Key(sha256.New, fk, nil, "wearhouse file encryption", 32)
	if err != nil {
		return nil, err
	}
	macKey, err := hkdf.Key(sha256.New, fk, nil, "wearhouse file mac", 32)
	if err != nil {
		return nil, err
	}
	k := &fileKeys{suite: suite, fk: fk}
	switch suite {
	case SuiteAES:
		if k.aes, err = aes.NewCipher(encKey); err != nil {
			return nil, err
		}
		mb, err := aes.NewCipher(macKey)
		if err != nil {
			return nil, err
		}
		if k.mac, err = cipher.NewGCM(mb); err != nil {
			return nil, err
		}
	case SuiteChaCha:
		k.enc = encKey
		if k.mac, err = chacha20poly1305.NewX(macKey); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: unknown cipher suite %d", ErrCorrupt, suite)
	}
	return k, nil
}

// xor XORs src with the keystream at plaintext offset off into dst.
func (k *fileKeys) xor(dst, src []byte, off int64) {
	switch k.suite {
	case SuiteAES:
		var iv [16]byte
		binary.BigEndian.PutUint64(iv[8:], uint64(off/16))
		s := cipher.NewCTR(k.aes, iv[:])
		if r := off % 16; r > 0 {
			var junk [16]byte
			s.XORKeyStream(junk[:r], junk[:r])
		}
		s.XORKeyStream(dst, src)
	default:
		var nonce [chacha20.NonceSize]byte
		s, _ := chacha20.NewUnauthenticatedCipher(k.enc, nonce[:])
		s.SetCounter(uint32(off / 64))
		if r := off % 64; r > 0 {
			var junk [64]byte
			s.XORKeyStream(junk[:r], junk[:r])
		}
		s.XORKeyStream(dst, src)
	}
}

// maxCryptFile bounds a file's size: ChaCha20's 32-bit block counter.
const maxCryptFile = 1 << 38

var aadPool = sync.Pool{New: func() any { b := make([]byte, 0, 13+cryptBlock); return &b }}

// blockAAD is what a block's tag covers.
func blockAAD(buf []byte, j int64, ct []byte) []byte {
	buf = append(buf[:0], 'B')
	buf = binary.BigEndian.AppendUint64(buf, uint64(j))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(ct)))
	return append(buf, ct...)
}

// sealSlot writes into slot the tag of block j holding ct.
func (k *fileKeys) sealSlot(slot []byte, j int64, ct []byte) {
	bp := aadPool.Get().(*[]byte)
	aad := blockAAD(*bp, j, ct)
	binary.BigEndian.PutUint32(slot[0:4], uint32(len(ct)))
	clear(slot[4:8])
	nonce := slot[8:32]
	_, _ = rand.Read(nonce)
	k.mac.Seal(slot[32:32], nonce[:k.mac.NonceSize()], nil, aad)
	*bp = aad
	aadPool.Put(bp)
}

// openBlock verifies physical block b (index j) and returns the length
// of its longest slot that verifies, or -1 when none does.
func (k *fileKeys) openBlock(b []byte, j int64) int {
	best := -1
	bp := aadPool.Get().(*[]byte)
	for s := 0; s < 2; s++ {
		if len(b) < (s+1)*cryptSlot {
			break
		}
		slot := b[s*cryptSlot : (s+1)*cryptSlot]
		n := int(binary.BigEndian.Uint32(slot))
		if n <= best || n == 0 || n > cryptBlock || cryptDataOff+n > len(b) {
			continue
		}
		aad := blockAAD(*bp, j, b[cryptDataOff:cryptDataOff+n])
		*bp = aad
		if _, err := k.mac.Open(nil, slot[8:8+k.mac.NonceSize()], slot[32:48], aad); err == nil {
			best = n
		}
	}
	aadPool.Put(bp)
	return best
}

func (k *fileKeys) sealSynced(slot []byte, n int64) {
	binary.BigEndian.PutUint64(slot[0:8], uint64(n))
	nonce := slot[8:32]
	_, _ = rand.Read(nonce)
	var aad [9]byte
	aad[0] = 'S'
	binary.BigEndian.PutUint64(aad[1:], uint64(n))
	k.mac.Seal(slot[32:32], nonce[:k.mac.NonceSize()], nil, aad[:])
}

// openSynced returns the length a synced-length slot records: 0 for an
// empty slot, -1 for one that does not verify.
func (k *fileKeys) openSynced(slot []byte) int64 {
	if bytes.Equal(slot, make([]byte, cryptSlot)) {
		return 0
	}
	n := int64(binary.BigEndian.Uint64(slot))
	var aad [9]byte
	aad[0] = 'S'
	binary.BigEndian.PutUint64(aad[1:], uint64(n))
	if _, err := k.mac.Open(nil, slot[8:8+k.mac.NonceSize()], slot[32:48], aad[:]); err != nil {
		return -1
	}
	return n
}

// newHeader makes the header of a new file and its keys.
func (fs *cryptFS) newHeader() ([]byte, *fileKeys, error) {
	h := make([]byte, cryptHeader)
	copy(h, cryptMagic)
	h[8] = cryptVersion
	h[9] = fs.suite
	copy(h[16:24], fs.cur[:])
	var fk [32]byte
	_, _ = rand.Read(fk[:])
	nonce := h[24:48]
	_, _ = rand.Read(nonce)
	k, err := newFileKeys(fs.suite, fk[:])
	return h, k, err
}

// readHeaderFlags reads and unwraps a file's header.
func (fs *cryptFS) readHeaderFlags(f vfs.File, name string) (_ *fileKeys, _ int64, flags byte, _ error) {
	h := make([]byte, cryptSyncSlot1+cryptSlot)
	if n, err := f.ReadAt(h, 0); n < len(h) {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, 0, 0, fmt.Errorf("%w: %s is too short for an encrypted file", ErrNotEncrypted, name)
		}
		return nil, 0, 0, err
	}
	if string(h[:8]) != cryptMagic {
		return nil, 0, 0, fmt.Errorf("%w: %s", ErrNotEncrypted, name)
	}
	if h[8] != cryptVersion {
		return nil, 0, 0, fmt.Errorf("pebblestore: %s: unknown encrypted file version %d", name, h[8])
	}
	var id [8]byte
	copy(id[:], h[16:24])
	w, ok := fs.wrap[id]
	if !ok {
		return nil, 0, 0, fmt.Errorf("%w: %s names key %x", ErrWrongKey, name, id)
	}
	fk, err := w.Open(nil, h[24:48], h[48:96], h[:24])
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: the key of %s does not unwrap", ErrCorrupt, name)
	}
	k, err := newFileKeys(h[9], fk)
	if err != nil {
		return nil, 0, 0, err
	}
	s0 := k.openSynced(h[cryptSyncSlot0 : cryptSyncSlot0+cryptSlot])
	s1 := k.openSynced(h[cryptSyncSlot1 : cryptSyncSlot1+cryptSlot])
	if s0 < 0 || s1 < 0 {
		return nil, 0, 0, fmt.Errorf("%w: %s: header", ErrCorrupt, name)
	}
	return k, max(s0, s1), h[10], nil
}

// partialHeader reports whether f, shorter than a header, starts with a
// part of one or with zeros.
func partialHeader(f vfs.File) bool {
	b := make([]byte, len(cryptMagic))
	n, _ := f.ReadAt(b, 0)
	return strings.HasPrefix(cryptMagic, string(b[:n])) || bytes.Equal(b[:n], make([]byte, n))
}

// zeroHeader reports whether f's header sector that names its key is all
// zeros: a header never made durable, or one being replaced for a reuse
// (ReuseForWrite), whose other sectors may still be the old ones.
func zeroHeader(f vfs.File) bool {
	b := make([]byte, cryptDataOff)
	n, _ := f.ReadAt(b, 0)
	return n == len(b) && bytes.Equal(b, make([]byte, len(b)))
}

func physOf(j int64) int64 { return cryptHeader + j*cryptPhys }

// ---- the FS ----

func (fs *cryptFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.base.Create(name, category)
	if err != nil {
		return nil, err
	}
	return fs.startWriter(f)
}

func (fs *cryptFS) startWriter(f vfs.File) (vfs.File, error) { return fs.startWriterFlags(f, 0) }

func (fs *cryptFS) startWriterFlags(f vfs.File, flags byte) (vfs.File, error) {
	h, k, err := fs.newHeader()
	if err == nil {
		h[10] = flags
		var fk [32]byte
		copy(fk[:], k.fk)
		fs.wrap[fs.cur].Seal(h[48:48], h[24:48], fk[:], h[:24])
	}
	if err == nil {
		_, err = f.WriteAt(h, 0)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &cryptFile{f: f, k: k, write: true, buf: make([]byte, 0, cryptPhys)}, nil
}

func (fs *cryptFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.base.Open(name, opts...)
	if err != nil {
		return nil, err
	}
	cf, err := fs.openReader(f, name)
	if err != nil {
		f.Close()
		return nil, err
	}
	return cf, nil
}

// openReader reads the header of an existing file and its plaintext size.
func (fs *cryptFS) openReader(f vfs.File, name string) (*cryptFile, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < cryptHeader && partialHeader(f) {
		// Shorter than the header, which a file's first Sync makes
		// durable whole: a file never synced, after a crash (or an empty
		// file). It holds nothing synced.
		return &cryptFile{f: f, empty: true}, nil
	}
	k, synced, flags, err := fs.readHeaderFlags(f, name)
	if errors.Is(err, ErrNotEncrypted) && zeroHeader(f) {
		// A file that was never synced, after a crash: the disk kept
		// later pages but not the header. It holds nothing synced.
		return &cryptFile{f: f, empty: true}, nil
	}
	if err != nil {
		return nil, err
	}
	cf := &cryptFile{f: f, k: k, synced: synced}
	phys := st.Size()
	switch {
	case flags&flagReused != 0:
		// A reused file holds the old one's bytes past its own: its end
		// is the first block from the synced length on that is not full.
		b := make([]byte, cryptPhys)
		for j := synced / cryptBlock; physOf(j) < phys; j++ {
			m, err := f.ReadAt(b, physOf(j))
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			l := k.openBlock(b[:m], j)
			cf.size = j*cryptBlock + int64(max(l, 0))
			if l < cryptBlock {
				break
			}
		}
	case phys > cryptHeader:
		j := (phys - cryptHeader - 1) / cryptPhys
		b := make([]byte, cryptPhys)
		m, err := f.ReadAt(b, physOf(j))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		cf.size = j * cryptBlock
		if l := k.openBlock(b[:m], j); l > 0 {
			cf.size += int64(l)
		}
	}
	if cf.size < synced {
		// The last block is damaged: the sizes recorded say it was synced.
		// Reads report it; the size is the synced one.
		cf.size = synced
	}
	return cf, nil
}

func (fs *cryptFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.base.OpenReadWrite(name, category, opts...)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.Size() == 0 {
		return fs.startWriter(f)
	}
	cf, err := fs.openReader(f, name) // existing files are read only
	if err != nil {
		f.Close()
		return nil, err
	}
	return cf, nil
}

// ReuseForWrite reuses oldname's disk space, as Pebble recycles WAL
// files (so that an fdatasync need not update the file's size, which
// measured a third of a synced commit's cost): the file is renamed, and
// written from its start under a new header and a new file key, so that no
// offset is encrypted twice under one key. The old bytes past what is
// written fail their tags under the new key; the header's reused flag
// makes a reader find the end by scanning from the synced length rather
// than from the file's size.
func (fs *cryptFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if err := fs.base.Rename(oldname, newname); err != nil {
		return nil, err
	}
	f, err := fs.base.OpenReadWrite(newname, category)
	if err != nil {
		return nil, err
	}
	// First the old header goes, made durable: after a crash while the
	// new one is written, the file is either the new one or, with a
	// header of zeros, an empty file that was never synced; never the old
	// file's bytes, nor old synced lengths over bytes the new file has
	// overwritten. (One fsync per reuse, a WAL's rotation.)
	if _, err := f.WriteAt(make([]byte, cryptHeader), 0); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.SyncData(); err != nil {
		f.Close()
		return nil, err
	}
	return fs.startWriterFlags(f, flagReused)
}

func (fs *cryptFS) Stat(name string) (vfs.FileInfo, error) {
	st, err := fs.base.Stat(name)
	if err != nil || st.IsDir() {
		return st, err
	}
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return sizedInfo{st, f.(*cryptFile).size}, nil
}

func (fs *cryptFS) Link(oldname, newname string) error       { return fs.base.Link(oldname, newname) }
func (fs *cryptFS) OpenDir(name string) (vfs.File, error)    { return fs.base.OpenDir(name) }
func (fs *cryptFS) Remove(name string) error                 { return fs.base.Remove(name) }
func (fs *cryptFS) RemoveAll(name string) error              { return fs.base.RemoveAll(name) }
func (fs *cryptFS) Rename(oldname, newname string) error     { return fs.base.Rename(oldname, newname) }
func (fs *cryptFS) MkdirAll(dir string, p os.FileMode) error { return fs.base.MkdirAll(dir, p) }
func (fs *cryptFS) Lock(name string) (io.Closer, error)      { return fs.base.Lock(name) }
func (fs *cryptFS) List(dir string) ([]string, error)        { return fs.base.List(dir) }
func (fs *cryptFS) PathBase(path string) string              { return fs.base.PathBase(path) }
func (fs *cryptFS) PathJoin(elem ...string) string           { return fs.base.PathJoin(elem...) }
func (fs *cryptFS) PathDir(path string) string               { return fs.base.PathDir(path) }
func (fs *cryptFS) Unwrap() vfs.FS                           { return fs.base }
func (fs *cryptFS) GetDiskUsage(path string) (vfs.DiskUsage, error) {
	return fs.base.GetDiskUsage(path)
}

type sizedInfo struct {
	vfs.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }

// ---- files ----

type cryptFile struct {
	f     vfs.File
	k     *fileKeys
	empty bool // a zero-length file: not ours, reads as empty

	mu     sync.RWMutex
	size   int64 // plaintext size
	synced int64 // bytes a Sync made durable (readers: from the header)
	rdOff  int64 // Read's offset

	// Writers only.
	write   bool
	tail    []byte // ciphertext of the partial last block
	slots   [2][cryptSlot]byte
	work    int  // the tag slot written until the next Sync
	dirty   bool // the working slot was written since the last Sync
	hdrS    int64
	hdrSlot int
	buf     []byte
}

func (c *cryptFile) Write(p []byte) (int, error) {
	if !c.write {
		return 0, errors.New("pebblestore: encrypted file is not open for writing")
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size+int64(len(p)) > maxCryptFile {
		return 0, errors.New("pebblestore: encrypted file too large")
	}
	j0 := c.size / cryptBlock
	out := c.buf[:0]
	written := 0
	for len(p) > 0 {
		off := int(c.size % cryptBlock)
		j := c.size / cryptBlock
		k := min(cryptBlock-off, len(p))
		start := len(c.tail)
		c.tail = append(c.tail, p[:k]...)
		c.k.xor(c.tail[start:], c.tail[start:], c.size)
		c.k.sealSlot(c.slots[c.work][:], j, c.tail)
		out = append(out, c.slots[0][:]...)
		out = append(out, c.slots[1][:]...)
		out = append(out, c.tail...)
		c.size += int64(k)
		p = p[k:]
		written += k
		if len(c.tail) == cryptBlock {
			c.tail = c.tail[:0]
			c.slots = [2][cryptSlot]byte{}
			c.work, c.dirty = 0, false
		} else {
			c.dirty = true
		}
	}
	c.buf = out[:0]
	if _, err := c.f.WriteAt(out, physOf(j0)); err != nil {
		return 0, err
	}
	return written, nil
}

func (c *cryptFile) WriteAt(p []byte, off int64) (int, error) {
	return 0, errors.New("pebblestore: encrypted files are append-only")
}

func (c *cryptFile) Sync() error { return c.sync(c.f.Sync) }

// SyncData syncs with the base file's SyncData (fdatasync: the data and
// the size, which is all a reader needs).
func (c *cryptFile) SyncData() error { return c.sync(c.f.SyncData) }

func (c *cryptFile) sync(fsync func() error) error {
	if !c.write {
		return fsync()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Record the length the previous Sync made durable: written before
	// this fsync, it never claims bytes that are not on the disk.
	if c.hdrS < c.synced {
		if err := c.writeSynced(c.synced); err != nil {
			return err
		}
	}
	if err := fsync(); err != nil {
		return err
	}
	c.synced = c.size
	if c.dirty {
		c.work ^= 1
		c.dirty = false
	}
	return nil
}

func (c *cryptFile) writeSynced(n int64) error {
	var slot [cryptSlot]byte
	c.k.sealSynced(slot[:], n)
	at := int64(cryptSyncSlot0)
	if c.hdrSlot == 1 {
		at = cryptSyncSlot1
	}
	if _, err := c.f.WriteAt(slot[:], at); err != nil {
		return err
	}
	c.hdrS, c.hdrSlot = n, c.hdrSlot^1
	return nil
}

func (c *cryptFile) SyncTo(length int64) (bool, error) { return true, c.SyncData() }

func (c *cryptFile) Close() error {
	if c.write {
		c.mu.Lock()
		// A file synced to its end records its whole length, so that a
		// tag failing anywhere in it is reported.
		if c.synced == c.size && c.hdrS < c.size {
			if err := c.writeSynced(c.size); err == nil {
				_ = c.f.Sync()
			}
		}
		c.mu.Unlock()
	}
	return c.f.Close()
}

func (c *cryptFile) Read(p []byte) (int, error) {
	c.mu.Lock()
	off := c.rdOff
	c.mu.Unlock()
	n, err := c.readAt(p, off, true)
	c.mu.Lock()
	c.rdOff += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *cryptFile) ReadAt(p []byte, off int64) (int, error) { return c.readAt(p, off, false) }

// physPool holds buffers for reads of one or two blocks (a 4 KiB read
// that straddles two).
var physPool = sync.Pool{New: func() any { b := make([]byte, 2*cryptPhys); return &b }}

// readAt reads from plaintext offset off. Past the synced length a
// sequential read ends at the first block that does not verify, as at a
// torn tail; everywhere else such a block is ErrCorrupt.
func (c *cryptFile) readAt(p []byte, off int64, sequential bool) (int, error) {
	if c.empty {
		return 0, io.EOF
	}
	c.mu.RLock()
	size, synced := c.size, c.synced
	c.mu.RUnlock()
	if off < 0 {
		return 0, errors.New("pebblestore: negative offset")
	}
	strict := size
	if sequential {
		strict = synced
	}
	if off >= size {
		return 0, io.EOF
	}
	// The physical blocks of the whole read, in one read of the base file.
	j0 := off / cryptBlock
	j1 := (min(off+int64(len(p)), size) - 1) / cryptBlock
	var phys []byte
	if need := int(j1-j0+1) * cryptPhys; need <= 2*cryptPhys {
		bp := physPool.Get().(*[]byte)
		defer physPool.Put(bp)
		phys = (*bp)[:need]
	} else {
		phys = make([]byte, need)
	}
	m, err := c.f.ReadAt(phys, physOf(j0))
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	phys = phys[:m]
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= size {
			return n, io.EOF
		}
		j := pos / cryptBlock
		from := int((j - j0) * cryptPhys)
		var b []byte
		if from < len(phys) {
			b = phys[from:min(from+cryptPhys, len(phys))]
		}
		l := c.k.openBlock(b, j)
		boff := int(pos % cryptBlock)
		if l <= boff {
			if pos < strict {
				return n, fmt.Errorf("%w: block %d (plaintext offset %d)", ErrCorrupt, j, pos)
			}
			return n, io.EOF
		}
		k := min(l-boff, len(p)-n, int(size-pos))
		c.k.xor(p[n:n+k], b[cryptDataOff+boff:cryptDataOff+boff+k], pos)
		n += k
		if l < cryptBlock && n < len(p) && j*cryptBlock+int64(l) < size {
			// A short block before the end.
			if j*cryptBlock+int64(l) < strict {
				return n, fmt.Errorf("%w: block %d is short", ErrCorrupt, j)
			}
			return n, io.EOF
		}
	}
	return n, nil
}

func (c *cryptFile) Preallocate(offset, length int64) error {
	if !c.write {
		return nil
	}
	end := physOf((offset+length)/cryptBlock + 1)
	start := physOf(offset / cryptBlock)
	return c.f.Preallocate(start, end-start)
}

func (c *cryptFile) Stat() (vfs.FileInfo, error) {
	st, err := c.f.Stat()
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return sizedInfo{st, c.size}, nil
}

func (c *cryptFile) Prefetch(offset, length int64) error { return nil }

// Fd is InvalidFd: nothing may read the ciphertext beneath the file.
func (c *cryptFile) Fd() uintptr { return vfs.InvalidFd }
