package httpapi_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/audit"
	"wearhouse/pebblestore"
)

// TestAuditTrail: real requests leave records with who, whose data, the
// route's ids and window and the outcome; refusals too; a sync's values
// and an e-mail search are not in them; the trail verifies; the exports
// stream the same records.
func TestAuditTrail(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Compactor.Paused = false })
	body := fixture(t, "apple_sdk_import__sample_sdk_payload.json")
	adminDo(t, ts, "POST", "/api/v1/sdk/users/aud-1/sync", body, 202)
	ts.indexed()
	adminDo(t, ts, "GET", "/api/v1/users/aud-1/timeseries?start_time=2022-05-28&end_time=2022-05-30&types=steps", nil, 200)
	adminDo(t, ts, "GET", "/api/v1/users?search=secret.person@example.org", nil, 200)
	adminDo(t, ts, "POST", "/api/v1/developer/api-keys", []byte(`{"name":"audited","scope":"read"}`), 201)
	send(t, ts.c, ts.base, "GET", "/api/v1/users/aud-1/events/workouts", nil, nil, "X-Open-Wearables-API-Key", "sk-not-a-key")
	adminDo(t, ts, "DELETE", "/api/v1/users/aud-1", nil, 200)
	adminDo(t, ts, "GET", "/healthz", nil, 200)

	var page struct {
		Items []audit.Event `json:"items"`
	}
	r := adminDo(t, ts, "GET", "/api/v1/audit?limit=50", nil, 200)
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	got := map[string]audit.Event{}
	for _, e := range page.Items {
		got[e.Action+" "+e.Outcome] = e
	}
	want := []string{"sync success", "read success", "credential success", "read denied", "erase success"}
	for _, w := range want {
		if _, ok := got[w]; !ok {
			t.Errorf("no %q record in %s", w, r.body)
		}
	}
	if e := got["read success"]; e.UserID != "aud-1" && e.Route != "/api/v1/users" {
		t.Errorf("read record: %+v", e)
	}
	for _, e := range page.Items {
		if e.Route == "/api/v1/users/{user_id}/timeseries" && (e.Target["start_time"] != "2022-05-28" || e.Target["types"] != "steps" || e.Actor.Kind != "key") {
			t.Errorf("timeseries record: %+v", e)
		}
		if e.Route == "/healthz" {
			t.Errorf("a health check was audited: %+v", e)
		}
	}
	if e := got["read denied"]; e.Status != 401 || e.Actor.Kind != "none" || e.UserID != "aud-1" {
		t.Errorf("refusal record: %+v", e)
	}
	// No health value, no search, no secret.
	if bytes.Contains(r.body, []byte(`"value"`)) || bytes.Contains(r.body, []byte("secret.person")) || bytes.Contains(r.body, []byte("sk-not-a-key")) {
		t.Errorf("the trail holds a value, a search or a key: %s", r.body)
	}
	// The exports stream every matching record, oldest first.
	lines := bytes.Split(bytes.TrimSpace(adminDo(t, ts, "GET", "/api/v1/audit.jsonl?action=credential", nil, 200).body), []byte("\n"))
	fhir := bytes.Split(bytes.TrimSpace(adminDo(t, ts, "GET", "/api/v1/audit/fhir?action=credential", nil, 200).body), []byte("\n"))
	if len(lines) != 1 || len(fhir) != 1 || !bytes.Contains(fhir[0], []byte(`"resourceType":"AuditEvent"`)) {
		t.Fatalf("exports: %q / %q", lines, fhir)
	}
	ts.stop()
	st, err := pebblestore.Open(pebblestore.Options{Dir: ts.dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := audit.Verify(st)
	if err != nil || len(rep.Problems) != 0 || rep.Records < len(page.Items) {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
