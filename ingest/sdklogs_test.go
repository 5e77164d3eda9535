package ingest

import (
	"errors"
	"testing"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

func TestAppendSDKLogs(t *testing.T) {
	s, store := newService(t, Options{})
	logs := &codec.SDKLogBatch{Events: []codec.SDKLogEvent{{Type: "device_state", Raw: []byte(`{"a":1}`)}, {Type: "device_state", Raw: []byte(`{"a":2}`)}}}
	if err := s.AppendSDKLogs("new-user", nil, nil, logs); err != nil {
		t.Fatal(err)
	}
	u, err := store.User("new-user")
	if err != nil {
		t.Fatalf("user not created by its first telemetry: %v", err)
	}
	var got []*pebblestore.SDKLog
	if err := store.SDKLogs(u.IID, func(l *pebblestore.SDKLog) bool { got = append(got, l); return true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].Event) != `{"a":2}` || got[0].Received.IsZero() {
		t.Fatalf("stored %d events: %+v", len(got), got)
	}
	// The user is reused, not created twice.
	if err := s.AppendSDKLogs("new-user", nil, nil, &codec.SDKLogBatch{Events: logs.Events[:1]}); err != nil {
		t.Fatal(err)
	}
	if u2, _ := store.User("new-user"); u2.IID != u.IID {
		t.Errorf("user recreated: iid %d then %d", u.IID, u2.IID)
	}
}

func TestAppendSDKLogsUnknownUser(t *testing.T) {
	s, store := newService(t, Options{})
	s.opts.AutoCreateUsers = false
	err := s.AppendSDKLogs("nobody", nil, nil, &codec.SDKLogBatch{Events: []codec.SDKLogEvent{{Raw: []byte(`{}`)}}})
	var ie *Error
	if !errors.As(err, &ie) || ie.Kind != KindUnknownUser {
		t.Fatalf("err = %v, want an unknown user", err)
	}
	if _, err := store.User("nobody"); !errors.Is(err, pebblestore.ErrNotFound) {
		t.Errorf("user created anyway: %v", err)
	}
}
