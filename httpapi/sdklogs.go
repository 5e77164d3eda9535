package httpapi

import (
	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/query"
)

// maxSDKLogBody bounds an SDK log request after decompression. 100 events
// with a few hundred data type counts fit many times over; the route keeps
// the last 1,000 events per user, and this keeps that bounded too.
const maxSDKLogBody = 1 << 20

func (s *Server) sdkLogRoutes() []route {
	return []route{
		h("POST", "/api/v1/sdk/users/{user_id}/logs", s.postSDKLogs),
		h("GET", "/api/v1/users/{user_id}/sdk-logs", s.getSDKLogs),
	}
}

// postSDKLogs is POST /sdk/users/{id}/logs: the SDKs' telemetry, validated
// as Open Wearables does, stored with a synced write and answered 202.
func (s *Server) postSDKLogs(ctx *fasthttp.RequestCtx, a []string) error {
	userID := a[0]
	p, err := s.sdkWriter(ctx, userID)
	if err != nil {
		return err
	}
	// As a sync: a place in the write path first, then the body, counted
	// as it is read.
	adm, err := s.deps.Ingest.Admit(0)
	if err != nil {
		return err
	}
	body, err := s.readBody(ctx, min(maxSDKLogBody, s.opts.MaxBody), adm.Grow)
	if err != nil {
		adm.Release()
		return err
	}
	batch, err := codec.DecodeSDKLogs(body)
	if err != nil {
		adm.Release()
		return err
	}
	if err := s.deps.Ingest.AppendSDKLogs(userID, grant(p), adm, batch); err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusAccepted, codec.NewSDKLogResponse(userID))
}

// sdkWriter applies the credential rules of the SDK write routes, the same
// as the sync route's: an SDK token writes only for its own user, a
// read-scoped API key not at all; then the user id must be valid.
func (s *Server) sdkWriter(ctx *fasthttp.RequestCtx, userID string) (*auth.Principal, error) {
	p, err := s.sdkPrincipal(ctx)
	if err != nil {
		return nil, err
	}
	if !validUserID(userID) {
		return nil, errBadUserID
	}
	switch p.Kind {
	case auth.KindSDKToken:
		if !auth.SameUser(p.UserID, userID) {
			return nil, forbidden("Token does not match user_id")
		}
	default:
		if p.Scope == auth.ScopeRead {
			return nil, forbidden(credName(p) + " has the read scope and may not write data.")
		}
	}
	return p, nil
}

// getSDKLogs is GET /users/{id}/sdk-logs: the user's stored SDK log events,
// newest first; limit 1 to 1,000, default 100. An unknown user is 404.
func (s *Server) getSDKLogs(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	limit, err := intParam(ctx, "limit", 100, 1, query.SDKLogsKept)
	if err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	logs, err := s.deps.Query.SDKLogs(a[0], limit)
	if err != nil {
		return syncUserNotFound(err)
	}
	out := make([]codec.SDKLogEntry, len(logs))
	for i := range logs {
		l := &logs[i]
		out[i] = codec.NewSDKLogEntry(l.Received, l.SDKVersion, l.Provider, l.SessionID, l.Type, l.Timestamp, l.Event)
	}
	return writeValue(ctx, fasthttp.StatusOK, out)
}
