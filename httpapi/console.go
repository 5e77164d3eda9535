package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/query"
)

// The console: a small script application in console/, embedded, that
// draws everything from the JSON API with the browser's session (so it
// can do no more than the account's role lets the API do). Its pages are
// one shell, index.html, served at every page address; its assets are
// flat files under /console/assets/, kept gzipped in memory and
// revalidated by ETag. Every answer of these routes carries a strict
// content security policy: scripts and styles of this origin only, no
// inline script, nothing framed, nothing sent elsewhere.
//
//go:embed console
var consoleFS embed.FS

// consolePolicy is the content security policy of the console's pages.
const consolePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// consolePages are the page addresses under /console/ (index.html at each).
var consolePages = map[string]bool{
	"users": true, "connect": true, "credentials": true, "accounts": true,
	"import": true, "exports": true, "login": true, "audit": true,
}

type consoleAsset struct {
	body, gz []byte
	etag     string
	ctype    string
}

var consoleAssets = sync.OnceValue(func() map[string]*consoleAsset {
	out := map[string]*consoleAsset{}
	_ = fs.WalkDir(consoleFS, "console", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := consoleFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a := &consoleAsset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: assetType(p)}
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		w.Write(b)
		w.Close()
		if gz.Len() < len(b) {
			a.gz = gz.Bytes()
		}
		out[strings.TrimPrefix(p, "console/")] = a
		return nil
	})
	return out
})

func assetType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".json":
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

func (s *Server) consoleRoutes() []route {
	return []route{
		h("GET", "/", consoleHome),
		h("GET", "/setup", consolePage),
		h("GET", "/console", consolePage),
		h("GET", "/console/{page}", func(ctx *fasthttp.RequestCtx, a []string) error {
			if !consolePages[a[0]] {
				return errNoSuchFile
			}
			return consolePage(ctx, nil)
		}),
		h("GET", "/console/users/{user_id}", consolePage),
		h("GET", "/console/assets/{name}", consoleFile),
		h("GET", "/api/v1/console/overview", s.overview),
	}
}

// consoleHome sends a browser to the console.
func consoleHome(ctx *fasthttp.RequestCtx, _ []string) error {
	ctx.Response.Header.Set("Location", "/console/")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(fasthttp.StatusFound)
	return nil
}

// pageHeaders are the headers of everything the console serves.
func pageHeaders(ctx *fasthttp.RequestCtx) {
	hd := &ctx.Response.Header
	hd.Set("Content-Security-Policy", consolePolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
}

// consolePage serves the shell; it holds no data, so it needs no session:
// a browser without one is shown the login form by the shell's script.
func consolePage(ctx *fasthttp.RequestCtx, _ []string) error {
	a := consoleAssets()["index.html"]
	if a == nil {
		return errNoSuchFile
	}
	pageHeaders(ctx)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	sendAsset(ctx, a)
	return nil
}

// consoleFile serves an asset, gzipped when the browser takes it, and 304
// when its ETag matches.
func consoleFile(ctx *fasthttp.RequestCtx, arg []string) error {
	name := arg[0]
	if strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return errNoSuchFile
	}
	a := consoleAssets()["assets/"+name]
	if a == nil {
		return errNoSuchFile
	}
	pageHeaders(ctx)
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("ETag", a.etag)
	ctx.Response.Header.Set("Vary", "Accept-Encoding")
	if inm := ctx.Request.Header.Peek("If-None-Match"); len(inm) > 0 && strings.Contains(string(inm), a.etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return nil
	}
	sendAsset(ctx, a)
	return nil
}

func sendAsset(ctx *fasthttp.RequestCtx, a *consoleAsset) {
	ctx.SetContentType(a.ctype)
	ctx.SetStatusCode(fasthttp.StatusOK)
	if a.gz != nil && bytes.Contains(ctx.Request.Header.Peek("Accept-Encoding"), []byte("gzip")) {
		ctx.Response.Header.Set("Content-Encoding", "gzip")
		ctx.Response.SetBodyRaw(a.gz)
		return
	}
	ctx.Response.SetBodyRaw(a.body)
}

// overviewView is GET /console/overview: the server at a glance.
type overviewView struct {
	Users            int     `json:"users"`
	Phones24h        int     `json:"phones_24h"`
	RecordsPerSecond float64 `json:"records_per_second"`
	IndexedPerSecond float64 `json:"indexed_per_second"`
	Compactor        struct {
		LagBatches      uint64  `json:"lag_batches"`
		LagSeconds      float64 `json:"lag_seconds"`
		SetAsideBatches int     `json:"set_aside_batches"`
		Running         bool    `json:"running"`
	} `json:"compactor"`
	Disk struct {
		Free    uint64 `json:"free_bytes"`
		Total   uint64 `json:"total_bytes"`
		Reserve uint64 `json:"reserve_bytes"`
	} `json:"disk"`
	RecentErrors []overviewError `json:"recent_errors"`
}

type overviewError struct {
	Time     string  `json:"time"`
	UserID   string  `json:"user_id"`
	Provider string  `json:"provider"`
	Status   string  `json:"status"`
	Detail   *string `json:"detail"`
}

// overviewRuns bounds the runs of the last day the overview looks at.
const overviewRuns = 5000

func (s *Server) overview(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	var v overviewView
	users, err := s.deps.Query.Users(query.UserParams{Page: 1, Limit: 1})
	if err != nil {
		return err
	}
	v.Users = users.Total
	v.RecordsPerSecond, v.IndexedPerSecond = s.rates.sample(s)
	if c := s.deps.Compactor; c != nil {
		b, behind := c.Lag()
		v.Compactor.LagBatches, v.Compactor.LagSeconds, v.Compactor.Running = b, behind.Seconds(), c.Running()
		if v.Compactor.SetAsideBatches, err = c.SetAside(); err != nil {
			return err
		}
	}
	v.Disk.Free, v.Disk.Total, v.Disk.Reserve = s.deps.Ingest.Disk()
	phones := map[string]bool{}
	v.RecentErrors = []overviewError{}
	l := query.RunListing{Since: time.Now().Add(-24 * time.Hour), Limit: overviewRuns}
	_, err = query.LatestRuns(s.deps.Query, l, func(r *query.Run) []query.Timed[struct{}] {
		sum := codec.SyncSummary(syncRun(r))
		if sum.Source == codec.SyncSourceSDK {
			phones[sum.UserID+"\x00"+sum.Provider] = true
		}
		if sum.Status == codec.StatusFailed && len(v.RecentErrors) < 10 {
			v.RecentErrors = append(v.RecentErrors, overviewError{Time: sum.LastUpdate, UserID: sum.UserID,
				Provider: sum.Provider, Status: sum.Status, Detail: sum.Error})
		}
		return nil
	})
	if err != nil {
		return err
	}
	v.Phones24h = len(phones)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	return writeValue(ctx, fasthttp.StatusOK, &v)
}

// rateWindow keeps samples of the accepted and indexed record counters, so
// that the overview shows records per second over the last few seconds.
type rateWindow struct {
	mu      sync.Mutex
	samples []rateSample
}

type rateSample struct {
	at                time.Time
	accepted, indexed uint64
}

// rateSpan is the span the rates are averaged over.
const rateSpan = 10 * time.Second

func (w *rateWindow) sample(s *Server) (accepted, indexed float64) {
	now := time.Now()
	cur := rateSample{at: now, accepted: s.deps.Ingest.Stats.Records.Load()}
	if c := s.deps.Compactor; c != nil {
		cur.indexed = c.Indexed.Records.Load()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// Keep one sample a second over the span, and the oldest within it.
	if n := len(w.samples); n == 0 || now.Sub(w.samples[n-1].at) >= time.Second {
		w.samples = append(w.samples, cur)
	}
	for len(w.samples) > 2 && now.Sub(w.samples[1].at) >= rateSpan {
		w.samples = w.samples[1:]
	}
	old := w.samples[0]
	dt := now.Sub(old.at).Seconds()
	if dt < 0.5 {
		return 0, 0
	}
	return float64(cur.accepted-old.accepted) / dt, float64(cur.indexed-old.indexed) / dt
}
