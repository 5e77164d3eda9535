package httpapi

import (
	"math"
	"sort"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/query"
)

// The operation table of the OpenAPI document: one entry per route of the
// route table, in the order of the API table of the README. Each says what
// its handler reads and answers; TestOpenAPIDescribesEveryRoute holds it to
// the route table.

// tagOrder is the order of the groups; the names are Open Wearables' where
// it has the group.
var tagOrder = []string{
	"External: Mobile SDK", "External: Token", "External: Users", "External: Timeseries", "External: Events",
	"External: Summaries", "External: Health Scores", "External: Data Sources", "External: Connections", "External: Sync Status",
	"External: Import", "External: Meta", "FHIR R4", "Internal: API Keys", "Internal: Applications", "Console", "System",
}

var tagSays = map[string]string{
	"External: Mobile SDK":    "What the Open Wearables mobile SDKs send: batches of health data, telemetry, the SDK tokens they send them with, and the invitation codes that pair a phone.",
	"External: Token":         "Refresh tokens: rotate and revoke.",
	"External: Users":         "Users: listed, created, changed and erased.",
	"External: Timeseries":    "Time series samples, raw or aggregated, as JSON pages or streamed CSV.",
	"External: Events":        "Workouts (with their routes) and sleep sessions.",
	"External: Summaries":     "Daily summaries computed at read time.",
	"External: Health Scores": "Open Wearables' sleep and resilience scores, computed at read time from SDK data.",
	"External: Data Sources":  "The devices and apps that wrote a user's data.",
	"External: Connections":   "One connection per SDK provider that synced.",
	"External: Sync Status":   "What became of each batch: queued, indexed, failed; listed and streamed.",
	"External: Import":        "A user's history from the Health app's export, imported in the background, exactly once.",
	"External: Meta":          "What each provider's SDK data feeds.",
	"FHIR R4":                 "The data as FHIR R4 resources (application/fhir+json): Patient, Device and Observation with LOINC codes, searches as Bundles, $everything and the Bulk Data $export flow. Errors are OperationOutcomes.",
	"Internal: API Keys":      "API keys of the admin, read and write scopes.",
	"Internal: Applications":  "Applications, whose credentials mint SDK tokens.",
	"Console":                 "The web console's pages, and its accounts and sessions: a session cookie stands for an API key on every route that takes one.",
	"System":                  "Health, readiness, metrics, backups, and this document.",
}

// resolutions are the timeseries resolutions, finest first.
func resolutions() []string {
	out := make([]string, 0, len(query.Resolutions))
	for r := range query.Resolutions {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return query.Resolutions[out[i]] < query.Resolutions[out[j]] })
	return out
}

var (
	timeseriesTypes = param{name: "types", in: "query", multi: true, schema: str(),
		desc: "Series codes (heart_rate, steps, ...), repeated; none means every series of the user. " +
			"The type of a record outside the mapping tables names its own series; other names have no samples."}
	sortOrder = func(def string) param {
		return queryParam("sort_order", "The order of the answer.", enum(def, "asc", "desc"))
	}
	userWindow = []param{must(timeParam("start_date", "Start of the window.")), must(timeParam("end_date", "End of the window."))}
)

// operations describe the routes.
var operations = []operation{
	// External: Mobile SDK
	{method: "POST", path: "/api/v1/sdk/users/{user_id}/sync", id: "sync_sdk_data", tag: "External: Mobile SDK",
		summary: "Send a batch of health data",
		desc: "Accepts an Open Wearables SyncRequest and answers 202 once it is fsynced into the write-ahead queue; " +
			"it is indexed in the background (its run, in the sync status routes, says when). Bad items cost only " +
			"themselves: each is dropped and listed in errors by its JSON path (the first 20; dropped_count counts all). " +
			"The same bytes sent again within 7 days get the first answer with duplicate true. The credentials, the user, " +
			"the scope, a declared size over the limit and the admission are decided before the body is read, so a client " +
			"that sends Expect: 100-continue gets a refusal before it uploads anything. A user is created by its first sync " +
			"unless the server runs with --auto-create-users=false (then 404).",
		access: accessSDKWrite,
		params: []param{{name: "Idempotency-Key", in: "header", schema: str(),
			desc: "1 to 255 printable ASCII characters: the first answer is replayed for the same body " +
				"(with Idempotent-Replayed: true), and another body is 422. Kept per credential for 7 days."}},
		body: &reqBody{shape: syncRequest{}, required: true, desc: "At most --max-body (32 MiB) as sent and after decompression, and --max-items items."},
		replies: []reply{{status: 202, desc: "Accepted: durable in the queue.", shape: codec.SyncResponse{},
			headers: map[string]string{"Idempotent-Replayed": "true when the answer is the replay of an earlier request with the same Idempotency-Key."}}},
		errs: []int{400, 403, 404, 422, 503, 507}},
	{method: "POST", path: "/api/v1/sdk/users/{user_id}/logs", id: "submit_sdk_logs", tag: "External: Mobile SDK",
		summary: "Send SDK telemetry",
		desc:    "Validated as Open Wearables does (the first problem rejects the request), stored with a synced write; the last 1,000 events per user are kept.",
		access:  accessSDKWrite,
		body:    &reqBody{shape: sdkLogRequest{}, required: true, desc: "At most 1 MiB after decompression."},
		replies: []reply{{status: 202, desc: "Stored.", shape: codec.UploadDataResponse{}}},
		errs:    []int{400, 403, 404, 503, 507}},
	{method: "GET", path: "/api/v1/users/{user_id}/sdk-logs", id: "list_sdk_logs", tag: "External: Mobile SDK",
		summary: "List stored SDK telemetry", desc: "Newest first.", access: accessRead,
		params:  []param{limit(100, 1000)},
		replies: []reply{{status: 200, desc: "The events.", shape: []codec.SDKLogEntry{}}},
		errs:    []int{400, 403, 404}},
	{method: "POST", path: "/api/v1/users/{user_id}/token", id: "create_user_token", tag: "External: Mobile SDK",
		summary: "Mint an SDK token and a refresh token", access: accessMint,
		body: &reqBody{shape: codec.TokenRequest{}, desc: "Application credentials; empty when an admin key is sent. At most 4 KiB."},
		replies: []reply{{status: 200, desc: "The tokens.", shape: codec.TokenResponse{},
			headers: map[string]string{"Cache-Control": "no-store"}}},
		errs: []int{400, 403, 404}},

	{method: "POST", path: "/api/v1/users/{user_id}/invitation-code", id: "generate_invitation_code", tag: "External: Mobile SDK",
		summary: "Create an invitation code that pairs a phone",
		desc: "A single-use code of 8 letters and digits (ABCDEFGHJKLMNPQRSTUVWXYZ23456789), valid 7 days, that the " +
			"Open Wearables app redeems for tokens; the user's earlier codes stop. A user that does not exist yet is " +
			"created, as by its first sync (404 when the server runs with --auto-create-users=false). The code is shown " +
			"once and stored only as its hash; the tokens redeemed from it stop with the API key that created it.",
		access:  accessWrite,
		replies: []reply{{status: 201, desc: "The code.", shape: auth.Invitation{}, headers: map[string]string{"Cache-Control": "no-store"}}},
		errs:    []int{400, 403, 404, 503, 507}},
	{method: "POST", path: "/api/v1/users/{user_id}/import/apple-health", id: "import_apple_health", tag: "External: Import",
		summary: "Import an Apple Health export (export.zip or export.xml)",
		desc: "The body is the Health app's export.zip, or its export.xml, told apart by their first bytes, optionally " +
			"sent with Content-Encoding gzip or zstd; of any size up to --max-import (default 8 GiB; --max-body does not " +
			"apply). It is written to the data directory and fsynced before the 202: a disk under the reserve is 507 and " +
			"nothing is kept. The import then runs in the background, resumes from its checkpoint after a restart, and " +
			"shows as a run with source \"import\" in the sync status routes. A sample already stored (by a sync or an " +
			"earlier import: same data source, type and start) is not stored again and is counted as a duplicate.",
		access:  accessWrite,
		body:    &reqBody{required: true, desc: "export.zip or export.xml.", media: []string{"application/zip", "application/xml", "application/octet-stream"}},
		replies: []reply{{status: 202, desc: "The upload is on disk; the import is queued.", shape: importAccepted{}}},
		errs:    []int{400, 403, 404, 503, 507}},
	{method: "GET", path: "/api/v1/users/{user_id}/import/apple-health/{import_id}", id: "get_import", tag: "External: Import",
		summary: "An import's state and its run",
		desc: "state is queued, reading, indexing (every item queued, not all indexed), completed or failed; run is " +
			"the import's run as the sync status routes list it, with what was read, stored, skipped as duplicate, " +
			"dropped (by reason) and stored under unmapped types.",
		access:  accessWrite,
		replies: []reply{{status: 200, desc: "The import.", shape: importView{}}},
		errs:    []int{400, 403, 404}},
	{method: "POST", path: "/api/v1/users/{user_id}/import/apple/xml/direct", id: "import_xml_file", tag: "External: Import",
		summary: "Import an Apple Health export, as Open Wearables' direct upload",
		desc: "Open Wearables' route: a multipart/form-data body whose field \"file\" is export.xml (or export.zip). " +
			"Answered as the route above, with Open Wearables' status \"processing\" and task_id (the import's id).",
		access:  accessWrite,
		body:    &reqBody{required: true, desc: "The export in the field \"file\".", media: []string{"multipart/form-data"}},
		replies: []reply{{status: 202, desc: "The upload is on disk; the import is queued.", shape: importAccepted{}}},
		errs:    []int{400, 403, 404, 503, 507}},
	{method: "POST", path: "/api/v1/invitation-code/redeem", id: "redeem_invitation_code", tag: "External: Mobile SDK",
		summary: "Redeem an invitation code for an SDK token and a refresh token",
		desc: "Once per code. The code may be typed in any case, with spaces or dashes. A code that is wrong, used, " +
			"revoked by a newer one or expired is 404.",
		access:  accessCode,
		body:    &reqBody{shape: invitationRedeem{}, required: true, desc: "At most 4 KiB."},
		replies: []reply{{status: 200, desc: "The tokens and their user.", shape: redeemed{}, headers: map[string]string{"Cache-Control": "no-store"}}},
		errs:    []int{400, 404, 429}},

	// External: Token
	{method: "POST", path: "/api/v1/token/refresh", id: "refresh_token", tag: "External: Token",
		summary: "Exchange a refresh token for new tokens", desc: "The refresh token rotates: the old one stops at once.",
		access:  accessRefresh,
		body:    &reqBody{shape: refreshRequest{}, required: true, desc: "At most 4 KiB."},
		replies: []reply{{status: 200, desc: "The new tokens.", shape: codec.TokenResponse{}, headers: map[string]string{"Cache-Control": "no-store"}}},
		errs:    []int{400, 401, 429}},
	{method: "POST", path: "/api/v1/token/revoke", id: "revoke_refresh_token", tag: "External: Token",
		summary: "Revoke a refresh token", access: accessRefresh,
		body:    &reqBody{shape: refreshRequest{}, required: true, desc: "At most 4 KiB."},
		replies: []reply{{status: 204, desc: "Revoked."}},
		errs:    []int{400, 404}},

	// External: Users
	{method: "GET", path: "/api/v1/users", id: "list_users", tag: "External: Users",
		summary: "List users", access: accessRead,
		params: []param{
			queryParam("page", "The page, from 1.", map[string]any{"type": "integer", "minimum": 1, "default": 1}),
			limit(20, 100),
			queryParam("sort_by", "The sort key.", enum("created_at", query.SortKeys...)),
			sortOrder("desc"),
			queryParam("search", "A case-insensitive part of the email, first or last name.", str()),
			queryParam("email", "The email, in any case.", str()),
			queryParam("external_user_id", "The external user id.", str()),
		},
		replies: []reply{{status: 200, desc: "A page of users.", shape: query.UserPage{}}},
		errs:    []int{400, 403}},
	{method: "POST", path: "/api/v1/users", id: "create_user", tag: "External: Users",
		summary: "Create a user", desc: "With a random UUID. An email another user has is 409.", access: accessCreateUser,
		body:    &reqBody{shape: codec.UserCreate{}, desc: "first_name and last_name at most 100 characters; email a valid address. At most 16 KiB."},
		replies: []reply{{status: 201, desc: "The user.", shape: query.UserRead{}}},
		errs:    []int{400, 403, 409}},
	{method: "GET", path: "/api/v1/users/{user_id}", id: "get_user", tag: "External: Users",
		summary: "Get a user", access: accessRead,
		replies: []reply{{status: 200, desc: "The user.", shape: query.UserRead{}}},
		errs:    []int{400, 403, 404}},
	{method: "PATCH", path: "/api/v1/users/{user_id}", id: "update_user", tag: "External: Users",
		summary: "Change a user", desc: "Fields sent as null, or not sent, are left as they are.", access: accessAdmin,
		body:    &reqBody{shape: codec.UserCreate{}, desc: "As POST /api/v1/users."},
		replies: []reply{{status: 200, desc: "The user as changed.", shape: query.UserRead{}}},
		errs:    []int{400, 403, 404}},
	{method: "DELETE", path: "/api/v1/users/{user_id}", id: "delete_user", tag: "External: Users",
		summary: "Erase a user and all of their data",
		desc: "Batches still queued included; the user's SDK and refresh tokens stop at once, and a sync with one " +
			"does not create the user again.",
		access:  accessAdmin,
		replies: []reply{{status: 200, desc: "The user as it was.", shape: query.UserRead{}}},
		errs:    []int{400, 403, 404}},

	// External: Timeseries
	{method: "GET", path: "/api/v1/users/{user_id}/timeseries", id: "get_timeseries", tag: "External: Timeseries",
		summary: "Get time series samples",
		desc: "Ordered by time. An aggregated resolution gives one bucket per series and data source: the sum for " +
			"summed series (steps, energy), the average otherwise, with min, max and sample_count. An unknown user has no samples.",
		access: accessRead,
		params: []param{must(timeParam("start_time", "Start of the window.")), must(timeParam("end_time", "End of the window.")),
			timeseriesTypes, queryParam("resolution", "Raw samples, or buckets of this width.", enum("raw", resolutions()...)),
			cursor(), limit(50, maxRawSamples)},
		replies: []reply{{status: 200, desc: "A page of samples.", shape: query.Page[query.Sample]{}}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/users/{user_id}/timeseries.csv", id: "get_timeseries_csv", tag: "External: Timeseries",
		summary: "Stream time series samples as CSV", desc: "The raw samples of the window, streamed.", access: accessRead,
		params:  []param{must(timeParam("start_time", "Start of the window.")), must(timeParam("end_time", "End of the window.")), timeseriesTypes},
		replies: []reply{{status: 200, desc: "CSV with a header line.", media: "text/csv"}},
		errs:    []int{400, 403}},

	// External: Events
	{method: "GET", path: "/api/v1/users/{user_id}/events/workouts", id: "list_workouts", tag: "External: Events",
		summary: "List workouts", desc: "Workouts that start at or after start_date and end before end_date, newest first.",
		access: accessRead,
		params: append(append([]param{}, userWindow...),
			queryParam("record_type", "Only workouts whose type holds this, in any case.", str()), cursor(), limit(50, 100)),
		replies: []reply{{status: 200, desc: "A page of workouts.", shape: query.Page[query.Workout]{}}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/users/{user_id}/events/workouts/{workout_id}", id: "get_workout", tag: "External: Events",
		summary: "Get a workout with everything sent with it", desc: "Statistics, route, samples, laps and segments.",
		access:  accessRead,
		replies: []reply{{status: 200, desc: "The workout.", shape: query.WorkoutDetail{}}},
		errs:    []int{400, 403, 404}},
	{method: "GET", path: "/api/v1/users/{user_id}/events/workouts/{workout_id}/route.gpx", id: "get_workout_route_gpx", tag: "External: Events",
		summary: "Get a workout's route as GPX 1.1", access: accessRead,
		replies: []reply{{status: 200, desc: "The route, as an attachment named <workout_id>.gpx.", media: "application/gpx+xml"}},
		errs:    []int{400, 403, 404}},
	{method: "DELETE", path: "/api/v1/users/{user_id}/events/workouts/{workout_id}", id: "delete_workout", tag: "External: Events",
		summary: "Delete a workout", access: accessWrite,
		replies: []reply{{status: 204, desc: "Deleted."}},
		errs:    []int{400, 403, 404}},
	{method: "GET", path: "/api/v1/users/{user_id}/events/sleep", id: "list_sleep_sessions", tag: "External: Events",
		summary: "List sleep sessions", desc: "Sessions built from the stored stages, with their stages and intervals.",
		access:  accessRead,
		params:  append(append([]param{}, userWindow...), cursor(), limit(50, 100)),
		replies: []reply{{status: 200, desc: "A page of sessions.", shape: query.Page[query.SleepSession]{}}},
		errs:    []int{400, 403}},
	{method: "DELETE", path: "/api/v1/users/{user_id}/events/sleep/{sleep_id}", id: "delete_sleep_session", tag: "External: Events",
		summary: "Delete a sleep session", desc: "Its stages within the window its id names.", access: accessWrite,
		replies: []reply{{status: 204, desc: "Deleted."}},
		errs:    []int{400, 403, 404}},

	// External: Summaries
	{method: "GET", path: "/api/v1/users/{user_id}/summaries/activity", id: "get_activity_summary", tag: "External: Summaries",
		summary: "Daily activity summaries", desc: "One per local day of [start_date, end_date) with data.", access: accessRead,
		params: []param{dateParam("start_date", "First day."), dateParam("end_date", "Day after the last."),
			cursor(), limit(50, 400), sortOrder("asc")},
		replies: []reply{{status: 200, desc: "A page of days.", shape: query.Page[query.ActivitySummary]{}}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/users/{user_id}/summaries/sleep", id: "get_sleep_summary", tag: "External: Summaries",
		summary: "Nightly sleep summaries", desc: "One per night, by the local date of its wake-up.", access: accessRead,
		params:  []param{dateParam("start_date", "First day."), dateParam("end_date", "Day after the last."), cursor(), limit(50, 100)},
		replies: []reply{{status: 200, desc: "A page of nights.", shape: query.Page[query.SleepSummary]{}}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/users/{user_id}/summaries/recovery", id: "get_recovery_summary", tag: "External: Summaries",
		summary: "Recovery summaries", desc: "Always empty, as Open Wearables answers for SDK data: recovery comes only from cloud providers' scores.",
		access:  accessRead,
		params:  []param{dateParam("start_date", "First day."), dateParam("end_date", "Day after the last."), limit(50, 100)},
		replies: []reply{{status: 200, desc: "An empty page.", shape: query.Page[struct{}]{}}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/users/{user_id}/summaries/body", id: "get_body_summary", tag: "External: Summaries",
		summary: "Body summary", desc: "Latest slow-changing values, averages over a period, latest readings of a window; null without data.",
		access: accessRead,
		params: []param{intRange("average_period", 7, 1, 7, "Days averaged."),
			intRange("latest_window_hours", 4, 1, 24, "Hours in which a reading counts as latest.")},
		replies: []reply{{status: 200, desc: "The summary, or null.", shape: (*query.BodySummary)(nil)}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/users/{user_id}/summaries/data", id: "get_data_summary", tag: "External: Summaries",
		summary: "Counts of a user's data", desc: "Data points by time, events by start; without a window, all of them.",
		access:  accessRead,
		params:  []param{timeParam("start_date", "Start of the window (optional)."), timeParam("end_date", "End of the window (optional).")},
		replies: []reply{{status: 200, desc: "The counts.", shape: query.DataSummary{}}},
		errs:    []int{400, 403}},

	// External: Health scores and menstrual cycles
	{method: "GET", path: "/api/v1/users/{user_id}/health-scores", id: "get_health_scores", tag: "External: Health Scores",
		summary: "Health scores", desc: "Open Wearables' sleep score (one per sleep session, recorded at its local end) and " +
			"resilience score (one per UTC day with at least 5 nights of RMSSD in the 7 days before it), computed at read time; newest first.",
		access: accessRead,
		params: []param{timeParam("start_date", "Earliest recorded_at (optional)."), timeParam("end_date", "End of recorded_at (optional)."),
			queryParam("category", "Only scores of this category.", enum("", query.ScoreCategories...)),
			queryParam("provider", "Only scores from this provider.", enum("", query.ScoreProviders...)),
			limit(50, 1000), intRange("offset", 0, 0, math.MaxInt32, "Scores to skip.")},
		replies: []reply{{status: 200, desc: "A page of scores.", shape: query.Page[query.HealthScore]{}}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/users/{user_id}/events/menstrual-cycles", id: "list_menstrual_cycles", tag: "External: Events",
		summary: "List menstrual cycles", desc: "Always empty: the SDKs send flow readings (kept under their own record type), not cycles.",
		access:  accessRead,
		params:  []param{dateParam("start_date", "First day."), dateParam("end_date", "Day after the last."), cursor(), limit(50, 100)},
		replies: []reply{{status: 200, desc: "An empty page.", shape: query.Page[struct{}]{}}},
		errs:    []int{400, 403}},
	{method: "DELETE", path: "/api/v1/users/{user_id}/events/menstrual-cycles/{cycle_id}", id: "delete_menstrual_cycle", tag: "External: Events",
		summary: "Delete a menstrual cycle", desc: "Always 404, as no cycle is ever stored.", access: accessWrite,
		replies: []reply{{status: 204, desc: "Deleted."}},
		errs:    []int{400, 403, 404}},

	// Static files
	{method: "GET", path: "/static/provider-icons/{name}", id: "provider_icon", tag: "System", summary: "A provider's icon",
		desc: "The SVG a connection's icon_url points at (apple.svg, samsung.svg, google.svg).", access: accessNone,
		replies: []reply{{status: 200, desc: "The icon.", media: "image/svg+xml"}},
		errs:    []int{404}},

	// External: Data Sources, Connections
	{method: "GET", path: "/api/v1/users/{user_id}/data-sources", id: "get_user_data_sources", tag: "External: Data Sources",
		summary: "List a user's data sources", desc: "Ordered by provider and device model.", access: accessRead,
		replies: []reply{{status: 200, desc: "The data sources.", shape: dataSourceList{}}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/users/{user_id}/connections", id: "get_connections_endpoint", tag: "External: Connections",
		summary: "List a user's connections", access: accessRead,
		replies: []reply{{status: 200, desc: "The connections.", shape: []query.ConnectionView{}}},
		errs:    []int{400, 403}},
	{method: "DELETE", path: "/api/v1/users/{user_id}/connections/{provider}", id: "disconnect_provider_endpoint", tag: "External: Connections",
		summary: "Revoke a connection",
		desc: "A later sync from the provider makes it active again. The iOS SDK signs out with it: sent with an SDK " +
			"token, it also revokes the refresh tokens of that token's sign-in (another user's token is 403).",
		access:  accessSDKWrite,
		replies: []reply{{status: 204, desc: "Revoked."}},
		errs:    []int{400, 403, 404}},
	{method: "DELETE", path: "/api/v1/users/{user_id}/connections/{provider}/data", id: "delete_provider_data_endpoint", tag: "External: Connections",
		summary: "Revoke a connection and erase its data", access: accessWrite,
		replies: []reply{{status: 204, desc: "Revoked and erased."}},
		errs:    []int{400, 403, 404}},

	// External: Sync Status
	{method: "GET", path: "/api/v1/users/{user_id}/sync/recent", id: "list_recent_sync_events", tag: "External: Sync Status",
		summary: "A user's latest sync status events", desc: "Newest first, of the runs of the last 30 days.", access: accessRead,
		params:  []param{limit(50, 200)},
		replies: []reply{{status: 200, desc: "The events.", shape: []codec.SyncStatusEvent{}}},
		errs:    []int{400, 403, 404}},
	{method: "GET", path: "/api/v1/users/{user_id}/sync/runs", id: "list_sync_run_summaries", tag: "External: Sync Status",
		summary: "A user's sync runs", desc: "Newest last update first.", access: accessRead,
		params:  []param{limit(20, 200)},
		replies: []reply{{status: 200, desc: "The runs.", shape: []codec.SyncRunSummary{}}},
		errs:    []int{400, 403, 404}},
	{method: "GET", path: "/api/v1/users/{user_id}/sync/stream", id: "stream_user_sync_status", tag: "External: Sync Status",
		summary: "Stream a user's sync status events",
		desc: "Server-Sent Events: \": connected\", the last replay events oldest first, then each event as runs change " +
			"(each data: line a SyncStatusEvent), and \": heartbeat\" after 15 s of silence. A stream that falls behind ends; reconnect to replay.",
		access:  accessRead,
		params:  []param{intRange("replay", 20, 1, 200, "Latest events sent first.")},
		replies: []reply{{status: 200, desc: "The event stream.", media: "text/event-stream"}},
		errs:    []int{400, 403, 404}},
	{method: "GET", path: "/api/v1/sync/runs", id: "list_all_sync_run_summaries", tag: "External: Sync Status",
		summary: "Sync runs of every user", desc: "Newest last update first. An unknown user gives an empty list.", access: accessRead,
		params: []param{limit(50, 10000),
			queryParam("user_id", "Only this user's runs.", str()),
			queryParam("provider", "Only this provider's runs, in any case.", str()),
			queryParam("status", "Only runs of this status (in_progress, success, failed) or stage (queued, started, completed, failed).", str()),
			queryParam("source", "Only runs of this source: sdk (a batch) or import (an Apple Health import); another source lists none.", str())},
		replies: []reply{{status: 200, desc: "The runs.", shape: []codec.SyncRunSummary{}}},
		errs:    []int{400, 403}},

	// External: Meta
	{method: "GET", path: "/api/v1/meta/coverage", id: "get_coverage", tag: "External: Meta",
		summary: "Provider data coverage matrix", access: accessNone,
		replies: []reply{{status: 200, desc: "The coverage.", shape: query.Coverage{}}}},

	// FHIR R4
	{method: "GET", path: "/fhir/r4/metadata", id: "fhir_metadata", tag: "FHIR R4", summary: "The CapabilityStatement",
		access: accessNone, fhir: true, replies: []reply{{status: 200, desc: "What the FHIR routes do.", media: "application/fhir+json"}}},
	{method: "GET", path: "/fhir/r4/Patient/{user_id}", id: "fhir_patient", tag: "FHIR R4", summary: "A user as a Patient",
		desc: "Identifier urn:wearhouse:user with the user id; name and e-mail address when the user has them. The id is the user id " +
			"when it fits FHIR's id syntax, else h- and 40 hex digits of its SHA-256.",
		access: accessRead, fhir: true, replies: []reply{{status: 200, desc: "The Patient.", media: "application/fhir+json"}}, errs: []int{403, 404}},
	{method: "GET", path: "/fhir/r4/Patient/{user_id}/$everything", id: "fhir_patient_everything", tag: "FHIR R4",
		summary: "Everything of a Patient", desc: "A searchset Bundle: the Patient and its Devices, then its Observations, paged by the next link.",
		access: accessRead, fhir: true,
		params: []param{queryParam("start", "Samples at or after it.", str()), queryParam("end", "Samples before it.", str()),
			intRange("_count", 100, 1, fhirMaxCount, "Entries per page."), queryParam("_cursor", "The next link's place.", str())},
		replies: []reply{{status: 200, desc: "A page.", media: "application/fhir+json"}}, errs: []int{400, 403, 404}},
	{method: "GET", path: "/fhir/r4/Observation", id: "fhir_observation_search", tag: "FHIR R4", summary: "Search Observations",
		desc:   "A user's samples as Observations (per bucket with resolution), then its sleep sessions, as a searchset Bundle with a next link.",
		access: accessRead, fhir: true,
		params: []param{must(queryParam("patient", "The Patient's id, or Patient/<id>.", str())),
			{name: "code", in: "query", multi: true, schema: str(), desc: "Tokens, comma-separated: http://loinc.org|8867-4, 8867-4, urn:wearhouse:series|heart_rate or heart_rate."},
			{name: "date", in: "query", multi: true, schema: str(), desc: "ge, gt, le, lt or eq and a time: the window."},
			queryParam("resolution", "Buckets of this width instead of samples.", enum("raw", resolutions()...)),
			intRange("_count", 100, 1, fhirMaxCount, "Entries per page."), queryParam("_cursor", "The next link's place.", str())},
		replies: []reply{{status: 200, desc: "A page.", media: "application/fhir+json"}}, errs: []int{400, 403, 404}},
	{method: "GET", path: "/fhir/r4/Device", id: "fhir_device_search", tag: "FHIR R4", summary: "A Patient's Devices",
		desc: "One Device per data source.", access: accessRead, fhir: true,
		params:  []param{must(queryParam("patient", "The Patient's id, or Patient/<id>.", str()))},
		replies: []reply{{status: 200, desc: "A Bundle.", media: "application/fhir+json"}}, errs: []int{400, 403, 404}},
	{method: "GET", path: "/fhir/r4/Patient/$export", id: "fhir_export_patients", tag: "FHIR R4", summary: "Bulk export of every Patient",
		desc: "Kick-off of the Bulk Data export: 202 and the status URL in Content-Location. Jobs live in memory (a restart forgets them); " +
			"files are read from the store when fetched.",
		access: accessRead, fhir: true,
		params: []param{must(param{name: "Prefer", in: "header", schema: str(), desc: "respond-async"}),
			queryParam("_type", "Patient, Device and Observation, comma-separated.", str()),
			queryParam("_since", "Only samples at or after it.", str()),
			queryParam("_outputFormat", "application/fhir+ndjson.", str()),
			queryParam("patient", "Only these Patients, comma-separated (wearhouse's own).", str())},
		replies: []reply{{status: 202, desc: "Started.", headers: map[string]string{"Content-Location": "The status URL."}}},
		errs:    []int{400, 403, 404, 429}},
	{method: "GET", path: "/fhir/r4/Group/{group_id}/$export", id: "fhir_export_group", tag: "FHIR R4", summary: "Bulk export of a Group",
		desc: "As Patient/$export; the one Group is all, every user.", access: accessRead, fhir: true,
		params:  []param{must(param{name: "Prefer", in: "header", schema: str(), desc: "respond-async"})},
		replies: []reply{{status: 202, desc: "Started.", headers: map[string]string{"Content-Location": "The status URL."}}},
		errs:    []int{400, 403, 404, 429}},
	{method: "GET", path: "/fhir/r4/bulk/{job_id}", id: "fhir_export_status", tag: "FHIR R4", summary: "A bulk export's status",
		desc: "202 with X-Progress while it runs; 200 with the output manifest when done.", access: accessRead, fhir: true,
		replies: []reply{{status: 200, desc: "The manifest.", media: "application/json"},
			{status: 202, desc: "Running.", headers: map[string]string{"X-Progress": "How far it is."}}},
		errs: []int{403, 404}},
	{method: "DELETE", path: "/fhir/r4/bulk/{job_id}", id: "fhir_export_cancel", tag: "FHIR R4", summary: "Cancel a bulk export",
		access: accessRead, fhir: true, replies: []reply{{status: 202, desc: "Cancelled."}}, errs: []int{403, 404}},
	{method: "GET", path: "/fhir/r4/bulk/{job_id}/{file}", id: "fhir_export_file", tag: "FHIR R4", summary: "A file of a bulk export",
		desc: "NDJSON, one resource a line, streamed from the store.", access: accessRead, fhir: true,
		replies: []reply{{status: 200, desc: "The file.", media: "application/fhir+ndjson"}}, errs: []int{403, 404}},

	// Internal: API Keys
	{method: "GET", path: "/api/v1/developer/api-keys", id: "list_api_keys", tag: "Internal: API Keys",
		summary: "List API keys", desc: "Without the keys, which are stored only as hashes.", access: accessAdmin,
		replies: []reply{{status: 200, desc: "The keys.", shape: []auth.KeyInfo{}}},
		errs:    []int{403}},
	{method: "POST", path: "/api/v1/developer/api-keys", id: "create_api_key", tag: "Internal: API Keys",
		summary: "Create an API key", desc: "The key is shown once, in this answer.", access: accessAdmin,
		body:    &reqBody{shape: apiKeyCreate{}, required: true, desc: "At most 16 KiB."},
		replies: []reply{{status: 201, desc: "The key, with key set.", shape: keyView{}, headers: map[string]string{"Cache-Control": "no-store"}}},
		errs:    []int{400, 403}},
	{method: "PATCH", path: "/api/v1/developer/api-keys/{key_id}", id: "update_api_key", tag: "Internal: API Keys",
		summary: "Rename an API key", access: accessAdmin,
		body:    &reqBody{shape: apiKeyRename{}, required: true, desc: "At most 16 KiB."},
		replies: []reply{{status: 200, desc: "The key.", shape: auth.KeyInfo{}}},
		errs:    []int{400, 403, 404}},
	{method: "DELETE", path: "/api/v1/developer/api-keys/{key_id}", id: "delete_api_key", tag: "Internal: API Keys",
		summary: "Delete an API key", desc: "The SDK tokens it minted stop. The last admin key cannot be deleted (409).",
		access:  accessAdmin,
		replies: []reply{{status: 200, desc: "The key as it was.", shape: auth.KeyInfo{}}},
		errs:    []int{403, 404, 409}},
	{method: "POST", path: "/api/v1/developer/api-keys/{key_id}/rotate", id: "rotate_api_key", tag: "Internal: API Keys",
		summary: "Rotate an API key", desc: "A new key under the same id; the old key and the SDK tokens it minted stop.",
		access:  accessAdmin,
		replies: []reply{{status: 201, desc: "The key, with the new key set.", shape: keyView{}, headers: map[string]string{"Cache-Control": "no-store"}}},
		errs:    []int{403, 404}},

	// Internal: Applications
	{method: "GET", path: "/api/v1/applications", id: "list_applications", tag: "Internal: Applications",
		summary: "List applications", access: accessAdmin,
		replies: []reply{{status: 200, desc: "The applications, without secrets.", shape: []appView{}}},
		errs:    []int{403}},
	{method: "POST", path: "/api/v1/applications", id: "create_application", tag: "Internal: Applications",
		summary: "Create an application", desc: "The secret is shown once, in this answer.", access: accessAdmin,
		body:    &reqBody{shape: applicationCreate{}, required: true, desc: "At most 16 KiB."},
		replies: []reply{{status: 201, desc: "The application, with app_secret set.", shape: appView{}, headers: map[string]string{"Cache-Control": "no-store"}}},
		errs:    []int{400, 403}},
	{method: "DELETE", path: "/api/v1/applications/{app_id}", id: "delete_application", tag: "Internal: Applications",
		summary: "Delete an application", desc: "Every SDK and refresh token minted from it stops at once.", access: accessAdmin,
		replies: []reply{{status: 204, desc: "Deleted."}},
		errs:    []int{403, 404}},
	{method: "POST", path: "/api/v1/applications/{app_id}/rotate-secret", id: "rotate_application_secret", tag: "Internal: Applications",
		summary: "Rotate an application's secret", desc: "Every SDK and refresh token minted from it stops at once.", access: accessAdmin,
		replies: []reply{{status: 200, desc: "The application, with the new app_secret.", shape: appView{}}},
		errs:    []int{403, 404}},

	// Console
	{method: "GET", path: "/", id: "console_home", tag: "Console", summary: "To the console",
		desc: "A redirect to /console/.", access: accessNone, replies: []reply{{status: 302, desc: "To /console/."}}},
	{method: "GET", path: "/console", id: "console", tag: "Console", summary: "The console",
		desc: "The console's page: a shell that holds no data and draws everything from this API with the browser's session; " +
			"without one it shows the login form.", access: accessNone,
		replies: []reply{{status: 200, desc: "The page, under a strict Content-Security-Policy.", media: "text/html"}}},
	{method: "GET", path: "/console/{page}", id: "console_page", tag: "Console", summary: "A page of the console",
		desc: "users, connect, credentials, accounts, import, exports, audit or login: the same shell.", access: accessNone,
		replies: []reply{{status: 200, desc: "The page.", media: "text/html"}}, errs: []int{404}},
	{method: "GET", path: "/console/users/{user_id}", id: "console_user_page", tag: "Console", summary: "A user's page of the console",
		desc: "The same shell; the page reads the user's data with the session.", access: accessNone,
		replies: []reply{{status: 200, desc: "The page.", media: "text/html"}}},
	{method: "GET", path: "/setup", id: "console_setup_page", tag: "Console", summary: "The first admin's setup page",
		desc: "Opened from the setup link that the server logs (setup_url) while no account exists.", access: accessNone,
		replies: []reply{{status: 200, desc: "The page.", media: "text/html"}}},
	{method: "GET", path: "/console/assets/{name}", id: "console_asset", tag: "Console", summary: "A file of the console",
		desc:   "Scripts, styles and their licenses, embedded in the binary; gzipped when the browser takes it, revalidated by ETag.",
		access: accessNone, replies: []reply{{status: 200, desc: "The file.", media: "text/javascript"}}, errs: []int{404}},
	{method: "GET", path: "/api/v1/console/session", id: "console_session", tag: "Console", summary: "The current session",
		desc:   "Who is logged in, the role, and the CSRF token that changes must carry in X-CSRF-Token. Using the session keeps it alive.",
		access: accessSession, replies: []reply{{status: 200, desc: "The session.", shape: sessionView{}}}, errs: []int{401}},
	{method: "POST", path: "/api/v1/console/login", id: "console_login", tag: "Console", summary: "Log in",
		desc: "Starts a session and sets its cookie (wh_session: HttpOnly, SameSite=Strict, Secure under TLS). Past 10 wrong " +
			"passwords for an account, or 30 from an address, in 15 minutes, logins of that account or address get 429 until the " +
			"15 minutes have passed, right password or not.",
		access: accessLogin, body: &reqBody{shape: loginBody{}, required: true},
		replies: []reply{{status: 200, desc: "The session.", shape: sessionView{}}}, errs: []int{400, 401, 429, 503}},
	{method: "POST", path: "/api/v1/console/logout", id: "console_logout", tag: "Console", summary: "Log out",
		desc: "Ends the session and clears its cookie.", access: accessSession,
		replies: []reply{{status: 204, desc: "Logged out."}}, errs: []int{403}},
	{method: "GET", path: "/api/v1/console/setup", id: "console_setup_state", tag: "Console", summary: "Whether the first admin is still to be made",
		access: accessNone, replies: []reply{{status: 200, desc: "needed: no account exists yet.", shape: setupState{}}}},
	{method: "POST", path: "/api/v1/console/setup", id: "console_setup", tag: "Console", summary: "Make the first admin",
		desc:   "While no account exists: the token of the logged setup link (or an admin API key) makes the first admin account and logs it in.",
		access: accessLogin, body: &reqBody{shape: setupBody{}, required: true},
		replies: []reply{{status: 200, desc: "The new admin's session.", shape: sessionView{}}}, errs: []int{400, 403, 409, 429}},
	{method: "POST", path: "/api/v1/console/password", id: "console_change_password", tag: "Console", summary: "Change my password",
		desc: "With the current password. Every session of the account ends, this one too: log in again.", access: accessSession,
		body: &reqBody{shape: passwordBody{}, required: true}, replies: []reply{{status: 204, desc: "Changed."}}, errs: []int{400, 401, 403, 429}},
	{method: "GET", path: "/api/v1/console/accounts", id: "console_list_accounts", tag: "Console", summary: "List the accounts",
		access: accessAdmin, replies: []reply{{status: 200, desc: "The accounts, by e-mail address.", shape: accountList{}}}, errs: []int{403}},
	{method: "POST", path: "/api/v1/console/accounts", id: "console_create_account", tag: "Console", summary: "Make an account",
		desc: "Role admin or viewer (the default); a password of at least 10 characters.", access: accessAdmin, body: &reqBody{shape: accountBody{}, required: true},
		replies: []reply{{status: 201, desc: "The account.", shape: auth.Account{}}}, errs: []int{400, 403, 409}},
	{method: "DELETE", path: "/api/v1/console/accounts/{email}", id: "console_delete_account", tag: "Console", summary: "Delete an account",
		desc: "Its sessions end. Not the last admin, nor the account of the session asking (409).", access: accessAdmin,
		replies: []reply{{status: 204, desc: "Deleted."}}, errs: []int{403, 404, 409}},
	{method: "GET", path: "/api/v1/console/overview", id: "console_overview", tag: "Console", summary: "The server at a glance",
		desc: "Users, phones (user and provider) that synced in the last 24 hours, records per second accepted and indexed over the " +
			"last 10 seconds, the compactor's lag, the disk, and the last failed sync runs.",
		access: accessRead, replies: []reply{{status: 200, desc: "The figures.", shape: overviewView{}}}, errs: []int{403}},

	// Audit
	{method: "GET", path: "/api/v1/audit", id: "audit_list", tag: "System", summary: "The audit trail",
		desc: "Every access to health data and every credential, account and session change, and every refused request: " +
			"time (UTC, ms), who (key id, SDK token's app and user, or account), on whose data, the route and its ids and time window, " +
			"the status and outcome, the client address, user agent and request id; never a health value or a secret. Newest first; " +
			"each record carries its sequence number and the hash chain (`wearhouse audit verify` checks it).",
		access: accessAdmin,
		params: []param{queryParam("user_id", "Records about this user.", str()), queryParam("actor", "The actor's id, or kind:id (key:key_…, account:…, sdk:…).", str()),
			queryParam("action", "read, export, backup, sync, import, write, delete, erase, credential, session or audit.", str()),
			queryParam("since", "From this date or time (inclusive).", str()), queryParam("until", "Before this date or time.", str()),
			queryParam("cursor", "The next_cursor of the previous page.", str()), limit(100, 1000)},
		replies: []reply{{status: 200, desc: "A page of records.", shape: auditPage{}}},
		errs:    []int{400, 403}},
	{method: "GET", path: "/api/v1/audit.jsonl", id: "audit_export", tag: "System", summary: "The audit trail as JSON lines",
		desc: "The records that match, oldest first, one JSON object a line, streamed; the filters of GET /audit.", access: accessAdmin,
		params:  []param{queryParam("user_id", "Records about this user.", str()), queryParam("actor", "The actor.", str()), queryParam("action", "The action.", str()), queryParam("since", "From.", str()), queryParam("until", "Before.", str())},
		replies: []reply{{status: 200, desc: "JSON lines.", media: "application/x-ndjson"}}, errs: []int{400, 403}},
	{method: "GET", path: "/api/v1/audit/fhir", id: "audit_export_fhir", tag: "System", summary: "The audit trail as FHIR AuditEvent",
		desc: "The same records as FHIR R4 AuditEvent resources in IHE BALP's shape, NDJSON.", access: accessAdmin,
		params:  []param{queryParam("user_id", "Records about this user.", str()), queryParam("actor", "The actor.", str()), queryParam("action", "The action.", str()), queryParam("since", "From.", str()), queryParam("until", "Before.", str())},
		replies: []reply{{status: 200, desc: "NDJSON of AuditEvent.", media: "application/fhir+ndjson"}}, errs: []int{400, 403}},

	// System
	{method: "GET", path: "/healthz", id: "healthz", tag: "System", summary: "Alive", access: accessNone,
		replies: []reply{{status: 200, desc: "The process answers.", shape: healthStatus{}}}},
	{method: "GET", path: "/readyz", id: "readyz", tag: "System", summary: "Ready to take batches",
		desc:    "503 when free disk space is below the reserve, the store is stalled, or the compactor is stopped or retrying after a store error.",
		access:  accessNone,
		replies: []reply{{status: 200, desc: "Ready, with the compactor's progress.", shape: readiness{}}},
		errs:    []int{503}},
	{method: "GET", path: "/metrics", id: "metrics", tag: "System", summary: "Prometheus metrics",
		desc: "Requests are labelled by route pattern, never by path.", access: accessNone,
		replies: []reply{{status: 200, desc: "The Prometheus text format.", media: "text/plain"}}},
	{method: "GET", path: "/api/v1/admin/backup", id: "backup", tag: "System", summary: "Download a backup",
		desc: "A consistent checkpoint of the running store, with the admin key file, streamed as a tar archive whose last entry, " +
			"backup.json, lists every file with its size and SHA-256 (an archive without it was cut off); `wearhouse backup <dir>` " +
			"writes it where it runs. It holds everything acknowledged before the request. The checkpoint is made in a temporary " +
			"directory inside the data directory (tables are hard-linked, the WAL and MANIFEST copied) and removed once sent or " +
			"when the client goes away. One backup at a time. HEAD answers the store id alone.",
		access: accessAdmin,
		replies: []reply{{status: 200, desc: "The archive.", media: "application/x-tar", headers: map[string]string{
			"X-Wearhouse-Store-Id":     "The id of the store: random, made with it, kept by its backups and restores.",
			"X-Wearhouse-Backup-Files": "The number of files in the archive, its manifest aside.",
			"X-Wearhouse-Backup-Bytes": "The bytes of those files.",
		}}},
		errs: []int{403, 503, 507}},
	{method: "GET", path: "/openapi.json", id: "openapi", tag: "System", summary: "This OpenAPI 3.1 document", access: accessNone,
		replies: []reply{{status: 200, desc: "The document.", shape: map[string]any{}}}},
	{method: "GET", path: "/docs", id: "docs", tag: "System", summary: "This document, for people", access: accessNone,
		replies: []reply{{status: 200, desc: "A page that renders /openapi.json; it loads nothing else.", media: "text/html"}}},
}
