package httpapi_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// metric reads one sample of the Prometheus text answer.
func metric(t *testing.T, text, name string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("metric %s missing", name)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetrics(t *testing.T) {
	ts := startIndexing(t)
	ts.post("m", "sync_request__SyncRequest_json_schema_example.json")
	ts.post("m", "apple_sdk_import__sample_sdk_payload.json")
	ts.asAdmin("m", fixture(t, "sync_request__SyncRequest_json_schema_example.json")) // a replay
	ts.asAdmin("m", fixture(t, "malformed_payload_debug__bad_provider.json"))         // a 400
	ts.indexed()
	r := ts.do("GET", "/metrics", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", r.status, r.header.Get("Content-Type"))
	}
	text := string(r.body)
	checks := map[string]float64{
		"wearhouse_batches_accepted_total": 2,
		"wearhouse_records_accepted_total": 2,
		"wearhouse_batches_replayed_total": 1,
		"wearhouse_batches_indexed_total":  2,
		"wearhouse_queue_backlog_batches":  0,
		"wearhouse_compactor_running":      1,
		`wearhouse_http_requests_total{method="POST",route="/api/v1/sdk/users/{user_id}/sync",status="202"}`: 3,
		`wearhouse_http_requests_total{method="POST",route="/api/v1/sdk/users/{user_id}/sync",status="400"}`: 1,
	}
	for name, want := range checks {
		if got := metric(t, text, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"wearhouse_pebble_disk_usage_bytes", "wearhouse_pebble_l0_sublevels", "wearhouse_pebble_wal_fsync_seconds_count",
		"wearhouse_disk_free_bytes", "go_goroutines", "process_resident_memory_bytes"} {
		metric(t, text, name)
	}
	if metric(t, text, "wearhouse_pebble_wal_fsync_seconds_count") < 1 {
		t.Errorf("no WAL fsync counted")
	}
	if strings.Contains(text, `route="/api/v1/sdk/users/m/sync"`) {
		t.Errorf("a user id became a label")
	}
}
