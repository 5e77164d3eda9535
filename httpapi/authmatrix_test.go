package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/auth"
	"wearhouse/httpapi"
)

// The authorization matrix: every route of the server × every kind of
// credential × the resources of user A and of user B. Only the allowed
// pairs succeed; every other pair is refused with 401, 403 or 404, and no
// answer holds a byte of data of a user the pair may not see. Each user's
// data carries distinctive markers so that a leak shows.

type cred int

const (
	cAdmin cred = iota
	cRead
	cWrite
	cSDKA
	cSDKB
	cExpired // an SDK token of the resource's owner, past its lifetime
	cRevoked // an SDK token of the resource's owner, from a deleted application
	cNone
	cAdminSession  // an admin account's console session, with its CSRF token
	cViewerSession // a viewer account's console session, with its CSRF token
	cNoCSRF        // an admin account's session without the CSRF token
	cEndedSession  // the cookie of a session that was logged out
	nCreds
)

var credNames = [nCreds]string{"admin key", "read key", "write key", "SDK token of A", "SDK token of B",
	"expired token", "revoked token", "no credential", "admin session", "viewer session", "session without CSRF",
	"ended session"}

// matrixPassword is every matrix account's password.
const matrixPassword = "matrix-password-0123"

// policy is who may use a route.
type policy int

const (
	pPublic     policy = iota // anyone: no user data
	pBody                     // the refresh token in the body is the credential
	pSDKWrite                 // admin or write key, or an SDK token of the path's user
	pCreateUser               // admin or write key
	pRead                     // admin or read key
	pWrite                    // admin or write key
	pAdmin                    // admin key
	pMint                     // admin key (application credentials are tested elsewhere)
	pSession                  // a console session of either role, and nothing else
	pLogout                   // anyone, but a session without its CSRF token
)

// expected gives whether a credential may use a route of a policy, with a
// method, on the resources of owner (0 is A, 1 is B) and, when it may not,
// the status. A session stands for a key: an admin account's for the admin
// key, a viewer's for a read key; without its CSRF token it may only read.
func expected(p policy, c cred, owner int, method string) (bool, int) {
	switch {
	case p == pPublic, p == pBody:
		return true, 0
	case p == pLogout:
		if c == cNoCSRF {
			return false, 403
		}
		return true, 0
	}
	safe := method == "GET" || method == "HEAD"
	switch c {
	case cExpired, cRevoked, cNone, cEndedSession:
		return false, 401
	case cNoCSRF:
		if p == pMint {
			return false, 401
		}
		if !safe {
			return false, 403
		}
		c = cAdminSession
	}
	if p == pSession {
		if c == cAdminSession || c == cViewerSession {
			return true, 0
		}
		return false, 401
	}
	switch c {
	case cAdmin:
		return true, 0
	case cAdminSession, cViewerSession:
		if p == pMint {
			// Minting takes an admin API key or application credentials.
			return false, 401
		}
		if c == cAdminSession {
			return true, 0
		}
		c = cRead
	}
	sdk := c == cSDKA || c == cSDKB
	switch p {
	case pSDKWrite:
		if c == cWrite || sdk && int(c-cSDKA) == owner {
			return true, 0
		}
		return false, 403
	case pCreateUser:
		// An SDK token is a valid credential that may not create users.
		if c == cWrite {
			return true, 0
		}
		return false, 403
	case pRead:
		// An SDK token counts as no credential on a read route, as in Open
		// Wearables.
		if c == cRead {
			return true, 0
		}
	case pWrite:
		if c == cWrite {
			return true, 0
		}
	}
	if sdk {
		return false, 401
	}
	return false, 403
}

// mroute is how the matrix calls one route.
type mroute struct {
	policy policy
	ok     int // the status of a success
	// req gives the path (with query) and body for the owner's resources;
	// with foreign, the sub-resource in the path is the other user's.
	req func(w *world, owner int, foreign bool) (string, []byte)
	// foreign: the path names a sub-resource of a user, so the matrix also
	// asks for the other user's sub-resource under the owner's path.
	foreign bool
	// destructive: a success changes the owner's data, which is seeded
	// again after.
	destructive bool
	// noUserData: the answer never holds user data, whoever asks.
	noUserData bool
	// showsOwn: a success shows the owner's markers or id (which proves
	// that the search for the other's can see data).
	showsOwn bool
	sse      bool
	// headers are sent with every call of the route, before the
	// credential's.
	headers []string
	// wholeStore: a success is a copy of the whole store, every user's
	// data with it, for the admin key alone; the leak check does not
	// apply to it.
	wholeStore bool
	// endsSession: a success ends the sessions of the credential's
	// account, which are begun again after.
	endsSession bool
}

const (
	tsWindow   = "?start_time=2026-02-01&end_time=2026-03-01"
	dateWindow = "?start_date=2026-02-01&end_date=2026-03-01"
)

func userPath(suffix string) func(*world, int, bool) (string, []byte) {
	return func(w *world, o int, _ bool) (string, []byte) { return "/api/v1/users/" + w.users[o] + suffix, nil }
}

func fixed(path string) func(*world, int, bool) (string, []byte) {
	return func(*world, int, bool) (string, []byte) { return path, nil }
}

// matrixRoutes classifies every route of the server, by method and
// pattern as the route table spells them.
func matrixRoutes() map[string]mroute {
	sub := func(o int, foreign bool) int {
		if foreign {
			return 1 - o
		}
		return o
	}
	return map[string]mroute{
		"GET /healthz":                      {policy: pPublic, ok: 200, req: fixed("/healthz"), noUserData: true},
		"GET /readyz":                       {policy: pPublic, ok: 200, req: fixed("/readyz"), noUserData: true},
		"GET /metrics":                      {policy: pPublic, ok: 200, req: fixed("/metrics"), noUserData: true},
		"GET /api/v1/meta/coverage":         {policy: pPublic, ok: 200, req: fixed("/api/v1/meta/coverage"), noUserData: true},
		"GET /static/provider-icons/{name}": {policy: pPublic, ok: 200, req: fixed("/static/provider-icons/apple.svg"), noUserData: true},
		"GET /openapi.json":                 {policy: pPublic, ok: 200, req: fixed("/openapi.json"), noUserData: true},
		"GET /docs":                         {policy: pPublic, ok: 200, req: fixed("/docs"), noUserData: true},

		// The console's pages hold no data: a shell that reads the API.
		"GET /":                        {policy: pPublic, ok: 200, req: fixed("/"), noUserData: true},
		"GET /setup":                   {policy: pPublic, ok: 200, req: fixed("/setup"), noUserData: true},
		"GET /console":                 {policy: pPublic, ok: 200, req: fixed("/console"), noUserData: true},
		"GET /console/{page}":          {policy: pPublic, ok: 200, req: fixed("/console/users"), noUserData: true},
		"GET /console/users/{user_id}": {policy: pPublic, ok: 200, req: func(w *world, o int, _ bool) (string, []byte) { return "/console/users/" + w.users[o], nil }, noUserData: true},
		"GET /console/assets/{name}":   {policy: pPublic, ok: 200, req: fixed("/console/assets/NOTICE.md"), noUserData: true},
		"GET /api/v1/console/setup":    {policy: pPublic, ok: 200, req: fixed("/api/v1/console/setup"), noUserData: true},
		"GET /api/v1/console/overview": {policy: pRead, ok: 200, req: fixed("/api/v1/console/overview"), noUserData: true},
		"GET /api/v1/console/session":  {policy: pSession, ok: 200, req: fixed("/api/v1/console/session"), noUserData: true},
		"GET /api/v1/console/accounts": {policy: pAdmin, ok: 200, req: fixed("/api/v1/console/accounts"), noUserData: true},
		"POST /api/v1/console/accounts": {policy: pAdmin, ok: 201, noUserData: true, req: func(w *world, _ int, _ bool) (string, []byte) {
			return "/api/v1/console/accounts", fmt.Appendf(nil, `{"email":"made%d@example.net","password":%q,"role":"viewer"}`, profileSeq.Add(1), matrixPassword)
		}},
		"DELETE /api/v1/console/accounts/{email}": {policy: pAdmin, ok: 204, noUserData: true, req: func(w *world, _ int, _ bool) (string, []byte) {
			return "/api/v1/console/accounts/" + w.spareAccount(), nil
		}},
		"POST /api/v1/console/password": {policy: pSession, ok: 204, noUserData: true, endsSession: true, req: func(*world, int, bool) (string, []byte) {
			return "/api/v1/console/password", fmt.Appendf(nil, `{"current_password":%q,"new_password":%q}`, matrixPassword, matrixPassword)
		}},
		// The credentials are in the body: anyone may try.
		"POST /api/v1/console/login": {policy: pBody, ok: 200, noUserData: true, req: func(*world, int, bool) (string, []byte) {
			return "/api/v1/console/login", fmt.Appendf(nil, `{"email":"viewer@example.net","password":%q}`, matrixPassword)
		}},
		// Always 409: the matrix's accounts exist.
		"POST /api/v1/console/setup": {policy: pBody, ok: 409, noUserData: true, req: func(w *world, _ int, _ bool) (string, []byte) {
			return "/api/v1/console/setup", fmt.Appendf(nil, `{"token":%q,"email":"late@example.net","password":%q}`, w.admin, matrixPassword)
		}},
		// Anyone may log out; a session's logout ends it.
		"POST /api/v1/console/logout": {policy: pLogout, ok: 204, noUserData: true, endsSession: true, req: fixed("/api/v1/console/logout")},

		"POST /api/v1/sdk/users/{user_id}/sync": {policy: pSDKWrite, ok: 202, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/api/v1/sdk/users/" + w.users[o] + "/sync", w.payload(o)
		}},
		"POST /api/v1/sdk/users/{user_id}/logs": {policy: pSDKWrite, ok: 202, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/api/v1/sdk/users/" + w.users[o] + "/logs", w.logsPayload(o)
		}},
		"POST /api/v1/users": {policy: pCreateUser, ok: 201, showsOwn: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/api/v1/users", w.profile(o)
		}},
		"POST /api/v1/users/{user_id}/token": {policy: pMint, ok: 200, noUserData: true, req: userPath("/token")},

		"GET /api/v1/users": {policy: pRead, ok: 200, showsOwn: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/api/v1/users?search=" + owners[o].marker, nil
		}},
		"GET /api/v1/users/{user_id}": {policy: pRead, ok: 200, showsOwn: true, req: userPath("")},
		"PATCH /api/v1/users/{user_id}": {policy: pAdmin, ok: 200, showsOwn: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/api/v1/users/" + w.users[o], w.profile(o)
		}},
		"DELETE /api/v1/users/{user_id}": {policy: pAdmin, ok: 200, destructive: true, showsOwn: true, req: userPath("")},

		"GET /api/v1/users/{user_id}/timeseries":      {policy: pRead, ok: 200, showsOwn: true, req: userPath("/timeseries" + tsWindow)},
		"GET /api/v1/users/{user_id}/timeseries.csv":  {policy: pRead, ok: 200, showsOwn: true, req: userPath("/timeseries.csv" + tsWindow)},
		"GET /api/v1/users/{user_id}/events/workouts": {policy: pRead, ok: 200, showsOwn: true, req: userPath("/events/workouts" + dateWindow)},
		"GET /api/v1/users/{user_id}/events/workouts/{workout_id}": {policy: pRead, ok: 200, foreign: true, showsOwn: true,
			req: func(w *world, o int, f bool) (string, []byte) {
				return "/api/v1/users/" + w.users[o] + "/events/workouts/" + w.workoutID[sub(o, f)], nil
			}},
		"GET /api/v1/users/{user_id}/events/workouts/{workout_id}/route.gpx": {policy: pRead, ok: 200, foreign: true, showsOwn: true,
			req: func(w *world, o int, f bool) (string, []byte) {
				return "/api/v1/users/" + w.users[o] + "/events/workouts/" + w.workoutID[sub(o, f)] + "/route.gpx", nil
			}},
		"DELETE /api/v1/users/{user_id}/events/workouts/{workout_id}": {policy: pWrite, ok: 204, foreign: true, destructive: true,
			req: func(w *world, o int, f bool) (string, []byte) {
				return "/api/v1/users/" + w.users[o] + "/events/workouts/" + w.workoutID[sub(o, f)], nil
			}},
		"GET /api/v1/users/{user_id}/events/sleep": {policy: pRead, ok: 200, showsOwn: true, req: userPath("/events/sleep" + dateWindow)},
		"DELETE /api/v1/users/{user_id}/events/sleep/{sleep_id}": {policy: pWrite, ok: 204, foreign: true, destructive: true,
			req: func(w *world, o int, f bool) (string, []byte) {
				return "/api/v1/users/" + w.users[o] + "/events/sleep/" + w.sleepID[sub(o, f)], nil
			}},

		"GET /api/v1/users/{user_id}/events/menstrual-cycles": {policy: pRead, ok: 200, req: userPath("/events/menstrual-cycles" + dateWindow)},
		// There is never a cycle to delete: an allowed pair gets the 404.
		"DELETE /api/v1/users/{user_id}/events/menstrual-cycles/{cycle_id}": {policy: pWrite, ok: 404, noUserData: true,
			req: userPath("/events/menstrual-cycles/0b5c4f7e-2a41-4c8e-9d3f-6e1a2b3c4d5e")},
		"GET /api/v1/users/{user_id}/health-scores": {policy: pRead, ok: 200, req: userPath("/health-scores" + dateWindow)},

		"GET /api/v1/users/{user_id}/summaries/activity": {policy: pRead, ok: 200, showsOwn: true, req: userPath("/summaries/activity" + dateWindow)},
		"GET /api/v1/users/{user_id}/summaries/sleep":    {policy: pRead, ok: 200, showsOwn: true, req: userPath("/summaries/sleep" + dateWindow)},
		"GET /api/v1/users/{user_id}/summaries/recovery": {policy: pRead, ok: 200, req: userPath("/summaries/recovery" + dateWindow)},
		"GET /api/v1/users/{user_id}/summaries/body":     {policy: pRead, ok: 200, req: userPath("/summaries/body")},
		"GET /api/v1/users/{user_id}/summaries/data":     {policy: pRead, ok: 200, showsOwn: true, req: userPath("/summaries/data")},

		"GET /api/v1/users/{user_id}/data-sources": {policy: pRead, ok: 200, showsOwn: true, req: userPath("/data-sources")},
		"GET /api/v1/users/{user_id}/connections":  {policy: pRead, ok: 200, showsOwn: true, req: userPath("/connections")},
		// An SDK token of the user signs out with it.
		"DELETE /api/v1/users/{user_id}/connections/{provider}": {policy: pSDKWrite, ok: 204, foreign: true, destructive: true,
			req: func(w *world, o int, f bool) (string, []byte) {
				return "/api/v1/users/" + w.users[o] + "/connections/" + owners[sub(o, f)].provider, nil
			}},
		"DELETE /api/v1/users/{user_id}/connections/{provider}/data": {policy: pWrite, ok: 204, foreign: true, destructive: true,
			req: func(w *world, o int, f bool) (string, []byte) {
				return "/api/v1/users/" + w.users[o] + "/connections/" + owners[sub(o, f)].provider + "/data", nil
			}},

		"GET /api/v1/users/{user_id}/sync/recent": {policy: pRead, ok: 200, showsOwn: true, req: userPath("/sync/recent")},
		"GET /api/v1/users/{user_id}/sync/runs":   {policy: pRead, ok: 200, showsOwn: true, req: userPath("/sync/runs")},
		"GET /api/v1/users/{user_id}/sync/stream": {policy: pRead, ok: 200, showsOwn: true, sse: true, req: userPath("/sync/stream?replay=50")},
		"GET /api/v1/sync/runs": {policy: pRead, ok: 200, showsOwn: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/api/v1/sync/runs?user_id=" + w.users[o], nil
		}},
		"GET /api/v1/users/{user_id}/sdk-logs": {policy: pRead, ok: 200, showsOwn: true, req: userPath("/sdk-logs")},

		"GET /api/v1/developer/api-keys": {policy: pAdmin, ok: 200, noUserData: true, req: fixed("/api/v1/developer/api-keys")},
		"POST /api/v1/developer/api-keys": {policy: pAdmin, ok: 201, noUserData: true, req: func(*world, int, bool) (string, []byte) {
			return "/api/v1/developer/api-keys", []byte(`{"name":"matrix","scope":"read"}`)
		}},
		"PATCH /api/v1/developer/api-keys/{key_id}": {policy: pAdmin, ok: 200, noUserData: true, req: func(w *world, _ int, _ bool) (string, []byte) {
			return "/api/v1/developer/api-keys/" + w.spareKey(), []byte(`{"name":"renamed"}`)
		}},
		"DELETE /api/v1/developer/api-keys/{key_id}": {policy: pAdmin, ok: 200, noUserData: true, req: func(w *world, _ int, _ bool) (string, []byte) {
			return "/api/v1/developer/api-keys/" + w.spareKey(), nil
		}},
		"POST /api/v1/developer/api-keys/{key_id}/rotate": {policy: pAdmin, ok: 201, noUserData: true, req: func(w *world, _ int, _ bool) (string, []byte) {
			return "/api/v1/developer/api-keys/" + w.spareKey() + "/rotate", nil
		}},
		"GET /api/v1/applications": {policy: pAdmin, ok: 200, noUserData: true, req: fixed("/api/v1/applications")},
		"POST /api/v1/applications": {policy: pAdmin, ok: 201, noUserData: true, req: func(*world, int, bool) (string, []byte) {
			return "/api/v1/applications", []byte(`{"name":"matrix"}`)
		}},
		"DELETE /api/v1/applications/{app_id}": {policy: pAdmin, ok: 204, noUserData: true, req: func(w *world, _ int, _ bool) (string, []byte) {
			return "/api/v1/applications/" + w.spareApp(), nil
		}},
		"POST /api/v1/applications/{app_id}/rotate-secret": {policy: pAdmin, ok: 200, noUserData: true, req: func(w *world, _ int, _ bool) (string, []byte) {
			return "/api/v1/applications/" + w.spareApp() + "/rotate-secret", nil
		}},
		"GET /fhir/r4/metadata":                      {policy: pPublic, ok: 200, req: fixed("/fhir/r4/metadata"), noUserData: true},
		"GET /fhir/r4/Patient/{user_id}":             {policy: pRead, ok: 200, showsOwn: true, req: fhirPath("/Patient/", "")},
		"GET /fhir/r4/Patient/{user_id}/$everything": {policy: pRead, ok: 200, showsOwn: true, req: fhirPath("/Patient/", "/$everything")},
		"GET /fhir/r4/Observation":                   {policy: pRead, ok: 200, showsOwn: true, req: fhirPath("/Observation?patient=", "")},
		"GET /fhir/r4/Device":                        {policy: pRead, ok: 200, showsOwn: true, req: fhirPath("/Device?patient=", "")},
		// A kick-off of the owner's export alone; the status and the
		// files are those of an export of the owner.
		"GET /fhir/r4/Patient/$export": {policy: pRead, ok: 202, noUserData: true, headers: []string{"Prefer", "respond-async"},
			req: fhirPath("/Patient/$export?patient=", "")},
		"GET /fhir/r4/Group/{group_id}/$export": {policy: pRead, ok: 202, noUserData: true, headers: []string{"Prefer", "respond-async"},
			req: func(w *world, o int, _ bool) (string, []byte) {
				return "/fhir/r4/Group/all/$export?_type=Device&patient=" + w.users[o], nil
			}},
		"GET /fhir/r4/bulk/{job_id}": {policy: pRead, ok: 200, noUserData: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/fhir/r4/bulk/" + w.fhirExport(o, false), nil
		}},
		"DELETE /fhir/r4/bulk/{job_id}": {policy: pRead, ok: 202, noUserData: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/fhir/r4/bulk/" + w.fhirExport(o, true), nil
		}},
		"GET /fhir/r4/bulk/{job_id}/{file}": {policy: pRead, ok: 200, showsOwn: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/fhir/r4/bulk/" + w.fhirExport(o, false) + "/Device.ndjson", nil
		}},
		"GET /api/v1/admin/backup": {policy: pAdmin, ok: 200, wholeStore: true, req: fixed("/api/v1/admin/backup")},
		// The audit trail names every user whose data was touched.
		"GET /api/v1/audit":       {policy: pAdmin, ok: 200, wholeStore: true, req: fixed("/api/v1/audit?limit=5")},
		"GET /api/v1/audit.jsonl": {policy: pAdmin, ok: 200, wholeStore: true, req: fixed("/api/v1/audit.jsonl?action=credential")},
		"GET /api/v1/audit/fhir":  {policy: pAdmin, ok: 200, wholeStore: true, req: fixed("/api/v1/audit/fhir?action=credential")},
		"POST /api/v1/token/refresh": {policy: pBody, ok: 200, noUserData: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/api/v1/token/refresh", refreshBody(w.spareRefresh(o))
		}},
		"POST /api/v1/token/revoke": {policy: pBody, ok: 204, noUserData: true, req: func(w *world, o int, _ bool) (string, []byte) {
			return "/api/v1/token/revoke", refreshBody(w.spareRefresh(o))
		}},
		"POST /api/v1/users/{user_id}/import/apple-health": {policy: pWrite, ok: 202, showsOwn: true, destructive: true,
			req: func(w *world, o int, _ bool) (string, []byte) {
				return "/api/v1/users/" + w.users[o] + "/import/apple-health", w.export(o)
			}},
		"POST /api/v1/users/{user_id}/import/apple/xml/direct": {policy: pWrite, ok: 202, showsOwn: true, destructive: true,
			headers: []string{"Content-Type", "multipart/form-data; boundary=matrixboundary"},
			req: func(w *world, o int, _ bool) (string, []byte) {
				body := "--matrixboundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"export.xml\"\r\n" +
					"Content-Type: text/xml\r\n\r\n" + string(w.export(o)) + "\r\n--matrixboundary--\r\n"
				return "/api/v1/users/" + w.users[o] + "/import/apple/xml/direct", []byte(body)
			}},
		"GET /api/v1/users/{user_id}/import/apple-health/{import_id}": {policy: pWrite, ok: 200, showsOwn: true, foreign: true,
			req: func(w *world, o int, f bool) (string, []byte) {
				return "/api/v1/users/" + w.users[o] + "/import/apple-health/" + w.importID[sub(o, f)], nil
			}},
		"POST /api/v1/users/{user_id}/invitation-code": {policy: pWrite, ok: 201, showsOwn: true, req: userPath("/invitation-code")},
		// The code in the body is the credential; the answer names its user.
		"POST /api/v1/invitation-code/redeem": {policy: pBody, ok: 200, noUserData: true, showsOwn: true,
			req: func(w *world, o int, _ bool) (string, []byte) {
				return "/api/v1/invitation-code/redeem", codeBody(w.spareCode(o))
			}},
	}
}

// owners are the two users' distinctive data.
var owners = [2]struct {
	id, marker, provider, lat string
	hour                      int
}{
	{"5b0e1f3c-8d2a-4c71-9e4b-2f6a7d8c9e01", "zqalphamark", "samsung", "52.2296761", 6},
	{"c4d3e2f1-a0b9-4c87-8d65-4e3f2a1b0c9d", "zqbravomark", "google", "48.8566142", 9},
}

// world is the matrix's server and everything it knows about it.
type world struct {
	t       *testing.T
	ts      *testServer
	clock   *manualClock
	logs    *lockedBuffer
	secrets *secretSet
	stream  *http.Client
	seeds   int
	// backups is where the test writes a backup.
	backups string

	admin, readKey, writeKey string
	appID, appSecret         string
	users                    [2]string
	sdk, expired, revoked    [2]string
	workoutID, sleepID       [2]string
	importID                 [2]string
	exports                  map[int]string // a complete export of each owner

	adminSess, viewerSess, endedSess consoleSession
}

func (w *world) call(method, path string, body []byte, headers ...string) resp {
	w.t.Helper()
	return send(w.t, w.ts.c, w.ts.base, method, path, body, w.secrets, headers...)
}

func (w *world) asAdmin(method, path string, body []byte, want int) resp {
	w.t.Helper()
	r := w.call(method, path, body, "X-Open-Wearables-API-Key", w.admin)
	if r.status != want {
		w.t.Fatalf("setup %s %s: %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

// payload is a sync batch of the owner: two records, a workout with a route
// and a sleep stage, all carrying the owner's marker. Each call differs in
// its syncTimestamp, so that no two seeds are the same bytes.
func (w *world) payload(o int) []byte {
	w.seeds++
	m, h := owners[o].marker, owners[o].hour
	src := fmt.Sprintf(`{"appId":"com.%[1]s.health","deviceId":"dev-%[1]s","deviceName":"Watch %[1]s",`+
		`"deviceManufacturer":"Maker %[1]s","deviceModel":"Model-%[1]s","deviceType":"watch","recordingMethod":null}`, m)
	return fmt.Appendf(nil, `{"provider":%q,"sdkVersion":"0.1.0","syncTimestamp":"2026-02-24T10:%02d:%02dZ","data":{
"records":[{"id":"%[4]s-sys","type":"BLOOD_PRESSURE_SYSTOLIC","startDate":"2026-02-24T%02[5]d:30:00Z","endDate":"2026-02-24T%02[5]d:30:00Z",
  "zoneOffset":"+01:00","source":%[6]s,"value":122.0,"unit":"mmHg","parentId":"%[4]s-bp","metadata":null},
 {"id":"%[4]s-steps","type":"STEP_COUNT","startDate":"2026-02-24T%02[5]d:30:00Z","endDate":"2026-02-24T%02[5]d:40:00Z",
  "zoneOffset":"+01:00","source":%[6]s,"value":1234,"unit":"count","parentId":"%[4]s-st","metadata":null}],
"sleep":[{"id":"%[4]s-slp-0","parentId":"%[4]s-slp","stage":"light","startDate":"2026-02-23T2%[7]d:10:00Z","endDate":"2026-02-23T2%[7]d:50:00Z",
  "zoneOffset":"+01:00","source":%[6]s,"values":[],"metadata":null}],
"workouts":[{"id":"%[4]s-wrk","parentId":"%[4]s-w","type":"RUNNING","startDate":"2026-02-24T%02[5]d:00:00Z","endDate":"2026-02-24T%02[5]d:45:00Z",
  "zoneOffset":"+01:00","source":%[6]s,"title":"Title %[4]s","notes":"Notes %[4]s",
  "values":[{"type":"duration","value":2700000,"unit":"ms"},{"type":"distance","value":5234.0,"unit":"m"}],
  "route":[{"timestamp":"2026-02-24T%02[5]d:01:00Z","latitude":%[8]s,"longitude":21.0122291,"altitudeM":142.0}],
  "samples":[{"timestamp":"2026-02-24T%02[5]d:01:00Z","type":"heartRate","value":110.0,"unit":"bpm"}],"metadata":null}]}}`,
		owners[o].provider, (w.seeds/60)%60, w.seeds%60, m, h, src, 1+o, owners[o].lat)
}

func (w *world) logsPayload(o int) []byte {
	return fmt.Appendf(nil, `{"sdkVersion":"1.2.0","provider":%q,"syncSessionId":"session-%s","events":[`+
		`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","dataTypeCounts":[{"type":"HEART_RATE","count":300}]}]}`,
		owners[o].provider, owners[o].marker)
}

// profileSeq makes every created user's email unique: a taken email is 409.
var profileSeq atomic.Int64

func (w *world) profile(o int) []byte {
	m := owners[o].marker
	return fmt.Appendf(nil, `{"first_name":"First %[1]s","last_name":"Last %[1]s","email":"%[1]s.%[2]d@example.org","external_user_id":"ext-%[1]s"}`,
		m, profileSeq.Add(1))
}

// markers are the strings of the owner's data that no one else may see.
func (w *world) markers(o int) []string {
	return []string{owners[o].marker, owners[o].lat}
}

// seed gives the owner its data, from scratch.
func (w *world) seed(o int) {
	w.t.Helper()
	id := w.users[o]
	if r := w.call("DELETE", "/api/v1/users/"+id, nil, "X-Open-Wearables-API-Key", w.admin); r.status != 200 && r.status != 404 {
		w.t.Fatalf("reseed: delete: %d %s", r.status, r.body)
	}
	w.asAdmin("POST", "/api/v1/sdk/users/"+id+"/sync", w.payload(o), 202)
	w.asAdmin("POST", "/api/v1/sdk/users/"+id+"/logs", w.logsPayload(o), 202)
	w.asAdmin("PATCH", "/api/v1/users/"+id, w.profile(o), 200)
	w.ts.indexed()
	first := func(path string) string {
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(w.asAdmin("GET", path, nil, 200).body, &page); err != nil || len(page.Data) != 1 {
			w.t.Fatalf("seed %s: %d items (%v)", path, len(page.Data), err)
		}
		return page.Data[0].ID
	}
	w.importID[o] = w.imported(o)
	w.workoutID[o] = first("/api/v1/users/" + id + "/events/workouts" + dateWindow)
	w.sleepID[o] = first("/api/v1/users/" + id + "/events/sleep" + dateWindow)
	if w.appID != "" {
		// Deleting the user killed its SDK token.
		w.sdk[o] = w.mint(o, w.appID, w.appSecret)
	}
}

// export is a small Apple Health export.xml of the owner's, carrying its
// marker.
func (w *world) export(o int) []byte {
	m := owners[o].marker
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData ANY>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-02-25 10:00:00 +0100"/>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch %[1]s" sourceVersion="9.1" unit="count/min" creationDate="2026-02-24 08:01:00 +0100" startDate="2026-02-24 08:00:00 +0100" endDate="2026-02-24 08:00:00 +0100" value="61"/>
</HealthData>
`, m)
}

// imported imports the owner's export and waits until it is indexed; it
// returns the import's id.
func (w *world) imported(o int) string {
	w.t.Helper()
	var acc struct {
		ImportID string `json:"import_id"`
	}
	path := "/api/v1/users/" + w.users[o] + "/import/apple-health"
	if err := json.Unmarshal(w.asAdmin("POST", path, w.export(o), 202).body, &acc); err != nil {
		w.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var st struct {
			State string `json:"state"`
		}
		if err := json.Unmarshal(w.asAdmin("GET", path+"/"+acc.ImportID, nil, 200).body, &st); err != nil {
			w.t.Fatal(err)
		}
		if st.State == "completed" {
			return acc.ImportID
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the seed's import is %s after 10 s", st.State)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// digest is what an admin reads of the owner's data.
func (w *world) digest(o int) string {
	w.t.Helper()
	var b strings.Builder
	u := "/api/v1/users/" + w.users[o]
	for _, p := range []string{"", "/timeseries" + tsWindow, "/events/workouts" + dateWindow, "/events/sleep" + dateWindow,
		"/events/workouts/" + w.workoutID[o], "/data-sources", "/connections", "/sdk-logs", "/sync/runs", "/sync/recent",
		"/summaries/data"} {
		r := w.call("GET", u+p, nil, "X-Open-Wearables-API-Key", w.admin)
		// Re-encoded, so that the order of object keys does not count.
		var v any
		if err := json.Unmarshal(r.body, &v); err != nil {
			w.t.Fatalf("GET %s: %v", p, err)
		}
		norm, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s %d %s\n", p, r.status, norm)
	}
	return b.String()
}

func fhirPath(prefix, suffix string) func(*world, int, bool) (string, []byte) {
	return func(w *world, o int, _ bool) (string, []byte) { return "/fhir/r4" + prefix + w.users[o] + suffix, nil }
}

// fhirExport kicks off a bulk export of the owner's data as the admin and
// returns its job, complete (unless fresh: then as started; a cancel
// needs a job of its own each time).
func (w *world) fhirExport(o int, fresh bool) string {
	w.t.Helper()
	if w.exports == nil {
		w.exports = map[int]string{}
	}
	if id, ok := w.exports[o]; ok && !fresh {
		return id
	}
	r := w.call("GET", "/fhir/r4/Patient/$export?_type=Patient,Device&patient="+w.users[o], nil,
		"X-Open-Wearables-API-Key", w.admin, "Prefer", "respond-async")
	if r.status != 202 {
		w.t.Fatalf("export kick-off: %d %s", r.status, r.body)
	}
	loc := r.header.Get("Content-Location")
	id := loc[strings.LastIndex(loc, "/")+1:]
	for deadline := time.Now().Add(10 * time.Second); ; {
		r := w.call("GET", "/fhir/r4/bulk/"+id, nil, "X-Open-Wearables-API-Key", w.admin)
		if r.status == 200 {
			break
		}
		if r.status != 202 || time.Now().After(deadline) {
			w.t.Fatalf("export status: %d %s", r.status, r.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !fresh {
		w.exports[o] = id
	}
	return id
}

func (w *world) spareKey() string {
	w.t.Helper()
	r := w.asAdmin("POST", "/api/v1/developer/api-keys", []byte(`{"name":"spare","scope":"read"}`), 201)
	return r.json(w.t)["id"].(string)
}

func (w *world) spareApp() string {
	w.t.Helper()
	r := w.asAdmin("POST", "/api/v1/applications", []byte(`{"name":"spare"}`), 201)
	return r.json(w.t)["app_id"].(string)
}

func (w *world) spareRefresh(o int) string {
	w.t.Helper()
	r := w.asAdmin("POST", "/api/v1/users/"+w.users[o]+"/token", nil, 200)
	return r.json(w.t)["refresh_token"].(string)
}

func (w *world) spareCode(o int) string {
	w.t.Helper()
	r := w.asAdmin("POST", "/api/v1/users/"+w.users[o]+"/invitation-code", nil, 201)
	return r.json(w.t)["code"].(string)
}

func (w *world) mint(o int, appID, secret string) string {
	w.t.Helper()
	body, _ := json.Marshal(map[string]string{"app_id": appID, "app_secret": secret})
	r := w.call("POST", "/api/v1/users/"+w.users[o]+"/token", body)
	if r.status != 200 {
		w.t.Fatalf("mint: %d %s", r.status, r.body)
	}
	return r.json(w.t)["access_token"].(string)
}

func (w *world) headers(c cred, owner int) []string {
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	switch c {
	case cAdmin:
		return []string{"X-Open-Wearables-API-Key", w.admin}
	case cRead:
		return []string{"X-Open-Wearables-API-Key", w.readKey}
	case cWrite:
		return []string{"X-Open-Wearables-API-Key", w.writeKey}
	case cSDKA:
		return bearer(w.sdk[0])
	case cSDKB:
		return bearer(w.sdk[1])
	case cExpired:
		return bearer(w.expired[owner])
	case cRevoked:
		return bearer(w.revoked[owner])
	case cAdminSession:
		return []string{"Cookie", "wh_session=" + w.adminSess.token, "X-CSRF-Token", w.adminSess.csrf}
	case cViewerSession:
		return []string{"Cookie", "wh_session=" + w.viewerSess.token, "X-CSRF-Token", w.viewerSess.csrf}
	case cNoCSRF:
		return []string{"Cookie", "wh_session=" + w.adminSess.token}
	case cEndedSession:
		return []string{"Cookie", "wh_session=" + w.endedSess.token, "X-CSRF-Token", w.endedSess.csrf}
	}
	return nil
}

// consoleSession is a session's cookie value and CSRF token.
type consoleSession struct{ token, csrf string }

// login logs an account in and returns its session.
func (w *world) login(email string) consoleSession {
	w.t.Helper()
	r := w.call("POST", "/api/v1/console/login", fmt.Appendf(nil, `{"email":%q,"password":%q}`, email, matrixPassword))
	if r.status != 200 {
		w.t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	var sess consoleSession
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "wh_session" {
			sess.token = c.Value
		}
	}
	sess.csrf, _ = r.json(w.t)["csrf_token"].(string)
	if sess.token == "" || sess.csrf == "" {
		w.t.Fatalf("login %s: no session cookie or CSRF token: %v %s", email, r.header, r.body)
	}
	w.secrets.add(sess.token)
	return sess
}

// sessions begins the matrix's sessions again (after a logout or a
// password change ended them).
func (w *world) sessions() {
	w.adminSess = w.login("admin@example.net")
	w.viewerSess = w.login("viewer@example.net")
}

func (w *world) spareAccount() string {
	w.t.Helper()
	email := fmt.Sprintf("spare%d@example.net", profileSeq.Add(1))
	w.asAdmin("POST", "/api/v1/console/accounts", fmt.Appendf(nil, `{"email":%q,"password":%q,"role":"admin"}`, email, matrixPassword), 201)
	return email
}

// streamed reads an event stream until its first heartbeat, which comes
// after the replay, then hangs up. Other answers are read whole.
func (w *world) streamed(path string, headers []string) resp {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", w.ts.base+path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := w.stream.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var body bytes.Buffer
	if res.Header.Get("Content-Type") != "text/event-stream" {
		_, err = io.Copy(&body, res.Body)
	} else {
		buf := make([]byte, 4096)
		for !bytes.Contains(body.Bytes(), []byte(": heartbeat\n")) && err == nil {
			var n int
			n, err = res.Body.Read(buf)
			body.Write(buf[:n])
		}
	}
	if err != nil && err != io.EOF {
		w.t.Fatalf("GET %s: %v after %q", path, err, body.Bytes())
	}
	return resp{status: res.StatusCode, header: res.Header, body: body.Bytes()}
}

// newWorld starts a server with a generated admin key and builds A and B,
// their data, and every credential of the matrix.
func newWorld(t *testing.T) *world {
	w := &world{t: t, clock: newManualClock(), logs: &lockedBuffer{}, secrets: &secretSet{},
		stream: &http.Client{Transport: &http.Transport{}}, backups: t.TempDir()}
	w.ts = startServer(t, func(o *app.Options) {
		o.Compactor.Paused = false
		o.Auth.AdminKey = ""
		o.Auth.Now = w.clock.Now
		// More than the refused credentials of the matrix, whose allowed
		// pairs then run from an address over the limit.
		o.Auth.BadCredentials = 200
		o.HTTP.SSEHeartbeat = 20 * time.Millisecond
		o.Logger = zerolog.New(w.logs)
	})
	b, err := os.ReadFile(filepath.Join(w.ts.dir, auth.AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	w.admin = strings.TrimSpace(string(b))
	w.secrets.harvest(b)
	for o := range owners {
		w.users[o] = owners[o].id
		w.seed(o)
	}
	key := func(scope string) string {
		r := w.asAdmin("POST", "/api/v1/developer/api-keys", []byte(`{"name":"matrix `+scope+`","scope":"`+scope+`"}`), 201)
		return r.json(t)["key"].(string)
	}
	w.readKey, w.writeKey = key("read"), key("write")
	newApp := func(name string) (string, string) {
		r := w.asAdmin("POST", "/api/v1/applications", []byte(`{"name":"`+name+`"}`), 201)
		m := r.json(t)
		return m["app_id"].(string), m["app_secret"].(string)
	}
	w.appID, w.appSecret = newApp("matrix")
	doomedID, doomedSecret := newApp("doomed")
	for o := range owners {
		w.expired[o] = w.mint(o, w.appID, w.appSecret)
		w.revoked[o] = w.mint(o, doomedID, doomedSecret)
	}
	w.asAdmin("DELETE", "/api/v1/applications/"+doomedID, nil, 204)
	w.clock.Add(2 * time.Hour)
	for o := range owners {
		w.sdk[o] = w.mint(o, w.appID, w.appSecret)
	}
	for _, acct := range [][2]string{{"admin@example.net", "admin"}, {"viewer@example.net", "viewer"}} {
		w.asAdmin("POST", "/api/v1/console/accounts", fmt.Appendf(nil, `{"email":%q,"password":%q,"role":%q}`, acct[0], matrixPassword, acct[1]), 201)
	}
	w.secrets.add(matrixPassword)
	w.sessions()
	w.endedSess = w.login("admin@example.net")
	if r := w.call("POST", "/api/v1/console/logout", nil, "Cookie", "wh_session="+w.endedSess.token, "X-CSRF-Token", w.endedSess.csrf); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	return w
}

// cell is one request of the matrix.
type cell struct {
	route   string
	cred    cred
	owner   int
	foreign bool
	head    bool // a GET route asked with HEAD, which the server answers as GET
}

func (c cell) String() string {
	s := fmt.Sprintf("%s × %s × user %c", c.route, credNames[c.cred], 'A'+c.owner)
	if c.foreign {
		s += fmt.Sprintf(" (with user %c's sub-resource)", 'B'-c.owner)
	}
	if c.head {
		s += " (as HEAD)"
	}
	return s
}

// knownProblems are cells (by their String) whose answer is known to be
// wrong, each with the problem; they are logged, not failed. None at
// present.
var knownProblems = map[string]string{}

func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	routes := matrixRoutes()

	// Every route of the server is classified, and nothing else.
	table := httpapi.RouteTable(w.ts.app.HTTP)
	inTable := map[string]bool{}
	for _, rt := range table {
		if inTable[rt] {
			t.Errorf("route %s is in the table twice", rt)
		}
		inTable[rt] = true
		if _, ok := routes[rt]; !ok {
			t.Errorf("route %s is not classified in the authorization matrix: add it to matrixRoutes", rt)
		}
	}
	for rt := range routes {
		if !inTable[rt] {
			t.Errorf("the matrix classifies %s, which the server does not have", rt)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	names := make([]string, 0, len(routes))
	for rt := range routes {
		names = append(names, rt)
	}
	sort.Strings(names)
	var denied, allowed []cell
	for _, name := range names {
		for o := 0; o < 2; o++ {
			for c := cred(0); c < nCreds; c++ {
				cl := cell{route: name, cred: c, owner: o}
				if ok, _ := expected(routes[name].policy, c, o, strings.SplitN(name, " ", 2)[0]); ok {
					allowed = append(allowed, cl)
				} else {
					denied = append(denied, cl)
				}
				if routes[name].foreign {
					// Another user's sub-resource under the owner's path
					// is never found: it changes nothing either.
					denied = append(denied, cell{route: name, cred: c, owner: o, foreign: true})
				}
				if strings.HasPrefix(name, "GET ") {
					// HEAD is answered by the GET handler: same credentials.
					hd := cl
					hd.head = true
					if ok, _ := expected(routes[name].policy, c, o, "HEAD"); ok {
						allowed = append(allowed, hd)
					} else {
						denied = append(denied, hd)
					}
				}
			}
		}
	}

	results := map[string]map[cred][2]int{}
	run := func(cl cell) {
		t.Helper()
		rt := routes[cl.route]
		path, body := rt.req(w, cl.owner, cl.foreign)
		method := strings.SplitN(cl.route, " ", 2)[0]
		if cl.head {
			method = "HEAD"
		}
		hs := append(append([]string(nil), rt.headers...), w.headers(cl.cred, cl.owner)...)
		var r resp
		if rt.sse && !cl.head {
			r = w.streamed(path, hs)
			w.secrets.harvest(r.body)
		} else {
			r = w.call(method, path, body, hs...)
		}
		if !cl.foreign && !cl.head {
			if results[cl.route] == nil {
				results[cl.route] = map[cred][2]int{}
			}
			st := results[cl.route][cl.cred]
			st[cl.owner] = r.status
			results[cl.route][cl.cred] = st
		}
		ok, deny := expected(rt.policy, cl.cred, cl.owner, method)
		want := rt.ok
		switch {
		case cl.foreign && ok:
			want = 404
		case !ok:
			want = deny
		}
		other := 1 - cl.owner
		forbidden := append(w.markers(other), w.users[other])
		if !ok || cl.foreign || rt.noUserData {
			forbidden = append(forbidden, w.markers(cl.owner)...)
		}
		if rt.wholeStore && ok && r.status == rt.ok {
			forbidden = nil
		}
		var problems []string
		if r.status != want {
			problems = append(problems, fmt.Sprintf("status %d, want %d", r.status, want))
		}
		if r.status >= 300 && !(ok && r.status == rt.ok) {
			if r.status != 401 && r.status != 403 && r.status != 404 {
				problems = append(problems, fmt.Sprintf("refused with %d, not 401, 403 or 404", r.status))
			}
			ct := r.header.Get("Content-Type")
			if strings.HasPrefix(path, "/fhir/") {
				// The FHIR routes answer their refusals as OperationOutcomes.
				if ct != "application/fhir+json" || !cl.head && !bytes.Contains(r.body, []byte(`"OperationOutcome"`)) {
					problems = append(problems, fmt.Sprintf("refusal is not an OperationOutcome (%s): %q", ct, r.body))
				}
			} else if ct != "application/json" || !cl.head && !bytes.Contains(r.body, []byte(`"detail"`)) {
				problems = append(problems, fmt.Sprintf("refusal is not a JSON detail (%s): %q", ct, r.body))
			}
		}
		for _, m := range forbidden {
			if bytes.Contains(r.body, []byte(m)) {
				problems = append(problems, fmt.Sprintf("the answer holds %q, which this pair may not see", m))
			}
		}
		if ok && !cl.foreign && !cl.head && rt.showsOwn && r.status == rt.ok && !bytes.Contains(r.body, []byte(owners[cl.owner].marker)) &&
			!bytes.Contains(r.body, []byte(w.users[cl.owner])) {
			problems = append(problems, "the answer does not show the owner's data, so the leak check cannot see any")
		}
		if len(problems) == 0 {
			return
		}
		msg := fmt.Sprintf("%v: %s", cl, strings.Join(problems, "; "))
		if known, ok := knownProblems[cl.String()]; ok {
			t.Logf("KNOWN: %s (%s)", msg, known)
			return
		}
		t.Error(msg)
	}

	// Refused pairs first: they may change nothing of either user.
	before := [2]string{w.digest(0), w.digest(1)}
	for _, cl := range denied {
		run(cl)
	}
	for o := range owners {
		if after := w.digest(o); after != before[o] {
			t.Errorf("refused requests changed user %c's data:\nbefore:\n%s\nafter:\n%s", 'A'+o, before[o], after)
		}
	}
	// Then the allowed pairs, from an address that has just sent more bad
	// keys than the limit: valid credentials are never limited. A
	// destructive pair is followed by a fresh seed.
	for i := 0; ; i++ {
		r := w.call("GET", "/api/v1/users", nil, "X-Open-Wearables-API-Key", "sk-"+strings.Repeat("0", 32))
		if r.status == 429 {
			break
		}
		if r.status != 401 || i > 200 {
			t.Fatalf("bad key %d: %d %s", i, r.status, r.body)
		}
	}
	for _, cl := range allowed {
		run(cl)
		if routes[cl.route].destructive {
			w.seed(cl.owner)
		}
		if routes[cl.route].endsSession {
			w.sessions()
		}
	}
	t.Logf("%d refused and %d allowed requests over %d routes", len(denied), len(allowed), len(routes))
	if testing.Verbose() {
		var b strings.Builder
		for _, name := range names {
			fmt.Fprintf(&b, "%-70s", name)
			for c := cred(0); c < nCreds; c++ {
				st := results[name][c]
				fmt.Fprintf(&b, " %d/%d", st[0], st[1])
			}
			b.WriteByte('\n')
		}
		t.Logf("status for A/B by credential (%s):\n%s", strings.Join(credNames[:], ", "), b.String())
	}

	// No secret the matrix saw is at rest in the data directory, a
	// backup or the log.
	m, _ := downloadBackup(t, w.ts, w.admin, filepath.Join(w.backups, "backup"))
	if !slicesContains(m.Files, auth.AdminKeyFile) {
		t.Errorf("the backup lacks the admin key file: %+v", m.Files)
	}
	w.ts.stop()
	assertNoSecretsAtRest(t, w.ts.dir, w.logs.Bytes(), w.secrets.list(), []string{w.appID, owners[0].marker})
	assertNoSecretsAtRest(t, w.backups, nil, w.secrets.list(), []string{w.appID, owners[0].marker})
}
