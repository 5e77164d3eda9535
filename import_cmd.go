package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"wearhouse/auth"
	"wearhouse/bench"
)

// importCmd uploads an Apple Health export (export.zip or export.xml) for a
// user to a running server (POST /api/v1/users/{id}/import/apple-health),
// then follows the import until it has been read and indexed. On a terminal
// it draws a progress bar (bytes, then records); otherwise it writes a
// plain progress line every few seconds.
func importCmd(args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	target := fs.String("target", envOr("WEARHOUSE_TARGET", "http://127.0.0.1:8080"), "address of the running server")
	user := fs.String("user", "", "id of the user whose history it is (required)")
	dataDir := fs.String("data-dir", envOr("WEARHOUSE_DATA_DIR", "./data"), "data directory whose admin.key is used when no key is given")
	apiKey := fs.String("api-key", envOr("WEARHOUSE_API_KEY", os.Getenv("WEARHOUSE_ADMIN_KEY")), "admin or write API key (default: the data directory's admin.key)")
	noWait := fs.Bool("no-wait", false, "return once the server has the upload, without following the import")
	every := fs.Duration("progress-every", 2*time.Second, "interval of the progress lines when not on a terminal")
	pos, err := parseArgs(fs, "--user <id> [flags] <export.zip | export.xml>", args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("import", "import needs one argument, the export.zip or export.xml to upload")
	}
	if *user == "" {
		return usagef("import", "--user is required")
	}
	key := *apiKey
	if key == "" {
		if b, err := os.ReadFile(filepath.Join(*dataDir, auth.AdminKeyFile)); err == nil {
			key = strings.TrimSpace(string(b))
		}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	p := newProgress(os.Stderr, *every)
	base := strings.TrimRight(*target, "/") + "/api/v1/users/" + url.PathEscape(*user) + "/import/apple-health"
	body := &sendCounter{r: f}
	req, err := http.NewRequest("POST", base, body)
	if err != nil {
		return err
	}
	req.ContentLength = st.Size()
	req.Header.Set("X-Open-Wearables-API-Key", key)
	req.Header.Set("Content-Type", "application/octet-stream")
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 10 * time.Minute}}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.upload(body.n.Load(), st.Size())
			}
		}
	}()
	res, err := c.Do(req)
	close(stop)
	if err != nil {
		return fmt.Errorf("upload to %s: %w", *target, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		return refusedBy("import", res)
	}
	p.upload(st.Size(), st.Size())
	var acc struct {
		ImportID string `json:"import_id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&acc); err != nil {
		return fmt.Errorf("the server's answer: %w", err)
	}
	p.done(fmt.Sprintf("uploaded %s; import %s", humanBytes(st.Size()), acc.ImportID))
	if *noWait {
		fmt.Println(acc.ImportID)
		return nil
	}
	return followImport(c, base+"/"+acc.ImportID, key, p)
}

// followImport polls an import until it is completed or failed.
func followImport(c *http.Client, url, key string, p *progress) error {
	for {
		res, err := request(c, "GET", url, key)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			err := refusedBy("import", res)
			res.Body.Close()
			return err
		}
		var v bench.ImportStatus
		err = json.NewDecoder(res.Body).Decode(&v)
		res.Body.Close()
		if err != nil {
			return err
		}
		if v.Run != nil && v.Run.Metadata.Import != nil {
			im := v.Run.Metadata.Import
			p.reading(im.BytesRead, im.BytesTotal, im.Records+im.Sleep+im.Workouts)
		}
		switch v.State {
		case "completed", "failed":
			m := v.Run.Metadata
			im := m.Import
			summary := fmt.Sprintf("%s: %d records, %d sleep stages, %d workouts stored", v.State,
				m.RecordsSaved, m.SleepSaved, m.WorkoutsSaved)
			if im != nil {
				summary += fmt.Sprintf(" (%d routes); %d already stored", im.Routes, im.Duplicates)
			}
			summary += fmt.Sprintf("; %d dropped, %d of unmapped types", m.Dropped, m.Unmapped)
			p.done(summary)
			if im != nil {
				for reason, n := range im.Dropped {
					fmt.Fprintf(os.Stderr, "  dropped %d: %s\n", n, reason)
				}
			}
			if v.State == "failed" {
				msg := v.Error
				if v.Run.Error != nil {
					msg = *v.Run.Error
				}
				return errors.New(msg)
			}
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// sendCounter counts the bytes of the upload read by the HTTP client.
type sendCounter struct {
	r io.Reader
	n atomic.Int64
}

func (s *sendCounter) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n.Add(int64(n))
	return n, err
}

// progress draws the import's progress: a bar redrawn in place on a
// terminal, a line every interval otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	start time.Time
}

func newProgress(f *os.File, every time.Duration) *progress {
	st, err := f.Stat()
	tty := err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
	return &progress{w: f, tty: tty, every: every, start: time.Now()}
}

func (p *progress) upload(sent, total int64) {
	p.show("uploading", sent, total, fmt.Sprintf("%s of %s", humanBytes(sent), humanBytes(total)))
}

func (p *progress) reading(read, total, items int64) {
	p.show("importing", read, total, fmt.Sprintf("%s of %s of XML, %d items", humanBytes(read), humanBytes(total), items))
}

func (p *progress) show(what string, n, total int64, detail string) {
	frac := 0.0
	if total > 0 {
		frac = min(float64(n)/float64(total), 1)
	}
	if p.tty {
		const width = 30
		filled := int(frac * width)
		fmt.Fprintf(p.w, "\r\033[K%-9s [%s%s] %3.0f%%  %s", what, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), frac*100, detail)
		return
	}
	if time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "%s %3.0f%% %s (%s)\n", what, frac*100, detail, time.Since(p.start).Round(time.Second))
}

func (p *progress) done(msg string) {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, msg)
	p.last = time.Time{}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
