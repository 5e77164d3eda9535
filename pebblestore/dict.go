package pebblestore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Dictionary keyspaces: the data sources and the unmapped series types of
// each user, written by the compactor.
const (
	prefixSource     = 'D' // 'D' user:u32 provider model name (each u8 len + bytes) -> sid:u32
	prefixSourceByID = 'E' // 'E' sid:u32 -> SourceRecord (JSON)
	prefixUserType   = 'V' // 'V' user:u32 type -> id:u16 unit (unmapped SDK types)
	prefixUserTypeID = 'W' // 'W' user:u32 id:u16 -> type 0x00 unit

	// The store-wide dictionary of unmapped types of earlier releases: one
	// id space shared by every user. Open moves it to the per-user
	// keyspaces and deletes it.
	prefixSeriesType = 'T' // 'T' type -> id:u16 unit
	prefixTypeByID   = 'Y' // 'Y' id:u16 -> type 0x00 unit

	// FirstCustomSeries is the first id given to SDK types outside the
	// mapping tables; ids below it are the tables' series ids. Each user
	// has the ids from it to 65,535 for their own unmapped types.
	FirstCustomSeries = 1000
	// MaxCustomSeriesPerUser is the largest Options.MaxCustomSeriesPerUser:
	// every id from FirstCustomSeries to 65,535.
	MaxCustomSeriesPerUser = math.MaxUint16 - FirstCustomSeries + 1

	metaNextSource = "dict.next_source"
)

// LimitError reports an item that was not indexed because it would add an
// entry past a dictionary limit: a new data source or a new unmapped type
// for a user who has as many as the limit allows. It is a fault of the
// item, not of the store: the rest of the batch is indexed.
type LimitError struct {
	What  string // "data sources" or "custom series types"
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("pebblestore: the user has reached the limit of %d distinct %s", e.Limit, e.What)
}

// SourceRecord describes a data source: (user, provider, device model,
// source name), as fact sheet §4.7.
type SourceRecord struct {
	ID              uint32 `json:"id"`
	UserIID         uint32 `json:"user_iid"`
	Provider        string `json:"provider"`
	DeviceModel     string `json:"device_model,omitempty"`
	SourceName      string `json:"source_name,omitempty"`
	DeviceType      string `json:"device_type,omitempty"`
	SoftwareVersion string `json:"software_version,omitempty"`
}

func sourceKey(user uint32, provider, model, name string) []byte {
	k := append([]byte{prefixSource}, be32(user)...)
	k = lenPrefixed(k, provider)
	k = lenPrefixed(k, model)
	return lenPrefixed(k, name)
}

func userTypeKey(user uint32, typ string) []byte {
	return key(prefixUserType, be32(user), []byte(typ))
}

func userTypeIDKey(user uint32, id uint16) []byte {
	return key(prefixUserTypeID, be32(user), []byte{byte(id >> 8), byte(id)})
}

// dictionaries caches the data source dictionary. The compactor is its
// only writer. Unmapped types are not cached across batches: they are
// few, read once per batch, and a store-wide cache of every user's types
// would grow with the number of users.
type dictionaries struct {
	mu         sync.Mutex
	sources    map[string]uint32
	nextSource uint32
}

func (s *Store) loadDictionaries() error {
	d := &s.dict
	d.sources = map[string]uint32{}
	d.nextSource = 1
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSourceByID}, UpperBound: []byte{prefixSourceByID + 1}})
	if err != nil {
		return err
	}
	if it.Last() {
		d.nextSource = binary.BigEndian.Uint32(it.Key()[1:]) + 1
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	// Ids are never reused, even those of deleted data sources.
	if v, err := s.Meta(metaNextSource); err == nil && len(v) == 4 {
		d.nextSource = max(d.nextSource, binary.BigEndian.Uint32(v))
	}
	return s.moveLegacyTypes()
}

// moveLegacyTypes moves the store-wide dictionary of unmapped types of
// earlier releases into the per-user keyspaces: each user gets, under the
// same id, the types they have points under, so that every point reads
// back as it was written. One synced write does it all and deletes the
// old keyspaces, so it runs once; a crash before it leaves the old
// dictionary in place, and the next start does it again.
func (s *Store) moveLegacyTypes() error {
	legacy := map[uint16][]byte{} // id -> type 0x00 unit
	if err := s.eachPrefix(prefixTypeByID, func(k, v []byte) error {
		if len(k) == 3 {
			legacy[binary.BigEndian.Uint16(k[1:])] = bytes.Clone(v)
		}
		return nil
	}); err != nil || len(legacy) == 0 {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	moved := 0
	err := s.eachUserSeries(FirstCustomSeries, func(user uint32, id uint16) error {
		v, ok := legacy[id]
		if !ok {
			return nil
		}
		typ, unit, _ := bytes.Cut(v, []byte{0})
		moved++
		if err := b.Set(userTypeKey(user, string(typ)), append([]byte{byte(id >> 8), byte(id)}, unit...), nil); err != nil {
			return err
		}
		return b.Set(userTypeIDKey(user, id), v, nil)
	})
	if err != nil {
		return fmt.Errorf("pebblestore: move unmapped series types: %w", err)
	}
	for _, p := range []byte{prefixSeriesType, prefixTypeByID} {
		if err := b.DeleteRange([]byte{p}, []byte{p + 1}, nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: move unmapped series types: %w", err)
	}
	s.log.Info().Int("types", len(legacy)).Int("user_series", moved).
		Msg("moved the store-wide dictionary of unmapped series types to per-user dictionaries")
	return nil
}

// eachUserSeries calls fn for each (user, series) that has points, with a
// series id of at least from: one seek per pair, not a scan of the points.
func (s *Store) eachUserSeries(from uint16, fn func(user uint32, series uint16) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPoints}, UpperBound: []byte{prefixPoints + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; {
		k := it.Key()
		if len(k) < 7 {
			valid = it.Next()
			continue
		}
		user, id := binary.BigEndian.Uint32(k[1:5]), binary.BigEndian.Uint16(k[5:7])
		switch {
		case id < from:
			valid = it.SeekGE(seriesPrefix(user, from))
			continue
		default:
			if err := fn(user, id); err != nil {
				return err
			}
		}
		switch {
		case id < math.MaxUint16:
			valid = it.SeekGE(seriesPrefix(user, id+1))
		case user < math.MaxUint32:
			valid = it.SeekGE(key(prefixPoints, be32(user+1)))
		default:
			valid = false
		}
	}
	return it.Error()
}

// Source returns a data source record by id.
func (s *Store) Source(sid uint32) (*SourceRecord, error) {
	v, err := s.get(key(prefixSourceByID, be32(sid)))
	if err != nil {
		return nil, err
	}
	var r SourceRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("pebblestore: data source %d: %w", sid, err)
	}
	return &r, nil
}

// UserSources lists the data sources of a user.
func (s *Store) UserSources(user uint32) ([]*SourceRecord, error) {
	lo, hi := userSpan(prefixSource, user)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*SourceRecord
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		r, err := s.Source(binary.BigEndian.Uint32(v))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, it.Error()
}

// CustomSeries returns the type string and unit of one of a user's
// unmapped series.
func (s *Store) CustomSeries(user uint32, id uint16) (typ, unit string, err error) {
	v, err := s.get(userTypeIDKey(user, id))
	if err != nil {
		return "", "", err
	}
	t, u, _ := bytes.Cut(v, []byte{0})
	return string(t), string(u), nil
}

// CustomSeriesID returns the id of one of a user's unmapped SDK types, or
// ErrNotFound.
func (s *Store) CustomSeriesID(user uint32, typ string) (uint16, error) {
	v, err := s.get(userTypeKey(user, typ))
	if err != nil {
		return 0, err
	}
	if len(v) < 2 {
		return 0, errors.New("pebblestore: malformed series type")
	}
	return binary.BigEndian.Uint16(v), nil
}

// countRange counts the keys in [lo, hi), stopping at limit.
func (s *Store) countRange(lo, hi []byte, limit int) (int, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid() && n < limit; it.Next() {
		n++
	}
	return n, it.Error()
}

// dictBatch is an index batch's view of the dictionaries: the entries it
// adds, and what it has read of each user's.
type dictBatch struct {
	newSources map[string]uint32
	nextSource uint32
	types      map[userType]uint16 // read or added in this batch
	users      map[uint32]*userDict
}

type userType struct {
	user uint32
	typ  string
}

// userDict is what a batch knows of one user's dictionaries, read when the
// batch first adds an entry for the user.
type userDict struct {
	sources int // data sources, counted up to the limit, new ones included
	// The ids of unmapped types in use, read up to the limit, new ones
	// included; nil until read.
	typeIDs map[uint16]bool
	nextID  uint16 // lowest id that may be free
}

func (s *Store) newDictBatch() dictBatch {
	s.dict.mu.Lock()
	ns := s.dict.nextSource
	s.dict.mu.Unlock()
	return dictBatch{newSources: map[string]uint32{}, nextSource: ns, types: map[userType]uint16{}, users: map[uint32]*userDict{}}
}

func (ib *IndexBatch) user(user uint32) *userDict {
	u := ib.users[user]
	if u == nil {
		u = &userDict{sources: -1, nextID: FirstCustomSeries}
		ib.users[user] = u
	}
	return u
}

// DataSource returns the id of a data source, adding it to the dictionary
// in this batch when it is new. A new source of a user who has
// Options.MaxSourcesPerUser of them is a *LimitError.
func (ib *IndexBatch) DataSource(r SourceRecord) (uint32, error) {
	k := sourceKey(r.UserIID, r.Provider, r.DeviceModel, r.SourceName)
	ks := string(k)
	if sid, ok := ib.newSources[ks]; ok {
		return sid, nil
	}
	d := &ib.s.dict
	d.mu.Lock()
	sid, ok := d.sources[ks]
	d.mu.Unlock()
	if ok {
		return sid, nil
	}
	v, err := ib.s.get(k)
	if err == nil && len(v) == 4 {
		sid = binary.BigEndian.Uint32(v)
		d.mu.Lock()
		d.sources[ks] = sid
		d.mu.Unlock()
		return sid, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	limit := ib.s.opts.MaxSourcesPerUser
	u := ib.user(r.UserIID)
	if u.sources < 0 {
		lo, hi := userSpan(prefixSource, r.UserIID)
		if u.sources, err = ib.s.countRange(lo, hi, limit); err != nil {
			return 0, err
		}
	}
	if u.sources >= limit {
		return 0, &LimitError{What: "data sources", Limit: limit}
	}
	if ib.nextSource == math.MaxUint32 {
		// Four billion data sources: the store's id space is spent.
		return 0, &LimitError{What: "data sources in the store", Limit: math.MaxUint32 - 1}
	}
	sid = ib.nextSource
	r.ID = sid
	rec, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	if err := ib.b.Set(k, be32(sid), nil); err != nil {
		return 0, err
	}
	if err := ib.b.Set(key(prefixSourceByID, be32(sid)), rec, nil); err != nil {
		return 0, err
	}
	ib.nextSource++
	u.sources++
	ib.newSources[ks] = sid
	return sid, nil
}

// CustomSeries returns the id of one of a user's SDK types outside the
// mapping tables, adding it in this batch when it is new. Unmapped records
// are stored under their own type and unit, never thrown away; a new type
// of a user who has Options.MaxCustomSeriesPerUser of them is a
// *LimitError. Ids are per user, so one user's types never use up
// another's.
func (ib *IndexBatch) CustomSeries(user uint32, typ, unit string) (uint16, error) {
	ut := userType{user, typ}
	if id, ok := ib.types[ut]; ok {
		return id, nil
	}
	id, err := ib.s.CustomSeriesID(user, typ)
	if err == nil {
		ib.types[ut] = id
		return id, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	limit := ib.s.opts.MaxCustomSeriesPerUser
	u := ib.user(user)
	if u.typeIDs == nil {
		u.typeIDs = map[uint16]bool{}
		lo, hi := userSpan(prefixUserTypeID, user)
		err := ib.s.each(lo, hi, func(k, _ []byte) error {
			if len(u.typeIDs) < limit && len(k) == 7 {
				u.typeIDs[binary.BigEndian.Uint16(k[5:])] = true
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	if len(u.typeIDs) >= limit {
		return 0, &LimitError{What: "custom series types", Limit: limit}
	}
	// The lowest free id: fewer than limit ids are in use, and limit is at
	// most the size of the id space, so there is one.
	for u.typeIDs[u.nextID] {
		u.nextID++
	}
	id = u.nextID
	idb := []byte{byte(id >> 8), byte(id)}
	if err := ib.b.Set(userTypeKey(user, typ), append(idb, unit...), nil); err != nil {
		return 0, err
	}
	if err := ib.b.Set(userTypeIDKey(user, id), []byte(typ+"\x00"+unit), nil); err != nil {
		return 0, err
	}
	u.typeIDs[id] = true
	ib.types[ut] = id
	return id, nil
}

// putDictCounters adds the dictionary counters to the batch.
func (ib *IndexBatch) putDictCounters() error {
	if len(ib.newSources) == 0 {
		return nil
	}
	return ib.b.Set(key(prefixMeta, []byte(metaNextSource)), be32(ib.nextSource), nil)
}

// publishDict makes a committed batch's new entries visible to the next.
func (ib *IndexBatch) publishDict() {
	d := &ib.s.dict
	d.mu.Lock()
	for k, v := range ib.newSources {
		d.sources[k] = v
	}
	d.nextSource = ib.nextSource
	d.mu.Unlock()
}
