package httpapi_test

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

// Every connection's icon_url answers with an SVG icon; other names are a
// JSON 404.
func TestConnectionIconsAreServed(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	for _, p := range []string{"apple", "samsung", "google"} {
		b := []byte(strings.Replace(string(body), `"provider": "samsung"`, `"provider": "`+p+`"`, 1))
		if r := ts.asAdmin("icon-user", b); r.status != 202 {
			t.Fatalf("sync %s: %d %s", p, r.status, r.body)
		}
	}
	r := ts.do("GET", "/api/v1/users/icon-user/connections", nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != 200 {
		t.Fatalf("connections: %d %s", r.status, r.body)
	}
	var conns []struct {
		Provider string `json:"provider"`
		IconURL  string `json:"icon_url"`
	}
	if err := json.Unmarshal(r.body, &conns); err != nil {
		t.Fatal(err)
	}
	if len(conns) != 3 {
		t.Fatalf("connections: %s", r.body)
	}
	for _, c := range conns {
		icon := ts.do("GET", c.IconURL, nil)
		if icon.status != 200 || icon.header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("%s: %d %q", c.IconURL, icon.status, icon.header.Get("Content-Type"))
		}
		var svg struct {
			XMLName xml.Name
			Title   string `xml:"title"`
		}
		if err := xml.Unmarshal(icon.body, &svg); err != nil || svg.XMLName.Local != "svg" || svg.Title == "" {
			t.Fatalf("%s is no titled SVG: %v %s", c.IconURL, err, icon.body)
		}
	}
	for _, p := range []string{"/static/provider-icons/fitbit.svg", "/static/provider-icons/NOTICE.md", "/static/other"} {
		if r := ts.do("GET", p, nil); r.status != 404 || !strings.Contains(r.detail(t), "Not Found") {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
}
