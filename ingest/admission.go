package ingest

import "sync"

// DecodeCost is how many bytes of working memory decoding and queueing a
// body takes per byte of it, on top of the body itself: the decoded items
// (sonic allocates about 2.7 bytes per body byte for realistic SDK
// batches, BenchmarkDecode's B/op), the queued form and the Pebble batch
// that carries it. Submit charges it to the request's Admission before it
// decodes, so that MaxInflightBytes bounds what requests really hold.
const DecodeCost = 3

// Admission is one request's place in the write path's limits: a slot
// among MaxConcurrent and the bytes it holds, counted against
// MaxInflightBytes as they are taken. It is taken from the request line and
// headers alone, before a byte of the body is read, and grows as the body
// is read, decompressed and decoded, so that what a request holds is
// counted before it is allocated. One request is always let grow when it is
// alone in flight, so that a body up to the size limit can always pass.
//
// An Admission belongs to one request; Grow must not be called
// concurrently. Release may be called more than once.
type Admission struct {
	s    *Service
	held int64
	once sync.Once
}

// Admit takes a place for a sync request whose body is not read yet. A
// refusal (503 with Retry-After, or 507) is returned before anything is
// held; declared is the body's announced size (Content-Length), or 0.
func (s *Service) Admit(declared int) (*Admission, error) {
	if err := s.refusal(); err != nil {
		s.Stats.Refused.Add(1)
		return nil, err
	}
	if c := s.concurrent.Add(1); c > int64(s.opts.MaxConcurrent) {
		s.concurrent.Add(-1)
		s.Stats.Refused.Add(1)
		return nil, s.tooManyBatches()
	}
	a := &Admission{s: s}
	if declared > 0 {
		if err := a.Grow(declared); err != nil {
			a.Release()
			return nil, err
		}
	}
	return a, nil
}

// Grow counts n more bytes held by the request. Past MaxInflightBytes it
// returns the 503 refusal and counts nothing: the caller stops reading and
// answers it.
func (a *Admission) Grow(n int) error {
	if n <= 0 {
		return nil
	}
	s := a.s
	if b := s.inflightBytes.Add(int64(n)); b > s.opts.MaxInflightBytes && b != a.held+int64(n) {
		s.inflightBytes.Add(-int64(n))
		s.Stats.Refused.Add(1)
		return s.tooManyBytes()
	}
	a.held += int64(n)
	return nil
}

// Release gives the place and the bytes back.
func (a *Admission) Release() {
	a.once.Do(func() {
		a.s.inflightBytes.Add(-a.held)
		a.s.concurrent.Add(-1)
	})
}

// InFlight is the bytes and the requests held by admissions now.
func (s *Service) InFlight() (bytes, requests int64) {
	return s.inflightBytes.Load(), s.concurrent.Load()
}
