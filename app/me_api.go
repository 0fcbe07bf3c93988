package app

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
)

// profile is the public shape of a user: what GET /api/me returns. It is a
// separate type so that nothing private (the password hash) can leak by a
// field being added to identity.User.
type profile struct {
	Sub                 string            `json:"sub"`
	Email               string            `json:"email"`
	EmailVerified       bool              `json:"email_verified"`
	PendingEmail        string            `json:"pending_email,omitempty"`
	PhoneNumber         string            `json:"phone_number,omitempty"`
	PhoneNumberVerified bool              `json:"phone_number_verified"`
	Status              identity.Status   `json:"status"`
	Attributes          map[string]string `json:"attributes"`
	Groups              []string          `json:"groups"`
	CreatedAt           time.Time         `json:"created_at"`
	UpdatedAt           time.Time         `json:"updated_at"`
}

func newProfile(u *identity.User) profile {
	p := profile{
		Sub: u.Sub, Email: u.Email, EmailVerified: u.EmailVerified, PendingEmail: u.PendingEmail,
		PhoneNumber: u.PhoneNumber, PhoneNumberVerified: u.PhoneNumberVerified, Status: u.Status,
		Attributes: u.Attributes, Groups: u.Groups, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
	if p.Attributes == nil {
		p.Attributes = map[string]string{}
	}
	if p.Groups == nil {
		p.Groups = []string{}
	}
	return p
}

func (s *server) handleGetMe(c echo.Context) error {
	u, err := s.ids.Me(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newProfile(u))
}

func (s *server) handlePatchMe(c echo.Context) error {
	var p identity.UpdateProfileParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	u, err := s.ids.UpdateProfile(c.Request().Context(), principal(c), p, requestMeta(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newProfile(u))
}

type codeParams struct {
	Code string `json:"code"`
}

func (s *server) handleConfirmEmailChange(c echo.Context) error {
	var p codeParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if err := s.ids.ConfirmEmailChange(c.Request().Context(), principal(c), p.Code, requestMeta(c)); err != nil {
		return err
	}
	return s.handleGetMe(c)
}

// sessionView is one active session as the account owner sees it.
type sessionView struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (s *server) handleListSessions(c echo.Context) error {
	p := principal(c)
	list, err := s.ids.Sessions(c.Request().Context(), p)
	if err != nil {
		return err
	}
	out := make([]sessionView, 0, len(list))
	for _, sess := range list {
		out = append(out, sessionView{ID: sess.ID, Current: sess.ID == p.SessionID, IP: sess.IP, UserAgent: sess.UserAgent,
			CreatedAt: sess.CreatedAt, LastUsedAt: sess.LastUsedAt, ExpiresAt: sess.ExpiresAt})
	}
	return c.JSON(http.StatusOK, map[string]any{"sessions": out})
}

func (s *server) handleRevokeSession(c echo.Context) error {
	if err := s.ids.RevokeSession(c.Request().Context(), principal(c), c.Param("id"), requestMeta(c)); err != nil {
		return err
	}
	s.forgetCredentials(c.Param("id"))
	return c.NoContent(http.StatusNoContent)
}

// eventView is one audit event as the account owner sees it.
type eventView struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	Outcome   string    `json:"outcome"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Detail    string    `json:"detail,omitempty"`
}

func (s *server) handleActivity(c echo.Context) error {
	events, err := s.ids.Activity(c.Request().Context(), principal(c), 50)
	if err != nil {
		return err
	}
	out := make([]eventView, 0, len(events))
	for _, e := range events {
		out = append(out, eventView{At: e.At, Kind: string(e.Kind), Outcome: e.Outcome, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail})
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out})
}
