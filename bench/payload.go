package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// Providers the generator writes bodies for. Mixed gives each body one of
// the three, Apple twice as often as the others.
const (
	ProviderApple   = "apple"
	ProviderSamsung = "samsung"
	ProviderGoogle  = "google"
	ProviderMixed   = "mixed"
)

// PayloadConfig describes the bodies to generate.
type PayloadConfig struct {
	// Seed makes the bodies reproducible: the same seed gives the same
	// bytes. The default is 1.
	Seed uint64
	// Items is the number of items (records, sleep stages and workouts) in
	// one body. The default is 2,000, a foreground combined round.
	Items int
	// Provider is apple, samsung, google or mixed (the default).
	Provider string
}

// EnsureDefaults fills in zero fields.
func (c *PayloadConfig) EnsureDefaults() {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Items == 0 {
		c.Items = 2000
	}
	if c.Provider == "" {
		c.Provider = ProviderMixed
	}
}

// Validate reports a configuration that cannot work.
func (c *PayloadConfig) Validate() error {
	switch c.Provider {
	case ProviderApple, ProviderSamsung, ProviderGoogle, ProviderMixed:
	default:
		return fmt.Errorf("bench: unknown provider %q (apple, samsung, google or mixed)", c.Provider)
	}
	if c.Items < 1 || c.Items > 200_000 {
		return fmt.Errorf("bench: items per body must be 1 to 200000, not %d", c.Items)
	}
	return nil
}

// Body is one generated sync request body.
type Body struct {
	Index    int
	Provider string
	Data     []byte
	// Records, Sleep and Workouts count the items of each kind, as the
	// server's 202 counts them.
	Records, Sleep, Workouts int
	// RoutePoints and Samples count the 1 Hz points inside workouts; they
	// are not items.
	RoutePoints, Samples int
	// NonceOffset is where the 36 characters of the envelope's
	// syncSessionId start in Data. The load driver writes a fresh value
	// there for every request, so that no two requests are byte-identical.
	NonceOffset int
}

// Items is the number of items of the body.
func (b *Body) Items() int { return b.Records + b.Sleep + b.Workouts }

// Generator writes realistic sync bodies. Body i depends only on the seed
// and i, so bodies can be generated in any order and in parallel.
type Generator struct {
	cfg  PayloadConfig
	base time.Time
}

// NewGenerator checks the configuration and returns a generator.
func NewGenerator(cfg PayloadConfig) (*Generator, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Bodies walk back in time from this day, one day per body, so that two
	// bodies never hold the same samples.
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return &Generator{cfg: cfg, base: base}, nil
}

// Config is the generator's configuration with defaults filled in.
func (g *Generator) Config() PayloadConfig { return g.cfg }

// UserID is the id of the benchmark's n-th user (n from 0): bench-user-0001.
func UserID(n int) string { return fmt.Sprintf("bench-user-%04d", n+1) }

// Pool generates bodies 0 to n-1 on all cores.
func (g *Generator) Pool(n int) []*Body {
	out := make([]*Body, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				out[i] = g.Body(i)
			}
		}()
	}
	wg.Wait()
	return out
}

// providerOf is the provider of body i.
func (g *Generator) providerOf(i int) string {
	if g.cfg.Provider != ProviderMixed {
		return g.cfg.Provider
	}
	return [...]string{ProviderApple, ProviderSamsung, ProviderApple, ProviderGoogle}[i%4]
}

// shape is how one provider's SDK writes a body: its version and the
// writers of its three collections (payload_apple.go, payload_samsung.go, payload_google.go).
type shape struct {
	sdk     string
	records func(w *writer, n int)
	sleep   func(w *writer, n int)
	workout func(w *writer)
}

var shapes = map[string]shape{
	ProviderApple:   {"0.15.0", (*writer).appleRecords, (*writer).appleSleep, (*writer).appleWorkout},
	ProviderSamsung: {"0.11.1", (*writer).samsungRecords, (*writer).samsungSleep, (*writer).samsungWorkout},
	ProviderGoogle:  {"0.11.1", (*writer).googleRecords, (*writer).googleSleep, (*writer).googleWorkout},
}

// Body generates body i.
func (g *Generator) Body(i int) *Body {
	w := &writer{
		r:   rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)+0x9e3779b97f4a7c15)),
		b:   make([]byte, 0, g.cfg.Items*420+4096),
		day: g.base.AddDate(0, 0, -i),
	}
	body := &Body{Index: i, Provider: g.providerOf(i)}
	w.body = body
	// A device set per body, chosen among a few, so that the server sees a
	// realistic, bounded number of data sources.
	w.device = int(w.r.IntN(4))
	w.zone = [...]string{"+01:00", "+02:00", "-05:00", "+00:00", "-08:00", "+05:30"}[w.r.IntN(6)]

	// A combined round: one night of sleep and one workout when the body is
	// large enough, the rest records split evenly across the provider's
	// types (the SDKs give each unfinished type an equal share of a round).
	n := g.cfg.Items
	workouts, sleep := 0, 0
	if n >= 100 {
		workouts = 1
		sleep = min(max(n/60, 4), 32)
	}
	records := n - workouts - sleep

	shape := shapes[body.Provider]
	syncAt := w.day.Add(24*time.Hour + 2*time.Hour + time.Duration(w.r.IntN(3600))*time.Second)
	w.raw(`{"provider":"`)
	w.raw(body.Provider)
	w.raw(`","sdkVersion":"`)
	w.raw(shape.sdk)
	w.raw(`","syncTimestamp":`)
	w.time(syncAt)
	// iOS 0.15 sends syncSessionId and syncType; the server ignores them.
	// The session id carries the per-request nonce.
	w.raw(`,"syncSessionId":"`)
	body.NonceOffset = len(w.b)
	w.uuid(false)
	w.raw(`","syncType":"historical","data":{"records":[`)
	shape.records(w, records)
	w.raw(`],"sleep":[`)
	if sleep > 0 {
		shape.sleep(w, sleep)
	}
	w.raw(`],"workouts":[`)
	if workouts > 0 {
		shape.workout(w)
	}
	w.raw(`]}}`)
	body.Data = w.b
	return body
}
