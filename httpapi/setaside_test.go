package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"wearhouse/app"
)

// unstorableWorkout is a workout whose energy statistics, each finite, add
// up past the range of a float64: indexing it fails.
const unstorableWorkout = `{"provider":"apple","sdkVersion":"0.15.0","syncTimestamp":"2026-03-02T00:00:00Z","data":{"workouts":[` +
	`{"id":"W1","type":"running","startDate":"2026-03-01T07:00:00Z","endDate":"2026-03-01T08:00:00Z",` +
	`"values":[{"type":"activeEnergyBurned","unit":"kcal","value":1.7e308},{"type":"basalEnergyBurned","unit":"kcal","value":1.7e308}]}]}}`

const customRecord = `{"provider":"apple","sdkVersion":"0.15.0","syncTimestamp":"2026-03-02T00:00:00Z","data":{"records":[` +
	`{"id":"r1","type":"HKQuantityTypeIdentifierSomethingNew","startDate":"2026-03-01T07:00:00Z","endDate":"2026-03-01T07:00:00Z","value":7,"unit":"zz"}]}}`

// TestSetAsideBatchIsVisible: a batch that cannot be indexed is failed in
// its user's runs, counted in /readyz and /metrics, and does not keep the
// next user's batch from being indexed and read back, before and after a
// restart; the server stays ready.
func TestSetAsideBatchIsVisible(t *testing.T) {
	ts := startIndexing(t)
	ts.postBody("noisy", []byte(unstorableWorkout))
	ts.postBody("normal", []byte(customRecord))
	ts.indexed()
	check := func(ts *testServer, when string) {
		t.Helper()
		ready := ts.do("GET", "/readyz", nil)
		if ready.status != 200 {
			t.Fatalf("%s: readyz %d %s", when, ready.status, ready.body)
		}
		if c, _ := ready.json(t)["compactor"].(map[string]any); c["set_aside_batches"] != 1.0 {
			t.Errorf("%s: readyz %s", when, ready.body)
		}
		if n := metric(t, string(ts.do("GET", "/metrics", nil).body), "wearhouse_batches_set_aside"); n != 1 {
			t.Errorf("%s: wearhouse_batches_set_aside %v", when, n)
		}
		runs := ts.syncList("/api/v1/users/noisy/sync/runs")
		if len(runs) != 1 || runs[0]["status"] != "failed" || !strings.Contains(runs[0]["error"].(string), "set aside") {
			t.Errorf("%s: noisy runs %v", when, runs)
		}
		un := series(ts, "normal", url.Values{"types": {"HKQuantityTypeIdentifierSomethingNew"}})
		if len(un) != 1 || un[0]["unit"] != "zz" || un[0]["value"] != 7.0 {
			t.Errorf("%s: the normal user's record: %v", when, un)
		}
	}
	check(ts, "first start")
	ts.stop()
	ts = startServer(t, func(o *app.Options) { o.Compactor.Paused = false; o.Store.Dir = ts.dir })
	ts.indexed()
	check(ts, "after a restart")
}

// TestRejectedItemsInSyncStatus: items past a user's dictionary limit are
// named in the completed run: how many, and why.
func TestRejectedItemsInSyncStatus(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Compactor.Paused = false; o.Store.MaxCustomSeriesPerUser = 1 })
	body := strings.Replace(customRecord, `}]}}`, `},{"id":"r2","type":"AnotherNewType","startDate":"2026-03-01T07:00:00Z","endDate":"2026-03-01T07:00:00Z","value":8,"unit":"yy"}]}}`, 1)
	ts.postBody("limited", []byte(body))
	ts.indexed()
	runs := ts.syncList("/api/v1/users/limited/sync/runs")
	if len(runs) != 1 || runs[0]["status"] != "success" {
		t.Fatalf("runs %v", runs)
	}
	md := runs[0]["metadata"].(map[string]any)
	msg, _ := runs[0]["message"].(string)
	if md["records_saved"] != 1.0 || md["rejected_count"] != 1.0 ||
		!strings.Contains(msg, "1 item(s) not indexed: the user has reached the limit of 1 distinct custom series types") {
		t.Errorf("run %v", runs[0])
	}
	if n := metric(t, string(ts.do("GET", "/metrics", nil).body), "wearhouse_items_rejected_total"); n != 1 {
		t.Errorf("wearhouse_items_rejected_total %v", n)
	}
}
