package httpapi

import (
	"bytes"
	"strconv"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/query"
)

// userRoutes are the user, data source and connection routes, and the
// deletion of single events. Reads go to query and writes to ingest, both
// by the user's external id.
func (s *Server) userRoutes() []route {
	return []route{
		h("POST", "/api/v1/users", s.createUser),
		h("GET", "/api/v1/users", s.listUsers),
		h("GET", "/api/v1/users/{user_id}", s.getUser),
		h("PATCH", "/api/v1/users/{user_id}", s.patchUser),
		h("DELETE", "/api/v1/users/{user_id}", s.deleteUser),
		h("GET", "/api/v1/users/{user_id}/data-sources", s.dataSources),
		h("GET", "/api/v1/users/{user_id}/connections", s.connections),
		h("DELETE", "/api/v1/users/{user_id}/connections/{provider}", func(ctx *fasthttp.RequestCtx, a []string) error { return s.deleteConnection(ctx, a, false) }),
		h("DELETE", "/api/v1/users/{user_id}/connections/{provider}/data", func(ctx *fasthttp.RequestCtx, a []string) error { return s.deleteConnection(ctx, a, true) }),
		h("DELETE", "/api/v1/users/{user_id}/events/workouts/{workout_id}", s.deleteWorkout),
		h("DELETE", "/api/v1/users/{user_id}/events/sleep/{sleep_id}", s.deleteSleep),
	}
}

// sendJSON answers with v encoded as JSON.
func userNotFound(err error, id string) error {
	return notFoundAs(err, "User with ID: "+id+" not found.")
}

// createUser is POST /users: a new user with a random UUID, answered as
// GET /users/{id} answers it. An email that another user has is 409, as in
// Open Wearables.
func (s *Server) createUser(ctx *fasthttp.RequestCtx, _ []string) error {
	p, err := s.sdkPrincipal(ctx)
	if err != nil {
		return err
	}
	if p.Kind == auth.KindSession && p.Scope == auth.ScopeRead {
		return forbidden("This account has the read scope and may not change data.")
	}
	if p.Kind == auth.KindSDKToken || p.Scope == auth.ScopeRead {
		return forbidden("Creating users needs an API key with the admin or write scope.")
	}
	var in codec.UserCreate
	if err := s.jsonBody(ctx, &in); err != nil {
		return err
	}
	if err := validProfile(&in); err != nil {
		return err
	}
	id, err := s.deps.Ingest.CreateUser(&in)
	if err != nil {
		return err
	}
	v, err := s.deps.Query.User(id)
	if err != nil {
		return userNotFound(err, id) // deleted meanwhile
	}
	return writeValue(ctx, fasthttp.StatusCreated, v)
}

func (s *Server) listUsers(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	p := query.UserParams{Page: 1, SortBy: arg(ctx, "sort_by"), SortOrder: arg(ctx, "sort_order"),
		Search: arg(ctx, "search"), Email: arg(ctx, "email"), ExternalUserID: arg(ctx, "external_user_id")}
	if v := arg(ctx, "page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return invalid("page must be an integer of at least 1.")
		}
		p.Page = n
	}
	var err error
	if p.Limit, err = intParam(ctx, "limit", 20, 1, 100); err != nil {
		return err
	}
	if p.SortBy == "" {
		p.SortBy = "created_at"
	}
	valid := false
	for _, k := range query.SortKeys {
		valid = valid || k == p.SortBy
	}
	if !valid {
		return invalid("sort_by must be one of created_at, email, first_name, last_name, last_synced_at.")
	}
	if p.SortOrder == "" {
		p.SortOrder = "desc"
	}
	if p.SortOrder != "asc" && p.SortOrder != "desc" {
		return invalid("sort_order must be asc or desc.")
	}
	page, err := s.deps.Query.Users(p)
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, page)
}

func (s *Server) getUser(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	v, err := s.deps.Query.User(a[0])
	if err != nil {
		return userNotFound(err, a[0])
	}
	return writeValue(ctx, fasthttp.StatusOK, v)
}

// patchUser changes the fields of a user's profile that the body sets;
// fields sent as null (or not sent) are left as they are. An email that
// another user has is 409, as on POST /users.
func (s *Server) patchUser(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	var in codec.UserCreate
	if err := s.jsonBody(ctx, &in); err != nil {
		return err
	}
	if err := validProfile(&in); err != nil {
		return err
	}
	if err := s.deps.Ingest.UpdateProfile(a[0], &in); err != nil {
		return userNotFound(err, a[0])
	}
	v, err := s.deps.Query.User(a[0])
	if err != nil {
		return userNotFound(err, a[0]) // deleted meanwhile
	}
	return writeValue(ctx, fasthttp.StatusOK, v)
}

// validProfile applies Open Wearables' limits to a user body.
func validProfile(in *codec.UserCreate) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"first_name", in.FirstName}, {"last_name", in.LastName}} {
		if f.v != nil && len(*f.v) > 100 {
			return invalid(f.name + " must be at most 100 characters.")
		}
	}
	if in.Email != nil {
		at := bytes.IndexByte([]byte(*in.Email), '@')
		if at < 1 || at == len(*in.Email)-1 || len(*in.Email) > 254 {
			return invalid("email is not a valid email address.")
		}
	}
	return nil
}

// deleteUser erases the user and all of their data, and answers the user
// as it was. Once it has answered, nothing of the user acknowledged before
// is left, and the user's SDK and refresh tokens are dead: a sync with one
// is 401 and does not create the user again. An erasure that cannot start
// or finish within the write path's deadline is 503; it then goes on.
func (s *Server) deleteUser(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	id := a[0]
	if !validUserID(id) {
		return errBadUserID
	}
	// The answer is read under the erasure's lock: it is the user erased.
	var v query.UserRead
	err := s.deps.Ingest.DeleteUser(id, func() (err error) {
		v, err = s.deps.Query.User(id)
		return err
	})
	if err != nil {
		return userNotFound(err, id)
	}
	s.log.Info().Str("event", "user.deleted").Str("user_id", id).Msg("user and all of their data erased")
	return writeValue(ctx, fasthttp.StatusOK, v)
}

func (s *Server) dataSources(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	out, err := s.deps.Query.DataSources(a[0])
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, out)
}

func (s *Server) connections(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	out, err := s.deps.Query.Connections(a[0])
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, out)
}

// deleteConnection revokes a user's connection to a provider and, with
// data, erases that provider's data. A later sync makes it active again.
//
// Without data it is also the sign-out of the iOS SDK, which sends it
// with its own SDK token and then throws its tokens away: a token of the
// path's user may revoke the user's connection (403 for another user's),
// and the refresh tokens of its sign-in are revoked with it (auth.SignOut),
// so that nothing it threw away stays alive. A token never erases data.
// API keys (admin, write) are answered as before.
func (s *Server) deleteConnection(ctx *fasthttp.RequestCtx, a []string, data bool) error {
	p, err := s.revoker(ctx, a[0], data)
	if err != nil {
		return err
	}
	provider := a[1]
	if err := s.deps.Ingest.RevokeConnection(a[0], provider, data, grant(p)); err != nil {
		return notFoundAs(err, "Connection with ID: "+a[0]+" not found.")
	}
	signedOut, err := s.deps.Auth.SignOut(p)
	if err != nil {
		return err
	}
	s.log.Info().Str("event", "connection.revoked").Str("user_id", a[0]).Str("provider", provider).Bool("data_erased", data).
		Bool("sdk_token", p.Kind == auth.KindSDKToken).Int("refresh_tokens_revoked", signedOut).Msg("connection revoked")
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// revoker is the credential check of deleteConnection: an API key of the
// admin or write scope, or, without data, an SDK token of the path's user;
// a valid token wins over a key, as on the SDK routes.
func (s *Server) revoker(ctx *fasthttp.RequestCtx, userID string, data bool) (*auth.Principal, error) {
	if data {
		p, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeWrite)
		if err == nil && !validUserID(userID) {
			err = errBadUserID
		}
		return p, err
	}
	p, err := s.sdkPrincipal(ctx)
	if err != nil {
		return nil, err
	}
	if !validUserID(userID) {
		return nil, errBadUserID
	}
	switch {
	case p.Kind == auth.KindSDKToken && !auth.SameUser(p.UserID, userID):
		return nil, forbidden("Token does not match user_id")
	case p.Kind != auth.KindSDKToken && p.Scope == auth.ScopeRead:
		return nil, forbidden(credName(p) + " has the read scope and may not change data.")
	}
	return p, nil
}

func (s *Server) deleteWorkout(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeWrite); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	if err := s.deps.Ingest.DeleteWorkout(a[0], a[1]); err != nil {
		return notFoundAs(err, "Workout not found")
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// deleteSleep erases the stages of a session. The id names the provider and
// the session's window; a session that grew since it was listed is erased
// for the part of it in that window.
func (s *Server) deleteSleep(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeWrite); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	if err := s.deps.Ingest.DeleteSleep(a[0], a[1]); err != nil {
		return notFoundAs(err, "Sleep session not found")
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}
