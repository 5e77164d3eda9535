package httpapi

import (
	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
)

// invitationRoutes pair a phone with a user, as Open Wearables' do: an
// admin or write key creates a code for the user, the person types it into
// the app, and the app redeems it, with no other credential, for an SDK
// token and a refresh token (auth/invitations.go).
func (s *Server) invitationRoutes() []route {
	return []route{
		h("POST", "/api/v1/users/{user_id}/invitation-code", s.createInvitation),
		h("POST", "/api/v1/invitation-code/redeem", s.redeemInvitation),
	}
}

// createInvitation answers 201 with a new code for the user, which revokes
// the user's earlier codes. A user that does not exist yet is created, as
// its first sync would create it (404 when the server does not create
// users), so that pairing can be the first step.
func (s *Server) createInvitation(ctx *fasthttp.RequestCtx, a []string) error {
	p, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeWrite)
	if err != nil {
		return err
	}
	userID := a[0]
	if !validUserID(userID) {
		return errBadUserID
	}
	var inv *auth.Invitation
	err = s.deps.Ingest.EnsureUser(userID, func() (err error) {
		inv, err = s.deps.Auth.CreateInvitation(userID, p.KeyID)
		return err
	})
	if err != nil {
		return userNotFound(err, userID)
	}
	return created(ctx, inv)
}

// redeemed is the answer of a redemption: the tokens and their user.
type redeemed struct {
	codec.TokenResponse
	UserID string `json:"user_id"`
}

const errCodeBody = `Body must be {"code": "..."}: the 8 letters and digits of an invitation code.`

// redeemInvitation exchanges a code for tokens. A code that is not valid
// is 404, as in Open Wearables; a wrong one counts as a bad credential of
// the address, and past the address's limit or the cap of all addresses it
// is 429 (auth.ThrottledError).
func (s *Server) redeemInvitation(ctx *fasthttp.RequestCtx, _ []string) error {
	body, err := s.credentialBody(ctx)
	if err != nil {
		return err
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := codec.Unmarshal(body, &in); err != nil {
		return invalid(errCodeBody)
	}
	code, ok := auth.ParseInvitationCode(in.Code)
	if !ok {
		return invalid(errCodeBody)
	}
	pair, userID, err := s.deps.Auth.RedeemInvitation(code, s.clientAddr(ctx))
	if err != nil {
		return err
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	return writeValue(ctx, fasthttp.StatusOK, redeemed{
		TokenResponse: codec.TokenResponse{AccessToken: pair.AccessToken, TokenType: "bearer",
			RefreshToken: pair.RefreshToken, ExpiresIn: pair.ExpiresIn},
		UserID: userID,
	})
}
