//go:build linux

package main

// Fault test of the real binary on a real small file system: a 96 MiB
// tmpfs. Syncs fill it until admission refuses them with 507 while there
// is still room (Pebble would stop the process on ENOSPC); something else
// then fills the volume further and the server gives its ballast file
// back; when space returns the server accepts syncs again by itself. Every
// batch answered 202 is in the store afterwards. It needs root (to mount
// the tmpfs) and is skipped otherwise, and with -short.

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// bigSyncBody is a sync body of records heart rate records (about 230
// bytes each, with random ids that the store cannot compress much),
// different for every n.
func bigSyncBody(n, records int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	var b strings.Builder
	b.WriteString(`{"provider":"apple","sdkVersion":"1.0","syncTimestamp":"2026-01-01T00:00:00Z","data":{"records":[`)
	for i := range records {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"full-%d-%d-%016x%016x%016x%016x","type":"HKQuantityTypeIdentifierHeartRate",`+
			`"startDate":"2026-01-01T%02d:%02d:%02dZ","endDate":"2026-01-01T%02d:%02d:%02dZ","value":%d,"unit":"bpm"}`,
			n, i, rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(),
			i/3600%24, i/60%60, i%60, i/3600%24, i/60%60, i%60, 50+(n+i)%70)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

func volumeFree(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

func TestFaultBinaryFullDiskRefuses507AndRecovers(t *testing.T) {
	bin := wearhouseBinary(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting the small tmpfs needs root")
	}
	const (
		volume  = 96 << 20
		reserve = 32 << 20
		ballast = 8 << 20
	)
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", volume)); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	dir := filepath.Join(mnt, "data")
	ballastPath := filepath.Join(dir, "ballast")
	p := startServerArgs(t, bin, dir, []string{"--pause-compactor", "--disk-reserve", fmt.Sprint(reserve),
		"--ballast-size", fmt.Sprint(ballast), "--memtable-size", "4MiB"})
	c, tr := newCrashClient()
	defer tr.CloseIdleConnections()
	alive := func(when string) {
		t.Helper()
		select {
		case <-p.exited:
			t.Fatalf("%s: the server exited (%v); output:\n%s", when, p.waitErr, p.output.String())
		default:
		}
	}
	if _, err := os.Stat(ballastPath); err != nil {
		t.Fatalf("no ballast file at the start, with %d MiB free: %v", volumeFree(t, mnt)>>20, err)
	}

	// Fill: 4 clients post 250 KiB batches until each is refused.
	l := newLedger()
	var n, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				r := syncRequest{user: fmt.Sprintf("full-user-%d", i), body: bigSyncBody(int(n.Add(1)), 1100)}
				l.noteSent(r)
				status, a, raw, err := postSync(c, p.base, r)
				switch {
				case err != nil:
					l.fail("POST: %v", err)
					return
				case status == http.StatusInsufficientStorage:
					refused.Add(1)
					return
				}
				if msg := checkAnswer(r, status, a, raw, false); msg != "" {
					l.fail("%s", msg)
					return
				}
				l.noteAck(a.BatchID, r)
			}
			l.fail("client %d was never refused on a full volume", i)
		}()
	}
	wg.Wait()
	alive("while filling")
	l.requireNoErrors(t)
	// Pebble's flushes and compactions settle.
	free := volumeFree(t, mnt)
	for settle := time.Now().Add(5 * time.Second); time.Now().Before(settle); {
		time.Sleep(300 * time.Millisecond)
		now := volumeFree(t, mnt)
		if now == free {
			break
		}
		free = now
	}
	t.Logf("%d batches accepted, then 507 for %d clients with %d MiB free of %d MiB (reserve %d MiB)",
		len(l.acked), refused.Load(), free>>20, volume>>20, reserve>>20)
	if free < reserve/2 {
		t.Errorf("admission let the volume fill to %d MiB free, under half the reserve", free>>20)
	}

	// Something else fills the volume under half the reserve: the server
	// gives the ballast back and stays up, still refusing syncs.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for volumeFree(t, mnt) > reserve/4+int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			break // the volume is full enough
		}
	}
	f.Close()
	t.Logf("filler written: %d MiB free", volumeFree(t, mnt)>>20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(ballastPath); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ballast is still there with %d MiB free", volumeFree(t, mnt)>>20)
		}
		time.Sleep(50 * time.Millisecond)
	}
	alive("after the ballast was given back")
	r := syncRequest{user: "full-user-0", body: bigSyncBody(int(n.Add(1)), 10)}
	if status, _, raw, err := postSync(c, p.base, r); err != nil || status != http.StatusInsufficientStorage {
		t.Fatalf("with %d MiB free: %d %v %s, want 507", volumeFree(t, mnt)>>20, status, err, raw)
	}
	t.Logf("ballast given back: %d MiB free", volumeFree(t, mnt)>>20)

	// Space returns: syncs are accepted again without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		r := syncRequest{user: "full-user-0", body: bigSyncBody(int(n.Add(1)), 10)}
		l.noteSent(r)
		status, a, raw, err := postSync(c, p.base, r)
		if err != nil {
			t.Fatalf("after space returned: %v", err)
		}
		if status == http.StatusAccepted {
			if msg := checkAnswer(r, status, a, raw, false); msg != "" {
				t.Fatal(msg)
			}
			l.noteAck(a.BatchID, r)
			break
		}
		if status != http.StatusInsufficientStorage || time.Now().After(deadline) {
			t.Fatalf("after space returned (%d MiB free): %d %s", volumeFree(t, mnt)>>20, status, raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("accepted again with %d MiB free", volumeFree(t, mnt)>>20)

	tr.CloseIdleConnections()
	p.stop(t)
	if out := p.output.String(); strings.Contains(out, `"level":"fatal"`) {
		t.Errorf("the server logged a fatal error:\n%s", out)
	}
	requireIntact(t, "after the full disk", l.check(readQueue(t, dir)))
}
