package httpapi_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

func (ts *testServer) admin(method, path string, body string) resp {
	ts.t.Helper()
	return ts.do(method, path, []byte(body), "X-Open-Wearables-API-Key", adminKey)
}

func TestUsersCRUDAndList(t *testing.T) {
	ts := startIndexing(t)
	var ids []string
	for _, b := range []string{
		`{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.org","external_user_id":"ext-ada"}`,
		`{"first_name":"Grace","last_name":"Hopper","email":"grace@example.org"}`,
		`{"first_name":"Alan","email":"alan@example.org"}`,
	} {
		r := ts.admin("POST", "/api/v1/users", b)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		ids = append(ids, r.json(t)["id"].(string))
	}
	ts.post("synced-user", "sync_request__SyncRequest_json_schema_example.json")

	all := ts.get("/api/v1/users", url.Values{"limit": {"2"}, "sort_by": {"email"}, "sort_order": {"asc"}})
	items := all["items"].([]any)
	// Emails asc, missing first: synced-user (none), ada, alan, grace.
	if all["total"] != 4.0 || all["pages"] != 2.0 || all["has_next"] != true || len(items) != 2 ||
		items[0].(map[string]any)["id"] != "synced-user" || items[1].(map[string]any)["email"] != "ada@example.org" {
		t.Errorf("page 1: %v", all)
	}
	p2 := ts.get("/api/v1/users", url.Values{"limit": {"2"}, "page": {"2"}, "sort_by": {"email"}, "sort_order": {"asc"}})
	if it := p2["items"].([]any); len(it) != 2 || it[1].(map[string]any)["email"] != "grace@example.org" || p2["has_prev"] != true {
		t.Errorf("page 2: %v", p2)
	}
	if s := ts.get("/api/v1/users", url.Values{"search": {"HOP"}})["items"].([]any); len(s) != 1 || s[0].(map[string]any)["first_name"] != "Grace" {
		t.Errorf("search: %v", s)
	}
	if s := ts.get("/api/v1/users", url.Values{"external_user_id": {"ext-ada"}})["items"].([]any); len(s) != 1 {
		t.Errorf("external_user_id filter: %v", s)
	}
	if r := ts.admin("POST", "/api/v1/users", `{"email":"ADA@example.org"}`); r.status != 409 {
		t.Errorf("a taken email: %d %s", r.status, r.body)
	}
	if r := ts.admin("POST", "/api/v1/users", `{"email":"nope"}`); r.status != 400 {
		t.Errorf("a bad email: %d %s", r.status, r.body)
	}
	if r := ts.admin("GET", "/api/v1/users?sort_by=age", ""); r.status != 400 {
		t.Errorf("bad sort_by: %d", r.status)
	}
	synced := ts.get("/api/v1/users/synced-user", nil)
	if synced["last_synced_provider"] != "samsung" || synced["last_synced_at"] == nil || synced["has_active_connection"] != true {
		t.Errorf("synced user: %v", synced)
	}
	if r := ts.admin("GET", "/api/v1/users/nobody", ""); r.status != 404 || r.detail(t) != "User with ID: nobody not found." {
		t.Errorf("unknown user: %d %s", r.status, r.body)
	}
	r := ts.admin("PATCH", "/api/v1/users/"+ids[0], `{"first_name":"Augusta","email":null}`)
	if m := r.json(t); r.status != 200 || m["first_name"] != "Augusta" || m["email"] != "ada@example.org" || m["last_name"] != "Lovelace" {
		t.Errorf("patch: %d %v", r.status, m)
	}
	if r := ts.admin("PATCH", "/api/v1/users/"+ids[0], `{"email":"not-an-email"}`); r.status != 400 {
		t.Errorf("bad email: %d", r.status)
	}
	if r := ts.admin("DELETE", "/api/v1/users/"+ids[1], ""); r.status != 200 || r.json(t)["first_name"] != "Grace" {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := ts.admin("GET", "/api/v1/users/"+ids[1], ""); r.status != 404 {
		t.Errorf("deleted user still there: %d", r.status)
	}
}

// TestDeleteUserErasesEverything fills two users with every kind of data,
// deletes one, then scans the whole store: no key or record of the deleted
// user may be left, and the other user's data must be intact.
func TestDeleteUserErasesEverything(t *testing.T) {
	ts := startIndexing(t)
	for _, user := range []string{"gone", "kept"} {
		ts.post(user, "sync_request__SyncRequest_json_schema_example.json")
		ts.post(user, "apple_sdk_import__sample_sdk_payload.json")
		ts.post(user, "sleep_service__DETAILED_STAGES_PAYLOAD.json")
		ts.asAdmin(user, fixture(t, "malformed_payload_debug__valid.json"), "Idempotency-Key", "k1")
		ts.token(user)
		if r := ts.admin("POST", "/api/v1/users/"+user+"/invitation-code", ""); r.status != 201 {
			t.Fatalf("invitation code: %d %s", r.status, r.body)
		}
	}
	ts.indexed()
	// A batch still queued when the user is deleted must not come back.
	ts.app.Compactor.Stop()
	ts.post("gone", "apple_sdk_import__test_import_multiple_workouts.json")
	goneIID := mustUser(t, ts, "gone").IID
	keptIID := mustUser(t, ts, "kept").IID
	if r := ts.admin("DELETE", "/api/v1/users/gone", ""); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	ts.stop()

	store, err := pebblestore.Open(pebblestore.Options{Dir: ts.dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var left []string
	keptKeys := 0
	iidKeyed := map[byte]bool{'p': true, 'w': true, 'l': true, 'X': true, 'D': true, 'd': true, 'i': true, 'L': true, 'C': true, 'U': true, 'I': true}
	err = store.Each(func(k, v []byte) error {
		switch {
		case iidKeyed[k[0]] && len(k) >= 5 && binary.BigEndian.Uint32(k[1:5]) == goneIID:
			left = append(left, string(k[:1])+" keyspace")
		case iidKeyed[k[0]] && len(k) >= 5 && binary.BigEndian.Uint32(k[1:5]) == keptIID:
			keptKeys++
		case k[0] == 'u' && string(k[1:]) == "gone":
			left = append(left, "user record")
		case k[0] == 'q' || k[0] == 'E' || k[0] == 'R' || k[0] == 'r' || k[0] == 'c':
			if bytes.Contains(v, []byte(`"user_id":"gone"`)) || (k[0] == 'q' && bytes.Contains(v, []byte("gone"))) {
				left = append(left, string(k[:1])+" record naming the user")
			}
			var rec struct {
				UserIID *uint32 `json:"user_iid"`
			}
			if k[0] != 'q' && json.Unmarshal(v, &rec) == nil && rec.UserIID != nil && *rec.UserIID == goneIID {
				left = append(left, string(k[:1])+" record of the user")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("left of the deleted user: %v", left)
	}
	if keptKeys < 10 {
		t.Errorf("only %d keys of the other user", keptKeys)
	}
}

func mustUser(t *testing.T, ts *testServer, id string) *pebblestore.User {
	t.Helper()
	u, err := ts.app.Store.User(id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDeletedUserStartsAfresh(t *testing.T) {
	ts := startIndexing(t)
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	ts.asAdmin("phoenix", body)
	ts.indexed()
	ts.admin("DELETE", "/api/v1/users/phoenix", "")
	r := ts.asAdmin("phoenix", body)
	if r.status != 202 || r.json(t)["duplicate"] != false {
		t.Fatalf("re-sync after deletion: %d %s", r.status, r.body)
	}
	ts.indexed()
	if n := len(series(ts, "phoenix", url.Values{"types": {"blood_pressure_systolic"}})); n != 1 {
		t.Errorf("%d samples after re-sync", n)
	}
}

func TestConnectionsAndDataSources(t *testing.T) {
	ts := startIndexing(t)
	ts.post("c", "sync_request__SyncRequest_json_schema_example.json")
	ts.post("c", "apple_sdk_import__sample_sdk_payload.json")
	ts.indexed()
	conns := ts.do("GET", "/api/v1/users/c/connections", nil, "X-Open-Wearables-API-Key", adminKey)
	var list []map[string]any
	json.Unmarshal(conns.body, &list)
	if len(list) != 2 || list[0]["provider"] != "apple" || list[1]["provider"] != "samsung" || list[0]["status"] != "active" {
		t.Fatalf("connections: %s", conns.body)
	}
	ds := ts.get("/api/v1/users/c/data-sources", nil)
	names := map[string]bool{}
	for _, d := range ds["items"].([]any) {
		names[d.(map[string]any)["display_name"].(string)] = true
	}
	if !names["Samsung - SM-R960"] || ds["total"].(float64) < 2 {
		t.Errorf("data sources: %v", ds)
	}
	if r := ts.admin("DELETE", "/api/v1/users/c/connections/garmin", ""); r.status != 404 {
		t.Errorf("unknown connection: %d", r.status)
	}
	if r := ts.admin("DELETE", "/api/v1/users/c/connections/samsung/data", ""); r.status != 204 {
		t.Fatalf("erase samsung: %d %s", r.status, r.body)
	}
	if n := len(series(ts, "c", url.Values{"types": {"blood_pressure_systolic"}})); n != 0 {
		t.Errorf("samsung data left: %d samples", n)
	}
	if n := len(series(ts, "c", url.Values{"types": {"steps"}})); n != 1 {
		t.Errorf("apple data lost: %d steps samples", n)
	}
	json.Unmarshal(ts.do("GET", "/api/v1/users/c/connections", nil, "X-Open-Wearables-API-Key", adminKey).body, &list)
	if list[1]["status"] != "revoked" {
		t.Errorf("samsung not revoked: %v", list[1])
	}
	ts.asAdmin("c", append(fixture(t, "sync_request__SyncRequest_json_schema_example.json"), ' '))
	json.Unmarshal(ts.do("GET", "/api/v1/users/c/connections", nil, "X-Open-Wearables-API-Key", adminKey).body, &list)
	if list[1]["status"] != "active" {
		t.Errorf("a new sync did not reactivate samsung: %v", list[1])
	}
}

func TestDeleteWorkoutAndSleep(t *testing.T) {
	ts := startIndexing(t)
	ts.post("d", "sync_request__SyncRequest_json_schema_example.json")
	ts.post("d", "sleep_service__DETAILED_STAGES_PAYLOAD.json")
	ts.indexed()
	q := url.Values{"start_date": {"2020-01-01"}, "end_date": {"2030-01-01"}}
	w := ts.get("/api/v1/users/d/events/workouts", q)["data"].([]any)[0].(map[string]any)["id"].(string)
	if r := ts.admin("DELETE", "/api/v1/users/d/events/workouts/"+w, ""); r.status != 204 {
		t.Fatalf("delete workout: %d %s", r.status, r.body)
	}
	if r := ts.admin("DELETE", "/api/v1/users/d/events/workouts/"+w, ""); r.status != 404 || r.detail(t) != "Workout not found" {
		t.Errorf("deleted twice: %d", r.status)
	}
	if r := ts.admin("GET", "/api/v1/users/d/events/workouts/"+w, ""); r.status != 404 {
		t.Errorf("deleted workout readable: %d", r.status)
	}
	sessions := ts.get("/api/v1/users/d/events/sleep", q)["data"].([]any)
	if len(sessions) != 2 {
		t.Fatalf("%d sessions", len(sessions))
	}
	var apple string
	for _, s := range sessions {
		if s.(map[string]any)["start_time"] == "2026-03-10T22:15:00Z" {
			apple = s.(map[string]any)["id"].(string)
		}
	}
	if r := ts.admin("DELETE", "/api/v1/users/d/events/sleep/"+apple, ""); r.status != 204 {
		t.Fatalf("delete session: %d %s", r.status, r.body)
	}
	if left := ts.get("/api/v1/users/d/events/sleep", q)["data"].([]any); len(left) != 1 {
		t.Errorf("%d sessions left, want the other provider's one", len(left))
	}
	if r := ts.admin("DELETE", "/api/v1/users/d/events/sleep/"+apple, ""); r.status != 404 {
		t.Errorf("deleted twice: %d", r.status)
	}
}
