package app

import (
	"strings"
	"testing"
	"time"
)

// A misconfigured server is told every problem at once, not one per start.
func TestValidateReportsEveryProblem(t *testing.T) {
	var o Options
	o.Store.Dir = t.TempDir()
	o.Ingest.CommitTimeout = time.Millisecond
	o.Ingest.MaxInflightBytes = 1
	o.HTTP.MaxBody = 10
	o.Auth.AdminKey = "short"
	err := o.Validate()
	if err == nil {
		t.Fatal("no problem reported")
	}
	for _, want := range []string{"ingest: commit timeout", "ingest: max in-flight bytes", "httpapi: max body", "auth: the admin key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not reported in:\n%v", want, err)
		}
	}
	o = Options{}
	o.Store.Dir = t.TempDir()
	if err := o.Validate(); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
}
