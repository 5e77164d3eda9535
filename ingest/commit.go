package ingest

import (
	"fmt"
	"time"

	"wearhouse/pebblestore"
)

// A write is one synced write of the write path (a sync's queue entry, or
// a user's SDK telemetry) while it is built, with what it holds: the
// request's admission, its locks, its queue sequence number. Sync and
// telemetry follow the same protocol, which is this type's:
//
//   - What a write holds is released, in the reverse order of taking, once
//     its synced write has finished, however long that takes, even after
//     the request was answered 503 on a timeout: until then a retry must
//     wait for the first write, not race it, and the compactor must not
//     pass its sequence number.
//   - A write given up before its commit (abandon) discards its batch and
//     releases everything at once.
//   - A user the write creates keeps usersMu until the write has finished,
//     so that a user is created once, and is cached before that lock is
//     released, once it is written.
//
// A write belongs to its request's goroutine until commit, which hands it
// to the goroutine that waits for the disk.
type write struct {
	s        *Service
	b        *pebblestore.Batch // nil until the write path builds it
	deadline time.Time          // where waits for locks end
	held     []func()           // the releases, in the order taken
	// seq is the queue sequence number reserved for the write, 0 for none.
	seq uint64
	// newUser and newIID are the user the write creates, if it does.
	newUser   string
	newIID    uint32
	handedOff bool // commit took the write over, or abandon released it
}

// startWrite takes over a request's admission, or admits the request
// (declared is its body's announced size), and grows it by grow bytes that
// the request is about to allocate. Waits for locks end CommitTimeout
// later: a write stalled on a slow disk holds the locks of its batch until
// it finishes, and a request waiting for them must still be answered in
// time.
func (s *Service) startWrite(adm *Admission, declared, grow int) (*write, error) {
	if adm == nil {
		var err error
		if adm, err = s.Admit(declared); err != nil {
			return nil, err
		}
	}
	w := &write{s: s}
	w.hold(adm.Release)
	if err := adm.Grow(grow); err != nil {
		w.abandon()
		return nil, err
	}
	w.deadline = time.Now().Add(s.opts.CommitTimeout)
	return w, nil
}

// hold adds a release to run once the write has finished.
func (w *write) hold(release func()) { w.held = append(w.held, release) }

// holdUser takes the lock of the write's user (users.go) and refuses a
// write made with an SDK token that no longer holds for the user.
func (w *write) holdUser(id string, g *Grant) error {
	unlock, err := w.s.lockUser(id, w.deadline)
	if err != nil {
		return err
	}
	w.hold(unlock)
	return w.s.checkGrant(id, g)
}

// user returns the internal id of the write's user, adding the user to the
// batch when it is new (Service.user).
func (w *write) user(id string, now time.Time) (uint32, error) {
	iid, created, err := w.s.user(w.b, id, now, w.deadline)
	if err != nil {
		return 0, err
	}
	if created {
		w.hold(w.s.usersMu.Unlock)
		w.newUser, w.newIID = id, iid
	}
	return iid, nil
}

// reserveSeq gives the write the next queue sequence number, in flight
// until the write has finished.
func (w *write) reserveSeq() uint64 {
	seq := w.s.seq.reserve()
	w.seq = seq
	w.hold(func() { w.s.seq.done(seq) })
	return seq
}

// abandon gives up a write that commit did not take over: its batch is
// discarded and what it holds released. It does nothing after commit, or
// when called again.
func (w *write) abandon() {
	if w.handedOff {
		return
	}
	w.handedOff = true
	if w.b != nil {
		w.b.Close()
	}
	w.release()
}

func (w *write) release() {
	for i := len(w.held) - 1; i >= 0; i-- {
		w.held[i]()
	}
}

// commit writes the batch with Sync and waits for it at most CommitTimeout;
// what names the write in errors and logs. Past the deadline the client is
// told to retry (503); if the write completes later, the retry is answered
// as a replay of it.
//
// When the write returns nil, durable (if not nil) runs first: the write
// is known to be durable and nothing is released yet. Then a user the
// write created is cached, what the write holds is released, and, for a
// queue write, the compactor is woken: its watermark is past the entry.
func (w *write) commit(what string, durable func()) error {
	s := w.s
	w.handedOff = true
	s.disk.since.Add(int64(w.b.Len()))
	done := make(chan error, 1)
	s.writes.Add(1)
	go func() {
		defer s.writes.Done()
		err := w.b.Commit()
		if err == nil && durable != nil {
			durable()
		}
		w.cacheUser()
		w.release()
		if err == nil && w.seq != 0 {
			select {
			case s.appended <- struct{}{}:
			default:
			}
		}
		done <- err
	}()
	t := time.NewTimer(s.opts.CommitTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("ingest: %s: %w", what, err)
		}
		return nil
	case <-t.C:
		s.log.Warn().Dur("timeout", s.opts.CommitTimeout).Msg(what + " did not finish in time; client told to retry")
		return refuse(KindOverloaded, s.opts.RetryAfter, "The store is slow to write; retry later.")
	}
}

// cacheUser caches the user the write created, once the store has it.
func (w *write) cacheUser() {
	if w.newUser == "" {
		return
	}
	if _, err := w.s.store.User(w.newUser); err == nil {
		w.s.users.Store(w.newUser, w.newIID)
	}
}
