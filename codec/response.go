package codec

import (
	"unicode/utf8"

	"github.com/bytedance/sonic"
)

// Accepted counts the items of a batch that passed validation.
type Accepted struct {
	Records  int `json:"records"`
	Sleep    int `json:"sleep"`
	Workouts int `json:"workouts"`
}

// UploadDataResponse is Open Wearables' answer to the SDK routes.
type UploadDataResponse struct {
	StatusCode    int    `json:"status_code"`
	Response      string `json:"response"`
	UserID        string `json:"user_id"`
	DroppedCount  int    `json:"dropped_count"`
	RecordsSaved  int    `json:"records_saved"`
	WorkoutsSaved int    `json:"workouts_saved"`
	SleepSaved    int    `json:"sleep_saved"`
}

// SyncResponse is the 202 answer to a sync: every field of Open Wearables'
// UploadDataResponse, and what a client can act on.
type SyncResponse struct {
	UploadDataResponse
	BatchID   string      `json:"batch_id"`
	Accepted  Accepted    `json:"accepted"`
	Duplicate bool        `json:"duplicate"`
	Errors    []ItemError `json:"errors"`
	Warnings  []ItemError `json:"warnings"`
}

// NewSyncResponse builds the 202 answer for a validated batch.
func NewSyncResponse(userID, batchID string, b *Batch) *SyncResponse {
	r := &SyncResponse{
		UploadDataResponse: UploadDataResponse{
			StatusCode:   202,
			Response:     "Import task queued successfully",
			UserID:       userID,
			DroppedCount: b.Dropped,
		},
		BatchID:  batchID,
		Accepted: Accepted{Records: len(b.Records), Sleep: len(b.Sleep), Workouts: len(b.Workouts)},
		Errors:   b.Errors,
		Warnings: b.Warnings,
	}
	if r.Errors == nil {
		r.Errors = []ItemError{}
	}
	if r.Warnings == nil {
		r.Warnings = []ItemError{}
	}
	return r
}

// TokenResponse is the answer of the token routes.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// TokenRequest is the optional body of POST /users/{id}/token.
type TokenRequest struct {
	AppID     string `json:"app_id"`
	AppSecret string `json:"app_secret"`
}

// UserCreate is the body of POST /users.
type UserCreate struct {
	ExternalUserID *string `json:"external_user_id"`
	FirstName      *string `json:"first_name"`
	LastName       *string `json:"last_name"`
	Email          *string `json:"email"`
}

// answerJSON encodes answers; map keys are sorted, so that the same data
// always gives the same bytes.
var answerJSON = sonic.Config{SortMapKeys: true}.Froze()

// Marshal encodes a response value as JSON.
func Marshal(v any) ([]byte, error) { return answerJSON.Marshal(v) }

// Unmarshal decodes a small JSON request body into v after checking that it
// is valid UTF-8. A failed decode leaves v unspecified: discard it.
func Unmarshal(body []byte, v any) error {
	if !utf8.Valid(body) {
		return invalidf("Request body is not valid UTF-8 (byte offset %d).", invalidUTF8Offset(body))
	}
	if err := sonic.Unmarshal(body, v); err != nil {
		return invalidf("Request body is not valid JSON for this route.")
	}
	return nil
}

// Detail is the error body of every route: {"detail": "..."}.
func Detail(msg string) []byte {
	b, err := sonic.Marshal(struct {
		Detail string `json:"detail"`
	}{msg})
	if err != nil {
		return []byte(`{"detail":"internal error"}`)
	}
	return b
}

// JITEnabled reports whether sonic runs its JIT (amd64, arm64) rather than
// its encoding/json fallback.
func JITEnabled() bool { return sonic.APIKind == sonic.UseSonicJSON }

// MarkDuplicate takes a stored 202 answer and returns it with
// "duplicate": true, for a byte-identical replay.
func MarkDuplicate(stored []byte) ([]byte, error) {
	var r SyncResponse
	if err := sonic.Unmarshal(stored, &r); err != nil {
		return nil, err
	}
	r.Duplicate = true
	if r.Errors == nil {
		r.Errors = []ItemError{}
	}
	if r.Warnings == nil {
		r.Warnings = []ItemError{}
	}
	return sonic.Marshal(&r)
}
