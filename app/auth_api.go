package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
)

// The user pool's JSON API (SPEC §2). Each handler decodes its own params,
// calls one identity.Service method and shapes the answer; every rule lives
// in the identity package.

// acceptedBody is the answer of flows that must not reveal whether an
// account exists: the same words for every address.
type acceptedBody struct {
	Message string `json:"message"`
}

func (s *server) handleSignUp(c echo.Context) error {
	var p identity.SignUpParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if err := s.ids.SignUp(c.Request().Context(), p, requestMeta(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, acceptedBody{
		Message: "Check your email: we sent a 6-digit code and a link to confirm your address.",
	})
}

type confirmParams struct {
	Email string `json:"email"`
	Code  string `json:"code"`
}

func (s *server) handleConfirm(c echo.Context) error {
	var p confirmParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if err := s.ids.ConfirmSignUp(c.Request().Context(), p.Email, p.Code, requestMeta(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, acceptedBody{Message: "Your email address is confirmed. You can sign in now."})
}

type emailParams struct {
	Email string `json:"email"`
}

func (s *server) handleResend(c echo.Context) error {
	var p emailParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if err := s.ids.ResendConfirmation(c.Request().Context(), p.Email, requestMeta(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, acceptedBody{
		Message: "If that address has an account waiting for confirmation, a new code is on its way.",
	})
}

type signInParams struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *server) handleSignIn(c echo.Context) error {
	var p signInParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	res, err := s.ids.SignIn(c.Request().Context(), p.Email, p.Password, requestMeta(c))
	if err != nil {
		return err
	}
	if res.Challenge != nil {
		return c.JSON(http.StatusOK, res.Challenge)
	}
	return c.JSON(http.StatusOK, res.Tokens)
}

type refreshParams struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *server) handleRefresh(c echo.Context) error {
	var p refreshParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	tokens, err := s.ids.Refresh(c.Request().Context(), p.RefreshToken, requestMeta(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tokens)
}

// handleSignOut ends the caller's session, named by the access token (Bearer
// or cookie) or, for a client whose access token already expired, by a
// refresh token in the body, as OAuth token revocation (RFC 7009) allows.
func (s *server) handleSignOut(c echo.Context) error {
	ctx := c.Request().Context()
	if c.Request().ContentLength != 0 {
		var p refreshParams
		if err := decodeJSON(c, &p); err != nil {
			return err
		}
		if p.RefreshToken != "" {
			if err := s.ids.SignOutRefreshToken(ctx, p.RefreshToken, requestMeta(c)); err != nil {
				return err
			}
			s.clearSessionCookies(c)
			return c.NoContent(http.StatusNoContent)
		}
	}
	p, err := s.authenticate(c)
	if err != nil {
		return err
	}
	if err := s.ids.SignOut(ctx, p, requestMeta(c)); err != nil {
		return err
	}
	s.forgetCredentials(p.SessionID)
	s.clearSessionCookies(c)
	return c.NoContent(http.StatusNoContent)
}

func (s *server) handleGlobalSignOut(c echo.Context) error {
	if err := s.signOutEverywhere(c); err != nil {
		return err
	}
	s.clearSessionCookies(c)
	return c.NoContent(http.StatusNoContent)
}

func (s *server) handleForgot(c echo.Context) error {
	var p emailParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if err := s.ids.ForgotPassword(c.Request().Context(), p.Email, requestMeta(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, acceptedBody{
		Message: "If that address has an account, we sent it a code and a link to reset the password.",
	})
}

func (s *server) handleReset(c echo.Context) error {
	var p identity.ResetParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if err := s.ids.ResetPassword(c.Request().Context(), p, requestMeta(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, acceptedBody{Message: "Your password is reset and every session was signed out. Sign in with the new password."})
}

func (s *server) handleChangePassword(c echo.Context) error {
	var p identity.ChangePasswordParams
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if err := s.ids.ChangePassword(c.Request().Context(), principal(c), p, requestMeta(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, acceptedBody{Message: "Your password is changed. Your other sessions were signed out."})
}
