package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"wearhouse/bench"
)

// The memory tests run the real server with its default flags and attack
// it from loopback, each attack bounded in count and time, then read the
// server's own peak resident memory (VmHWM). The bound is the one the
// project promises: under 300 MiB whatever clients send.

const peakRSSBound = 300 << 20

// peakRSS is the server's peak resident memory so far.
func peakRSS(t *testing.T, p *serverProc) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read the server's status: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in the server's status")
	return 0
}

func memoryServer(t *testing.T) *serverProc {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads the server's peak memory from /proc")
	}
	bin := wearhouseBinary(t)
	return startServerArgs(t, bin, t.TempDir(), nil)
}

func requirePeak(t *testing.T, p *serverProc, what string) {
	t.Helper()
	peak := peakRSS(t, p)
	t.Logf("%s: peak resident memory %.1f MiB", what, float64(peak)/(1<<20))
	if peak > peakRSSBound {
		t.Errorf("%s: peak resident memory %.1f MiB, over the %d MiB bound", what, float64(peak)/(1<<20), peakRSSBound>>20)
	}
}

// postRaw sends one request on a new connection the way most HTTP clients
// do: the whole body written first, then the answer read. It returns the
// status, or 0 and the error when no answer was read (a reset).
func postRaw(addr, path string, header []string, body io.Reader, size int64) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	var h strings.Builder
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", path, size)
	for _, kv := range header {
		h.WriteString(kv + "\r\n")
	}
	h.WriteString("\r\n")
	bw := bufio.NewWriterSize(c, 64<<10)
	bw.WriteString(h.String())
	if _, err := io.Copy(bw, body); err != nil {
		return 0, fmt.Errorf("write the body: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write the body: %w", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, fmt.Errorf("read the answer: %w", err)
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func addrOf(p *serverProc) string { return strings.TrimPrefix(p.base, "http://") }

// Thirty-two strangers each send 60 MB, twice over, then 30 MB (under the
// size limit), while 1,900 others hold connections with endless headers. None of it may be held: each gets its 401 or 413, and sees it
// (no reset) though it writes the whole body before reading.
func TestMemoryUnauthenticatedFlood(t *testing.T) {
	p := memoryServer(t)
	// Meanwhile 1,900 more connections dribble headers that never end
	// (within the 2,048 connections served by default).
	for range 1900 {
		c, err := net.Dial("tcp", addrOf(p))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nX-Pad: %s", strings.Repeat("a", 6000))
	}
	const clients = 32
	for round, size := range []int64{60 << 20, 60 << 20, 30 << 20} {
		var wg sync.WaitGroup
		statuses := make([]int, clients)
		errs := make([]error, clients)
		for i := range clients {
			wg.Go(func() {
				statuses[i], errs[i] = postRaw(addrOf(p), "/api/v1/sdk/users/victim/sync",
					[]string{"Content-Type: application/json"}, io.LimitReader(zeros{}, size), size)
			})
		}
		wg.Wait()
		for i := range clients {
			// 413 when the declared size is over the limit, 401 else:
			// both decided from the headers.
			if errs[i] != nil || (statuses[i] != 401 && statuses[i] != 413) {
				t.Errorf("round %d, client %d: status %d, error %v; want 401 or 413", round, i, statuses[i], errs[i])
			}
		}
	}
	requirePeak(t, p, "32 unauthenticated bodies of 60 MB, twice, then of 30 MB, beside 1,900 connections holding headers")
}

// bomb is a body of size zero bytes compressed with enc.
func bomb(t *testing.T, enc string, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	case "deflate":
		w, _ = zlib.NewWriterLevel(&buf, zlib.BestCompression)
	case "zstd":
		zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithWindowSize(8<<20))
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	}
	if _, err := io.Copy(w, io.LimitReader(zeros{}, size)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Authenticated clients send decompression bombs of every encoding, 32 at
// once: each is cut off at the size limit or refused for the bytes in
// flight, and the server's memory stays bounded.
func TestMemoryDecompressionBombs(t *testing.T) {
	p := memoryServer(t)
	for _, enc := range []string{"gzip", "deflate", "zstd"} {
		body := bomb(t, enc, 1<<30)
		var wg sync.WaitGroup
		statuses := make([]int, 32)
		errs := make([]error, 32)
		for i := range statuses {
			wg.Go(func() {
				statuses[i], errs[i] = postRaw(addrOf(p), "/api/v1/sdk/users/bomber/sync",
					[]string{"X-Open-Wearables-API-Key: " + crashAdminKey, "Content-Encoding: " + enc},
					bytes.NewReader(body), int64(len(body)))
			})
		}
		wg.Wait()
		for i, st := range statuses {
			if errs[i] != nil || (st != 413 && st != 503) {
				t.Errorf("%s bomb %d: status %d, error %v; want 413 or 503", enc, i, st, errs[i])
			}
		}
		t.Logf("%s: %d compressed bytes for 1 GiB", enc, len(body))
	}
	requirePeak(t, p, "32 decompression bombs of gzip, deflate and zstd")
}

// 64 and then 192 connections send 2,000-record batches as fast as they
// can, for a few seconds each.
func TestMemoryManyConnections(t *testing.T) {
	p := memoryServer(t)
	g, err := bench.NewGenerator(bench.PayloadConfig{Items: 2000})
	if err != nil {
		t.Fatal(err)
	}
	bodies := g.Pool(16)
	for _, conns := range []int{64, 192} {
		r, err := bench.Run(context.Background(), bench.Config{
			Target: p.base, APIKey: crashAdminKey, Connections: conns, Duration: 4 * time.Second,
			Bodies: bodies, Timeout: 30 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Accepted == 0 {
			t.Fatalf("%d connections: nothing accepted: %s", conns, r)
		}
		// A body the pool sends twice to one user is answered as a
		// replay: that is right, not an error.
		if n := r.ErrorCount() - r.Overloaded - r.Duplicates; n > 0 {
			t.Errorf("%d connections: %d errors besides 503: %s", conns, n, r)
		}
		t.Logf("%d connections: %d batches accepted, %d refused with 503", conns, r.Accepted, r.Overloaded)
	}
	requirePeak(t, p, "64 then 192 connections of 2,000-record batches")
}

// The largest batch the defaults take, about 32 MB of JSON, sent alone,
// then four at once.
func TestMemoryLargestBatch(t *testing.T) {
	p := memoryServer(t)
	g, err := bench.NewGenerator(bench.PayloadConfig{Items: 68_000})
	if err != nil {
		t.Fatal(err)
	}
	bodies := g.Pool(4)
	for _, b := range bodies {
		if len(b.Data) > 32<<20 {
			t.Fatalf("a body of %d bytes is over the default limit", len(b.Data))
		}
	}
	post := func(i int) (int, error) {
		return postRaw(addrOf(p), "/api/v1/sdk/users/"+bench.UserID(i)+"/sync",
			[]string{"X-Open-Wearables-API-Key: " + crashAdminKey, "Content-Type: application/json"},
			bytes.NewReader(bodies[i].Data), int64(len(bodies[i].Data)))
	}
	if st, err := post(0); st != 202 {
		t.Fatalf("one batch of %d bytes: status %d, error %v", len(bodies[0].Data), st, err)
	}
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Go(func() {
			if st, err := post(i); st != 202 && st != 503 {
				t.Errorf("batch %d of 4 at once: status %d, error %v", i, st, err)
			}
		})
	}
	wg.Wait()
	requirePeak(t, p, fmt.Sprintf("one batch of %.1f MB, then four at once", float64(len(bodies[0].Data))/1e6))
}
