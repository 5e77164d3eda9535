package audit

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter selects records of a listing; zero fields select all.
type Filter struct {
	UserID string
	// Actor matches the actor's id, or kind:id (key:key_…, account:…,
	// sdk:<app>).
	Actor  string
	Action string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	// Before is the cursor: only records before this sequence number.
	Before uint64
	Limit  int
}

func (f *Filter) match(e *Event) bool {
	switch {
	case f.UserID != "" && !strings.EqualFold(e.UserID, f.UserID):
		return false
	case f.Actor != "" && f.Actor != e.Actor.ID && f.Actor != e.Actor.Kind+":"+e.Actor.ID:
		return false
	case f.Action != "" && f.Action != e.Action:
		return false
	case !f.Since.IsZero() && e.Time.Before(f.Since):
		return false
	case !f.Until.IsZero() && !e.Time.Before(f.Until):
		return false
	}
	return true
}

// List returns the records that match, newest first, at most Limit, and
// the cursor of the next page (0 when there is none). Records are written
// in time order, so the scan stops at the first record before Since.
func (t *Trail) List(f Filter) ([]Event, uint64, error) {
	t.Flush()
	if f.Limit <= 0 {
		f.Limit = 100
	}
	before := f.Before
	if before == 0 {
		before = ^uint64(0)
	}
	var (
		out  []Event
		next uint64
		derr error
	)
	err := t.store.AuditBefore(before, func(seq uint64, rec []byte) bool {
		var e Event
		if derr = json.Unmarshal(rec, &e); derr != nil {
			return false
		}
		if !f.Since.IsZero() && e.Time.Before(f.Since) {
			return false
		}
		if !f.match(&e) {
			return true
		}
		if len(out) == f.Limit {
			next = out[len(out)-1].Seq
			return false
		}
		out = append(out, e)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, next, err
}

// Each calls fn for every record that matches, oldest first, until fn
// fails; Limit and Before do not apply.
func (t *Trail) Each(f Filter, fn func(*Event) error) error {
	t.Flush()
	var ferr error
	err := t.store.AuditFrom(0, func(_ uint64, rec []byte) bool {
		var e Event
		if ferr = json.Unmarshal(rec, &e); ferr != nil {
			return false
		}
		if !f.Until.IsZero() && !e.Time.Before(f.Until) {
			return false
		}
		if f.match(&e) {
			ferr = fn(&e)
		}
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	return err
}

// AuditEvent is a record as a FHIR R4 AuditEvent, in the shape of IHE's
// Basic Audit Log Patterns (BALP): a RESTful interaction (DICOM 110100
// "Application Activity" for sessions and credentials, "rest" otherwise),
// its CRUDE action, the outcome, the requesting agent with its network
// address, the server as the source, and the patient as an entity.
func AuditEvent(e *Event) map[string]any {
	action := map[string]string{"GET": "R", "HEAD": "R", "POST": "C", "PUT": "U", "PATCH": "U", "DELETE": "D"}[e.Method]
	if action == "" {
		action = "E"
	}
	if e.Action == "export" || e.Action == "backup" {
		action = "R"
	}
	outcome := map[string]string{"success": "0", "failed": "8", "denied": "4"}[e.Outcome]
	typ := map[string]any{"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation"}
	if e.Action == "session" || e.Action == "credential" {
		typ = map[string]any{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110100", "display": "Application Activity"}
	}
	who := map[string]any{"identifier": map[string]any{"system": "urn:wearhouse:" + e.Actor.Kind, "value": e.Actor.ID}}
	agent := map[string]any{
		"type": map[string]any{"coding": []any{map[string]any{"system": "http://dicom.nema.org/resources/ontology/DCM",
			"code": "110153", "display": "Source Role ID"}}},
		"who":       who,
		"requestor": true,
	}
	if e.Client != "" {
		agent["network"] = map[string]any{"address": e.Client, "type": "2"}
	}
	ev := map[string]any{
		"resourceType": "AuditEvent",
		"id":           strconv.FormatUint(e.Seq, 10),
		"type":         typ,
		"subtype":      []any{map[string]any{"system": "urn:wearhouse:audit-action", "code": e.Action}},
		"action":       action,
		"recorded":     e.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
		"outcome":      outcome,
		"agent":        []any{agent},
		"source": map[string]any{"observer": map[string]any{"display": "wearhouse"},
			"type": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4",
				"display": "Application Server"}}},
	}
	if e.Route != "" || e.RequestID != "" {
		ev["extension"] = []any{map[string]any{"url": "urn:wearhouse:audit-request",
			"valueString": strings.TrimSpace(e.Method + " " + e.Route + " " + e.RequestID)}}
	}
	if e.UserID != "" {
		ent := map[string]any{"what": map[string]any{"reference": "Patient/" + e.UserID},
			"type": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
			"role": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}}
		if len(e.Target) > 0 {
			var details []any
			for _, k := range slices.Sorted(maps.Keys(e.Target)) {
				details = append(details, map[string]any{"type": k, "valueString": e.Target[k]})
			}
			ent["detail"] = details
		}
		ev["entity"] = []any{ent}
	}
	return ev
}
