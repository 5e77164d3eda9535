// Package pebblestore owns wearhouse's one Pebble database: the layout of
// every keyspace, the encoding of keys and values, batches and iterators, and
// Pebble's options, logger and event listener. It is the only importer of
// Pebble.
//
// # Keyspaces
//
// Every key starts with a one-byte prefix. Integers in keys are fixed-width
// big-endian, so byte order is numeric order; times in keys are Unix
// microseconds with the sign bit flipped, so byte order is time order.
// "user" is the user's internal id (u32), "sid" a data source's id (u32).
//
//	'm' name                                 meta: store-wide values (store id, JWT secret, compactor position, id counters)
//	'q' seq:u64                              write-ahead queue: one entry per acknowledged batch
//	'Z' seq:u64                              batches set aside: queue entries that could not be indexed
//	'd' user hash:16                         byte-identical replay guard: hash of (user id, body)
//	'i' user principal 0x00 key              Idempotency-Key records, per user and credential
//	'u' user_id                              users by their external id
//	'U' user                                 users by their internal id
//	'C' user provider                        connections: one per provider that synced
//	'k' sha256(key):32                       API keys, stored by hash only
//	'r' sha256(token):32                     refresh tokens, stored by hash only
//	'a' app_id                               applications, their secrets stored by hash only
//	'c' sha256(code):32                      invitation codes, stored by hash only
//	'I' user sha256(code):32                 a user's invitation codes (empty values)
//	'h' email                                human accounts of the console, their passwords stored as argon2id hashes
//	'S' sha256(token):32                     sessions of those accounts, stored by hash only
//	'D' user provider model name             data source dictionary -> sid (each string u8 length + bytes)
//	'E' sid                                  data source records
//	'V' user type                            a user's unmapped SDK types -> series id:u16 (from 1000) and unit
//	'W' user id:u16                          a user's unmapped series by id -> type 0x00 unit
//	'p' user series:u16 hour:u32 sid         series points: one block per (user, series, hour, source)
//	'w' user start sid end part:u8           workouts and their parts (below)
//	'l' user provider:u8 start end sid stage sleep stages
//	'R' seq:u64                              sync runs
//	'X' user seq:u64                         a user's runs (empty values)
//	'L' user seq:u64                         SDK log events, the last 1,000 per user
//	'J' user id:16                           import jobs: a spooled export, its checkpoint and progress
//	'K' user id:16                           the sequence number an import's run is kept under -> seq:u64
//	'A' seq:u64                              the audit trail (package audit's), append-only, chained by hash; not erased with a user
//
// With Options.EncryptionKey every file the database writes is ciphertext
// (cryptfs.go); the meta keys audit.anchor and audit.head mark the audit
// trail's ends (audit.go).
//
// Dictionaries: data source ids (sid) are store-wide u32s, never reused;
// the ids of unmapped SDK types are per user, from FirstCustomSeries to
// 65,535, the lowest free one first, so that no user's types can use up
// another's. Options.MaxSourcesPerUser and MaxCustomSeriesPerUser bound
// each user's entries (a new entry past them is a *LimitError, and the
// item is not indexed). Releases before per-user type ids kept one
// store-wide dictionary, 'T' type -> id:u16 unit and 'Y' id:u16 -> type
// 0x00 unit: Open moves each user's entries of it, under the same ids, to
// 'V' and 'W', and deletes it, in one synced write.
//
// Workouts: 'w' user start sid end part:u8, where part 0 is the workout
// record and 1 to 4 are its route, samples, laps and segments as received.
// A workout is identified by (user, source, start, end): a corrected
// workout overwrites every part. Sleep stages are identified by (user,
// source, stage, start, end). Series points are identified by (user, series,
// source, start) inside their block: a replayed point replaces the stored
// one; a point of an import (AddImportedPoint) never replaces one, and
// counts as a duplicate. Hours in block keys are signed u32 hour numbers
// with the sign bit flipped.
//
// # Values
//
// Queue entry ('q'):
//
//	version:u8=2 received:i64(unix ns) batch_id:16 user:u32 request_size:u32
//	provider_len:u8 provider user_id_len:u16 user_id body
//
// In version 2 the body is the batch as validated, in the codec's queued
// form (a sixth to a third of the JSON, and the compactor does not parse it again);
// request_size is the size of the request body, which the index backlog is
// counted in. Version 3 is version 2 for a chunk of an import: batch_id is
// the import's id, and the chunk has no run of its own (its counts go to
// the import's run). Version 1 (no request_size) holds the request body as
// received after decompression: entries written by earlier releases are
// still read and indexed. The compactor deletes an entry in the same
// atomic write that indexes it: whatever is in the queue is not yet
// indexed. Values of 16 KiB and more of the queue and of workouts (routes
// and samples) are kept in Pebble's blob files (value separation), so that
// compactions move only their handles and a list of workouts does not read
// their routes; every other keyspace keeps its values in place.
//
// Replay guard ('d') and idempotency record ('i'):
//
//	stored:i64(unix ns) fingerprint:16 seq:u64 response(JSON of the first 202)
//
// The replay guard's fingerprint is unused (zero); the idempotency record's
// is the hash of (user id, body) that the key was first used with.
//
// Series block ('p'): see block.go; about 1 byte per point for a 1 Hz
// heart rate, 17 when every sample carries its own UUID.
//
// User ('u'): iid:u32 created:i64(unix ns) profile(JSON, may be empty).
// User by iid ('U'): the user id. Sleep stage ('l'): zone, external id,
// parent id, each u8 length + bytes. SDK log ('L'): see sdklogs.go.
// Connections, API keys, refresh tokens, data sources, runs and workout
// records are JSON. API keys, refresh tokens, applications and invitation
// codes are package auth's records, which the store does not read:
// DeleteUser erases a user's refresh tokens through the hook auth
// registers (OnDeleteUser), and a user's invitation codes through their
// per-user index ('I').
//
// # Backups
//
// Every store has a random id, the meta key store_id, made with the store
// (or at the first open of a store of an earlier release) and copied to
// StoreIDFile in the data directory for readers that cannot open the
// store. NewCheckpoint makes a consistent copy in a temporary directory
// inside the data directory (Open removes those a stopped process left);
// WriteArchive streams it as a tar archive whose last entry is its
// manifest; ReadArchive writes one into a backup directory, and Restore
// makes a data directory of that, with the same store id (archive.go,
// backup.go, storeid.go).
//
// # Reads
//
// A value the disk fails to read, or that does not decode, is an error of
// the read, never an empty or skipped value. Each iterator says how long
// what it hands its callback stays valid: until the callback returns when
// it aliases a reused or Pebble's buffer (SeriesRange, ScanSeries,
// Workouts, Each), for good otherwise.
package pebblestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/rs/zerolog"
)

// Key prefixes, one per keyspace.
const (
	prefixMeta     = 'm'
	prefixQueue    = 'q'
	prefixDedup    = 'd'
	prefixIdem     = 'i'
	prefixUser     = 'u'
	prefixUserIID  = 'U'
	prefixAPIKey   = 'k'
	prefixRefresh  = 'r'
	queueEntryV1   = 1 // the JSON request body
	queueEntryV2   = 2 // the validated batch in the codec's queued form
	queueEntryV3   = 3 // as V2, a chunk of an import (BatchID is the import's id)
	hashLen        = 16
	maxUserIDBytes = 1<<16 - 1
)

// ErrNotFound is returned when a key does not exist.
var ErrNotFound = errors.New("pebblestore: not found")

// Options configure the store.
type Options struct {
	Dir    string
	Logger zerolog.Logger
	// CacheSize is the block cache in bytes.
	CacheSize int64
	// MemTableSize is the size of one memtable in bytes.
	MemTableSize uint64
	// MaxSourcesPerUser is how many distinct data sources one user may
	// have. An item of a new data source past it is not indexed: the
	// compactor counts it in the batch's run, with the reason. Default
	// 1,000.
	MaxSourcesPerUser int
	// MaxCustomSeriesPerUser is how many distinct SDK types outside the
	// mapping tables one user may have, likewise; at most
	// MaxCustomSeriesPerUser (64,536, the ids one user has for them).
	// Default 1,000.
	MaxCustomSeriesPerUser int
	// UnsafeNoSync turns the fsync of acknowledged writes off. It exists only
	// so that the crash test can prove it detects a loss; never set it. The
	// server sets it only in a build with the wearhouse_unsafe tag.
	UnsafeNoSync bool
	// FS is the filesystem the store lives on; nil is the disk. Tests pass
	// an in-memory or a fault-injecting one (Pebble's vfs/errorfs).
	FS vfs.FS
	// OnFatal, when set, receives Pebble's fatal message (a failed WAL
	// fsync, for one) before the process exits. Tests only: when Pebble's
	// Fatalf returns, Pebble carries on as if the failed operation had
	// succeeded, so the hook must not return (it may end its goroutine
	// with runtime.Goexit); if it does return, the process exits as
	// without it. The store is then unusable and must be abandoned.
	OnFatal func(msg string)
	// EncryptionKey, when set (KeySize random bytes), keeps every file of
	// the store as ciphertext (cryptfs.go): Open wraps FS with
	// NewEncryptedFS. A store made with a key opens only with it, and a
	// store made without one does not open with one. OldEncryptionKeys
	// read the files still under earlier keys; new files are written
	// under EncryptionKey.
	EncryptionKey     []byte
	OldEncryptionKeys [][]byte
	// EncryptionSuite is the cipher suite of new files (SuiteAES,
	// SuiteChaCha); 0 chooses by the CPU (DefaultSuite). Files are read
	// whatever their suite.
	EncryptionSuite byte
	// MustExist makes Open refuse a data directory that holds no store,
	// rather than create one there (the offline backup: a mistyped data
	// directory is an error, not a new empty store). Default false.
	MustExist bool
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.CacheSize == 0 {
		o.CacheSize = 32 << 20
	}
	if o.MemTableSize == 0 {
		// Small memtables measured best under load: without cgo they are Go
		// heap, and 8 MiB ones kept the collector's work low (167,000
		// records/s accepted against 132,000 with 32 MiB; BENCHMARKS.md).
		o.MemTableSize = 8 << 20
	}
	if o.MaxSourcesPerUser == 0 {
		o.MaxSourcesPerUser = 1000
	}
	if o.MaxCustomSeriesPerUser == 0 {
		o.MaxCustomSeriesPerUser = 1000
	}
}

// Validate reports a configuration that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("pebblestore: a data directory is required"))
	}
	if o.CacheSize < 1<<20 {
		errs = append(errs, errors.New("pebblestore: cache size must be at least 1 MiB"))
	}
	if o.MemTableSize < 1<<20 {
		errs = append(errs, errors.New("pebblestore: memtable size must be at least 1 MiB"))
	}
	if o.MaxSourcesPerUser < 1 {
		errs = append(errs, errors.New("pebblestore: the data source limit per user must be at least 1"))
	}
	if o.MaxCustomSeriesPerUser < 1 || o.MaxCustomSeriesPerUser > MaxCustomSeriesPerUser {
		errs = append(errs, fmt.Errorf("pebblestore: the custom series type limit per user must be from 1 to %d", MaxCustomSeriesPerUser))
	}
	return errors.Join(errs...)
}

// fs is the filesystem the store lives on.
func (o *Options) fs() vfs.FS {
	if o.FS == nil {
		return vfs.Default
	}
	return o.FS
}

// Store is the open database.
type Store struct {
	db      *pebble.DB
	opts    Options
	wo      *pebble.WriteOptions
	log     zerolog.Logger
	stalled atomic.Bool
	stats   storeStats
	id      string // the store id (storeid.go)
	// encrypted: Pebble's files are ciphertext (Options.EncryptionKey);
	// the store id file stays plaintext on Options.FS.
	encrypted bool
	pfs       vfs.FS // Pebble's filesystem: Options.FS, encrypted or not

	mu      sync.Mutex // guards the user dictionary's counter
	nextIID uint32
	dict    dictionaries
	// eraseMu orders the erasure of users with indexing: an IndexBatch
	// holds it from NewIndexBatch until it is committed or closed, and
	// DeleteUser for its write. It guards eraseHooks.
	eraseMu    sync.Mutex
	eraseHooks []EraseHook
}

// Open opens (or creates, unless o.MustExist) the store in o.Dir. It
// gives the store its id when it has none, and removes the temporary
// checkpoints that a process stopped in a backup left behind.
func Open(o Options) (*Store, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	fs, newEncrypted, err := encryptionFS(o.fs(), &o)
	if err != nil {
		return nil, err
	}
	if o.MustExist {
		desc, err := pebble.Peek(o.Dir, fs)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("pebblestore: data directory %s does not exist", o.Dir)
		case err != nil:
			return nil, fmt.Errorf("pebblestore: %s: %w", o.Dir, err)
		case !desc.Exists:
			return nil, fmt.Errorf("pebblestore: %s holds no store", o.Dir)
		}
	} else if err := makeDataDir(fs, o.Dir); err != nil {
		return nil, fmt.Errorf("pebblestore: create data directory: %w", err)
	}
	if err := checkManifest(fs, o.Dir); err != nil {
		return nil, err
	}
	if newEncrypted {
		if err := writeEncryptionMarker(fs, o.Dir); err != nil {
			return nil, err
		}
	}
	s := &Store{opts: o, log: o.Logger, wo: pebble.Sync, encrypted: fs != o.fs(), pfs: fs}
	if o.UnsafeNoSync {
		s.wo = pebble.NoSync
	}
	cache := pebble.NewCache(o.CacheSize)
	defer cache.Unref()
	popts := &pebble.Options{
		Cache:                       cache,
		MemTableSize:                o.MemTableSize,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       2,
		L0StopWritesThreshold:       1000,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      pebbleLogger{l: o.Logger, onFatal: o.OnFatal},
		EventListener:               s.eventListener(),
		FS:                          fs,
	}
	// Bloom filters on every level, L0 included: the compactor reads a block
	// per (user, series, hour) for each batch it indexes, most of them new,
	// and a filter answers "not here" without reading a table.
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// Large values that are written once go to blob files, where
	// compactions move only their handles: the queue's batches (deleted
	// once indexed), the batches set aside (counted by their keys alone)
	// and workouts' routes and samples (hundreds of KB,
	// which a list of workouts would otherwise read and decompress to
	// reach the small record stored beside each). Everything else stays
	// in place: the index blocks are read, merged and rewritten as batches
	// arrive, and in blob files every rewrite would leave garbage behind.
	popts.Experimental.SpanPolicyFunc = separatedSpans(prefixDeadLetter, prefixQueue, prefixWorkout)
	popts.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled:               true,
			MinimumSize:           16 << 10,
			MaxBlobReferenceDepth: 10,
			RewriteMinimumAge:     5 * time.Minute,
			TargetGarbageRatio:    0.2,
		}
	}
	db, err := pebble.Open(o.Dir, popts)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", o.Dir, err)
	}
	s.db = db
	if err := s.loadUserCounter(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadDictionaries(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadStoreID(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.removeCheckpoints(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// separatedSpans is a span policy under which the values of the keyspaces
// of the given prefixes (in ascending order) may be separated into blob
// files, and those of every other keyspace are kept in place.
func separatedSpans(prefixes ...byte) pebble.SpanPolicyFunc {
	inPlace := pebble.SpanPolicy{ValueStoragePolicy: pebble.ValueStorageLowReadLatency}
	return func(start []byte) (pebble.SpanPolicy, []byte, error) {
		for _, p := range prefixes {
			switch {
			case bytes.Compare(start, []byte{p}) < 0:
				return inPlace, []byte{p}, nil
			case bytes.Compare(start, []byte{p + 1}) < 0:
				return pebble.SpanPolicy{}, []byte{p + 1}, nil
			}
		}
		return inPlace, nil, nil
	}
}

// makeDataDir creates dir and the directories above it that are missing,
// and syncs each new entry into its parent. Pebble syncs the data directory
// and its files, but not the entry that leads to a new data directory: a
// crash soon after the first start could lose the directory, and every
// batch acknowledged in it.
func makeDataDir(fs vfs.FS, dir string) error {
	var missing []string
	for d := dir; ; {
		if _, err := fs.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		parent := fs.PathDir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fs.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, d := range missing {
		parent, err := fs.OpenDir(fs.PathDir(d))
		if err != nil {
			return err
		}
		err = parent.Sync()
		if cerr := parent.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database. Nothing may use the store afterwards.
func (s *Store) Close() error { return s.db.Close() }

// Dir is the data directory.
func (s *Store) Dir() string { return s.opts.Dir }

// Stalled reports whether Pebble is delaying writes (memtables or L0 full);
// admission refuses new batches meanwhile.
func (s *Store) Stalled() bool { return s.stalled.Load() }

func (s *Store) eventListener() *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) { s.log.Error().Err(err).Msg("pebble background error") },
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			s.stalled.Store(true)
			s.stats.writeStalls.Add(1)
			s.stats.stallStart.Store(time.Now().UnixNano())
			s.log.Warn().Str("reason", info.Reason).Msg("pebble write stall began")
		},
		WriteStallEnd: func() {
			s.stalled.Store(false)
			if start := s.stats.stallStart.Swap(0); start != 0 {
				s.stats.writeStallNanos.Add(time.Now().UnixNano() - start)
			}
			s.log.Info().Msg("pebble write stall ended")
		},
		DiskSlow: func(info pebble.DiskSlowInfo) {
			s.stats.diskSlow.Add(1)
			s.log.Warn().Str("path", info.Path).Dur("duration", info.Duration).Msg("pebble disk operation slow")
		},
		// Pebble's default for a checksum that fails on read is to stop the
		// process with the whole error and its stack as the message; the
		// process still stops, with a message that says what to do.
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			pebbleLogger{l: s.log, onFatal: s.opts.OnFatal}.Fatalf("on-disk corruption in %s: %v. "+
				"The store is damaged; wearhouse stops rather than serve from it or write over it. "+
				"Restore the data directory from a backup", info.Path, info.Details)
		},
		LowDiskSpace: func(info pebble.LowDiskSpaceInfo) {
			s.log.Warn().Uint64("available_bytes", info.AvailBytes).Uint64("total_bytes", info.TotalBytes).Msg("low disk space")
		},
	}
}

// pebbleLogger routes Pebble's log through zerolog. Fatalf keeps Pebble's
// contract: the process must stop, because Pebble calls it only when it
// cannot go on safely (a failed WAL fsync, for one). onFatal is the
// tests' hook (Options.OnFatal).
type pebbleLogger struct {
	l       zerolog.Logger
	onFatal func(msg string)
}

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Info().Str("subsystem", "pebble").Msgf(format, args...)
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error().Str("subsystem", "pebble").Msgf(format, args...)
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.WithLevel(zerolog.FatalLevel).Str("subsystem", "pebble").Msg(msg)
	if p.onFatal != nil {
		p.onFatal(msg)
	}
	os.Exit(1)
}

// Batch collects writes that are committed together, atomically.
type Batch struct {
	s *Store
	b *pebble.Batch
}

// NewBatch starts a batch.
func (s *Store) NewBatch() *Batch { return &Batch{s: s, b: s.db.NewBatch()} }

// NewBatchSized starts a batch with room for about size bytes, so that a
// large body is not copied again as the batch grows.
func (s *Store) NewBatchSized(size int) *Batch {
	return &Batch{s: s, b: s.db.NewBatchWithSize(size)}
}

// Commit writes the batch and waits for the WAL fsync: when it returns nil,
// the batch survives a crash. The batch cannot be used afterwards.
func (b *Batch) Commit() error {
	err := b.b.Commit(b.s.wo)
	b.b.Close()
	return err
}

// Close discards an uncommitted batch.
func (b *Batch) Close() { b.b.Close() }

// Len is the size of the batch's representation in bytes.
func (b *Batch) Len() int { return b.b.Len() }

// has reports whether key is stored.
func (s *Store) has(key []byte) (bool, error) {
	_, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, closer.Close()
}

func (s *Store) get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	// A value kept in a blob file is read by Get, and the error of that
	// read is reported only by closing it.
	out := bytes.Clone(v)
	if err := closer.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

func key(prefix byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 1, n)
	k[0] = prefix
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// Meta returns a store-wide value.
func (s *Store) Meta(name string) ([]byte, error) { return s.get(key(prefixMeta, []byte(name))) }

// PutMeta writes a store-wide value, synced.
func (s *Store) PutMeta(name string, value []byte) error {
	return s.db.Set(key(prefixMeta, []byte(name)), value, pebble.Sync)
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func be32(v uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b[:]
}

// Flush flushes memtables to disk; tests use it. (A checkpoint needs no
// flush: it copies the WAL.)
func (s *Store) Flush() error { return s.db.Flush() }
