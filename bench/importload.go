package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ImportConfig is one measured import of an Apple Health export: a file of
// WriteExport's (or one given) uploaded to a server on a loopback address
// and followed until its run is completed.
type ImportConfig struct {
	Target string
	APIKey string
	// File is the export to upload; when empty, one of about XMLBytes of
	// XML is generated from Seed into Dir (or the system's temporary
	// directory), and removed afterwards.
	File     string
	XMLBytes int64
	Zip      bool
	Seed     int64
	Dir      string
	// ServerPID is the server's process id, to sample its resident memory.
	ServerPID int
	// Timeout bounds the whole import.
	Timeout time.Duration
	// Ceiling measures tokenizing the export's XML with encoding/xml, the
	// floor of any importer built on it, for comparison.
	Ceiling bool
}

// ImportReport is what an import measured.
type ImportReport struct {
	File        string        `json:"file"`
	FileBytes   int64         `json:"file_bytes"`
	XMLBytes    int64         `json:"xml_bytes"`
	Generated   *ExportCounts `json:"generated,omitempty"`
	UploadSecs  float64       `json:"upload_seconds"`
	ImportSecs  float64       `json:"import_seconds"` // from the 202 to the run's completion
	XMLMBps     float64       `json:"xml_mb_per_second"`
	CeilingMBps float64       `json:"encoding_xml_tokenize_mb_per_second,omitempty"`
	RSSPeak     int64         `json:"server_rss_peak_bytes,omitempty"`
	RSSEnd      int64         `json:"server_rss_end_bytes,omitempty"`
	State       string        `json:"state"`
	Records     int           `json:"records_saved"`
	Sleep       int           `json:"sleep_saved"`
	Workouts    int           `json:"workouts_saved"`
	Duplicates  int64         `json:"duplicates_skipped"`
	Dropped     int           `json:"dropped"`
	Unmapped    int           `json:"unmapped"`
}

// String is the report for a terminal.
func (r *ImportReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import of %s: %.1f MB file, %.1f MB of XML\n", filepath.Base(r.File), mb(r.FileBytes), mb(r.XMLBytes))
	fmt.Fprintf(&b, "  upload   %.2f s\n", r.UploadSecs)
	fmt.Fprintf(&b, "  import   %.2f s, %.1f MB/s of XML (parse, map, queue, index)\n", r.ImportSecs, r.XMLMBps)
	if r.CeilingMBps > 0 {
		fmt.Fprintf(&b, "  ceiling  %.1f MB/s: encoding/xml RawToken over the same XML, tokenizing only\n", r.CeilingMBps)
	}
	if r.RSSPeak > 0 {
		fmt.Fprintf(&b, "  server   RSS peak %.0f MiB, at the end %.0f MiB\n", float64(r.RSSPeak)/(1<<20), float64(r.RSSEnd)/(1<<20))
	}
	fmt.Fprintf(&b, "  run      %s: %d records, %d sleep stages, %d workouts stored; %d duplicates, %d dropped, %d unmapped\n",
		r.State, r.Records, r.Sleep, r.Workouts, r.Duplicates, r.Dropped, r.Unmapped)
	return b.String()
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// RunImport generates (or takes) an export, creates a user, uploads the
// export for it and waits for the import's run to complete.
func RunImport(ctx context.Context, cfg ImportConfig) (*ImportReport, error) {
	if _, _, err := loopbackTarget(cfg.Target); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	rep := &ImportReport{File: cfg.File}
	if cfg.File == "" {
		name := "export.xml"
		if cfg.Zip {
			name = "export.zip"
		}
		dir, err := os.MkdirTemp(cfg.Dir, "wearhouse-import-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		rep.File = filepath.Join(dir, name)
		counts, err := writeExportFile(rep.File, ExportOptions{Seed: cfg.Seed, XMLBytes: cfg.XMLBytes, Zip: cfg.Zip, Routes: true})
		if err != nil {
			return nil, err
		}
		rep.Generated = &counts
	}
	st, err := os.Stat(rep.File)
	if err != nil {
		return nil, err
	}
	rep.FileBytes = st.Size()
	if rep.XMLBytes, err = xmlSize(rep.File); err != nil {
		return nil, err
	}
	if cfg.Ceiling {
		if rep.CeilingMBps, err = tokenizeCeiling(rep.File); err != nil {
			return nil, err
		}
	}
	c := &http.Client{}
	base := strings.TrimRight(cfg.Target, "/") + "/api/v1"
	user := fmt.Sprintf("import-bench-%d", time.Now().UnixNano())
	body, err := call(ctx, c, cfg.APIKey, "POST", base+"/users", strings.NewReader(`{"external_user_id":"`+user+`"}`), http.StatusCreated, nil)
	if err != nil {
		return nil, err
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		return nil, err
	}
	mem := startRSSSampler(cfg.ServerPID)
	f, err := os.Open(rep.File)
	if err != nil {
		mem.stop()
		return nil, err
	}
	defer f.Close()
	t0 := time.Now()
	body, err = call(ctx, c, cfg.APIKey, "POST", base+"/users/"+created.ID+"/import/apple-health", f, http.StatusAccepted, &st)
	if err != nil {
		mem.stop()
		return nil, err
	}
	uploaded := time.Now()
	rep.UploadSecs = uploaded.Sub(t0).Seconds()
	var acc struct {
		ImportID string `json:"import_id"`
	}
	if err := json.Unmarshal(body, &acc); err != nil {
		mem.stop()
		return nil, err
	}
	status := base + "/users/" + created.ID + "/import/apple-health/" + acc.ImportID
	for {
		b, err := call(ctx, c, cfg.APIKey, "GET", status, nil, http.StatusOK, nil)
		if err != nil {
			mem.stop()
			return nil, err
		}
		var v ImportStatus
		if err := json.Unmarshal(b, &v); err != nil {
			mem.stop()
			return nil, err
		}
		if v.State == "completed" || v.State == "failed" {
			rep.ImportSecs = time.Since(uploaded).Seconds()
			rep.State = v.State
			if m := v.Run; m != nil {
				rep.Records, rep.Sleep, rep.Workouts = m.Metadata.RecordsSaved, m.Metadata.SleepSaved, m.Metadata.WorkoutsSaved
				rep.Dropped, rep.Unmapped = m.Metadata.Dropped, m.Metadata.Unmapped
				if m.Metadata.Import != nil {
					rep.Duplicates = m.Metadata.Import.Duplicates
				}
			}
			break
		}
		select {
		case <-ctx.Done():
			mem.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	rep.RSSPeak, rep.RSSEnd = mem.stop()
	if rep.ImportSecs > 0 {
		rep.XMLMBps = mb(rep.XMLBytes) / rep.ImportSecs
	}
	return rep, nil
}

// ImportStatus is what a client reads of GET
// /users/{id}/import/apple-health/{import_id}: the import's state and the
// counts of its run (wearhouse import and the tests read it too).
type ImportStatus struct {
	State string `json:"state"`
	Error string `json:"error"`
	Run   *struct {
		Message  string  `json:"message"`
		Error    *string `json:"error"`
		Metadata struct {
			RecordsSaved  int `json:"records_saved"`
			WorkoutsSaved int `json:"workouts_saved"`
			SleepSaved    int `json:"sleep_saved"`
			Dropped       int `json:"dropped_count"`
			Unmapped      int `json:"unmapped_count"`
			Import        *struct {
				BytesTotal int64            `json:"bytes_total"`
				BytesRead  int64            `json:"bytes_read"`
				Records    int64            `json:"records_read"`
				Workouts   int64            `json:"workouts_read"`
				Sleep      int64            `json:"sleep_stages_read"`
				Routes     int64            `json:"routes_read"`
				Duplicates int64            `json:"duplicates_skipped"`
				Dropped    map[string]int64 `json:"dropped_by_reason"`
			} `json:"import"`
		} `json:"metadata"`
	} `json:"run"`
}

// call sends one request and returns the body of an answer of status want.
func call(ctx context.Context, c *http.Client, key, method, url string, body io.Reader, want int, size *os.FileInfo) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if size != nil {
		req.ContentLength = (*size).Size()
	}
	req.Header.Set("X-Open-Wearables-API-Key", key)
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}

// writeExportFile writes an export to path, fsynced.
func writeExportFile(path string, o ExportOptions) (ExportCounts, error) {
	f, err := os.Create(path)
	if err != nil {
		return ExportCounts{}, err
	}
	counts, err := WriteExport(f, o)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return counts, err
}

// openXML opens the export.xml of an export: the file itself, or its entry
// in a zip.
func openXML(path string) (io.ReadCloser, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != "PK\x03\x04" {
		st, serr := f.Stat()
		if serr != nil {
			f.Close()
			return nil, 0, serr
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	}
	f.Close()
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, 0, err
	}
	for _, e := range z.File {
		if filepath.Base(e.Name) == "export.xml" {
			r, err := e.Open()
			if err != nil {
				z.Close()
				return nil, 0, err
			}
			return struct {
				io.Reader
				io.Closer
			}{r, z}, int64(e.UncompressedSize64), nil
		}
	}
	z.Close()
	return nil, 0, errors.New("bench: the zip has no export.xml")
}

func xmlSize(path string) (int64, error) {
	r, n, err := openXML(path)
	if err != nil {
		return 0, err
	}
	r.Close()
	return n, nil
}

// tokenizeCeiling reads the export's XML with encoding/xml's RawToken,
// which tokenizes without even checking that tags nest, and returns MB/s.
func tokenizeCeiling(path string) (float64, error) {
	r, n, err := openXML(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	t0 := time.Now()
	d := xml.NewDecoder(r)
	d.Strict = false
	for {
		if _, err := d.RawToken(); err == io.EOF {
			break
		} else if err != nil {
			return 0, err
		}
	}
	return mb(n) / time.Since(t0).Seconds(), nil
}
