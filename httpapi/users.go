package httpapi

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/pebblestore"
	"wearhouse/query"
)

// userRoutes are the user, data source and connection routes, and the
// deletion of single events.
func (s *Server) userRoutes() []route {
	return []route{
		r("GET", "/api/v1/users", s.listUsers),
		r("GET", "/api/v1/users/{user_id}", s.getUser),
		r("PATCH", "/api/v1/users/{user_id}", s.patchUser),
		r("DELETE", "/api/v1/users/{user_id}", s.deleteUser),
		r("GET", "/api/v1/users/{user_id}/data-sources", s.dataSources),
		r("GET", "/api/v1/users/{user_id}/connections", s.connections),
		r("DELETE", "/api/v1/users/{user_id}/connections/{provider}", func(ctx *fasthttp.RequestCtx, a []string) { s.deleteConnection(ctx, a, false) }),
		r("DELETE", "/api/v1/users/{user_id}/connections/{provider}/data", func(ctx *fasthttp.RequestCtx, a []string) { s.deleteConnection(ctx, a, true) }),
		r("DELETE", "/api/v1/users/{user_id}/events/workouts/{workout_id}", s.deleteWorkout),
		r("DELETE", "/api/v1/users/{user_id}/events/sleep/{sleep_id}", s.deleteSleep),
	}
}

// writer requires an API key that may change data: admin or write scope.
func (s *Server) writer(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	p, err := s.adminOrScoped(ctx)
	if err != nil {
		return nil, err
	}
	if p.Scope == auth.ScopeRead {
		return nil, errStatus(fasthttp.StatusForbidden, "This API key has the read scope and may not change data.")
	}
	return p, nil
}

func (s *Server) adminOrScoped(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	key := ctx.Request.Header.Peek("X-Open-Wearables-API-Key")
	if key == nil {
		return nil, errStatus(fasthttp.StatusUnauthorized, "Authentication required: provide JWT token or API key")
	}
	p, err := s.deps.Auth.APIKey(string(key))
	if errors.Is(err, auth.ErrInvalidAPIKey) {
		return nil, errStatus(fasthttp.StatusUnauthorized, "Invalid or missing API key")
	}
	return p, err
}

func userNotFound(id string) error {
	return errStatus(fasthttp.StatusNotFound, "User with ID: "+id+" not found.")
}

// existingUser resolves a user that must exist (404 otherwise).
func (s *Server) existingUser(id string) (*pebblestore.User, error) {
	if !validUserID(id) {
		return nil, errBadUserID
	}
	u, err := s.deps.Store.User(id)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, userNotFound(id)
	}
	return u, err
}

func (s *Server) listUsers(ctx *fasthttp.RequestCtx, _ []string) {
	if _, err := s.reader(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	p := query.UserParams{Page: 1, SortBy: arg(ctx, "sort_by"), SortOrder: arg(ctx, "sort_order"),
		Search: arg(ctx, "search"), Email: arg(ctx, "email"), ExternalUserID: arg(ctx, "external_user_id")}
	if v := arg(ctx, "page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(ctx, errStatus(fasthttp.StatusBadRequest, "page must be an integer of at least 1."))
			return
		}
		p.Page = n
	}
	var err error
	if p.Limit, err = query.Limit(arg(ctx, "limit"), 20, 100); err != nil {
		s.writeError(ctx, err)
		return
	}
	if p.SortBy == "" {
		p.SortBy = "created_at"
	}
	valid := false
	for _, k := range query.SortKeys {
		valid = valid || k == p.SortBy
	}
	if !valid {
		s.writeError(ctx, errStatus(fasthttp.StatusBadRequest, "sort_by must be one of created_at, email, first_name, last_name, last_synced_at."))
		return
	}
	if p.SortOrder == "" {
		p.SortOrder = "desc"
	}
	if p.SortOrder != "asc" && p.SortOrder != "desc" {
		s.writeError(ctx, errStatus(fasthttp.StatusBadRequest, "sort_order must be asc or desc."))
		return
	}
	page, err := s.deps.Query.Users(p)
	s.answer(ctx, page, err)
}

func (s *Server) getUser(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.reader(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	u, err := s.existingUser(a[0])
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	v, err := s.deps.Query.UserView(u)
	s.answer(ctx, v, err)
}

func (s *Server) patchUser(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	u, err := s.existingUser(a[0])
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	var in codec.UserCreate
	if err := s.jsonBody(ctx, &in); err != nil {
		s.writeError(ctx, err)
		return
	}
	if err := validProfile(&in); err != nil {
		s.writeError(ctx, err)
		return
	}
	// Fields sent as null (or not sent) are left as they are.
	p := query.ParseProfile(u.Profile)
	for _, f := range []struct{ dst, src **string }{
		{&p.FirstName, &in.FirstName}, {&p.LastName, &in.LastName}, {&p.Email, &in.Email}, {&p.ExternalUserID, &in.ExternalUserID},
	} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	profile, err := codec.Marshal(p)
	if err == nil {
		err = s.deps.Ingest.PutUserProfile(u, profile)
	}
	if errors.Is(err, pebblestore.ErrNotFound) { // deleted meanwhile
		err = userNotFound(u.ID)
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	u.Profile = profile
	v, err := s.deps.Query.UserView(u)
	s.answer(ctx, v, err)
}

// validProfile applies Open Wearables' limits to a user body.
func validProfile(in *codec.UserCreate) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"first_name", in.FirstName}, {"last_name", in.LastName}} {
		if f.v != nil && len(*f.v) > 100 {
			return errStatus(fasthttp.StatusBadRequest, f.name+" must be at most 100 characters.")
		}
	}
	if in.Email != nil {
		at := bytes.IndexByte([]byte(*in.Email), '@')
		if at < 1 || at == len(*in.Email)-1 || len(*in.Email) > 254 {
			return errStatus(fasthttp.StatusBadRequest, "email is not a valid email address.")
		}
	}
	return nil
}

// deleteUser erases the user and all of their data, and answers the user
// as it was. Once it has answered, nothing of the user acknowledged before
// is left, and the user's SDK and refresh tokens are dead: a sync with one
// is 401 and does not create the user again.
func (s *Server) deleteUser(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	u, err := s.existingUser(a[0])
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	v, err := s.deps.Query.UserView(u)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	err = s.deps.Ingest.DeleteUser(u)
	if errors.Is(err, pebblestore.ErrNotFound) { // deleted meanwhile
		err = userNotFound(u.ID)
	}
	if err == nil {
		// Refresh tokens minted while the user was being erased.
		_, err = s.deps.Auth.RevokeUser(u)
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.log.Info().Str("event", "user.deleted").Str("user_id", u.ID).Msg("user and all of their data erased")
	s.answer(ctx, v, nil)
}

func (s *Server) dataSources(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	out := struct {
		Items []query.DataSourceView `json:"items"`
		Total int                    `json:"total"`
	}{Items: []query.DataSourceView{}}
	if known {
		items, err := s.deps.Query.DataSources(iid, a[0])
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		out.Items, out.Total = items, len(items)
	}
	s.answer(ctx, out, nil)
}

func (s *Server) connections(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	out := []query.ConnectionView{}
	if known {
		var err error
		if out, err = s.deps.Query.Connections(iid, a[0]); err != nil {
			s.writeError(ctx, err)
			return
		}
	}
	s.answer(ctx, out, nil)
}

// deleteConnection revokes a user's connection to a provider and, with
// data, erases that provider's data. A later sync makes it active again.
func (s *Server) deleteConnection(ctx *fasthttp.RequestCtx, a []string, data bool) {
	if _, err := s.writer(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	notFound := errStatus(fasthttp.StatusNotFound, "Connection with ID: "+a[0]+" not found.")
	u, err := s.existingUser(a[0])
	if err != nil {
		if errors.Is(err, errBadUserID) {
			s.writeError(ctx, err)
		} else {
			s.writeError(ctx, notFound)
		}
		return
	}
	provider := a[1]
	err = s.deps.Ingest.RevokeConnection(u, provider)
	if errors.Is(err, pebblestore.ErrNotFound) {
		s.writeError(ctx, notFound)
		return
	}
	if err == nil && data {
		err = s.deps.Store.DeleteProviderData(u.IID, provider)
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.log.Info().Str("event", "connection.revoked").Str("user_id", u.ID).Str("provider", provider).Bool("data_erased", data).Msg("connection revoked")
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (s *Server) deleteWorkout(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.writer(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	notFound := errStatus(fasthttp.StatusNotFound, "Workout not found")
	iid, known, err := s.readUser(a[0])
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ref, ok := query.ParseWorkoutID(a[1])
	if !known || !ok {
		s.writeError(ctx, notFound)
		return
	}
	if err := s.deps.Store.DeleteWorkout(iid, ref); errors.Is(err, pebblestore.ErrNotFound) {
		s.writeError(ctx, notFound)
		return
	} else if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// deleteSleep erases the stages of a session. The id names the provider and
// the session's window; a session that grew since it was listed is erased
// for the part of it in that window.
func (s *Server) deleteSleep(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.writer(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	notFound := errStatus(fasthttp.StatusNotFound, "Sleep session not found")
	iid, known, err := s.readUser(a[0])
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	prov, start, end, ok := query.ParseSessionID(a[1])
	if !known || !ok {
		s.writeError(ctx, notFound)
		return
	}
	n, err := s.deps.Store.DeleteSleepStages(iid, prov, start, end)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if n == 0 {
		s.writeError(ctx, notFound)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}
