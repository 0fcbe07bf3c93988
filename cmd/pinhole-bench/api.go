package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/pinhole/pinhole/internal/devstack"
)

// doer sends HTTP requests; *agent and *http.Client both are.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// apiClient calls one Pinhole server's JSON API.
type apiClient struct{ base string }

// reply is one answer from the API.
type reply struct {
	Status int
	// Code is the stable error code of an error answer ("busy",
	// "invalid_credentials"...), empty otherwise.
	Code string
	Body []byte
	// Latency runs from sending the request to reading the whole body: what
	// a client waits.
	Latency time.Duration
}

// call sends one request (body as JSON unless nil, bearer as the access
// token unless empty) and reads the whole answer. A transport error, such
// as a client timeout, is returned as an error; any HTTP answer is a reply.
func (a *apiClient) call(ctx context.Context, h doer, method, path string, body any, bearer string) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	start := time.Now()
	resp, err := h.Do(req)
	if err != nil {
		return reply{}, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := reply{Status: resp.StatusCode, Body: raw, Latency: time.Since(start)}
	if err != nil {
		return r, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if r.Status >= 400 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil {
			r.Code = e.Error
		}
	}
	return r, nil
}

// expect returns an error unless r has the wanted status.
func (r reply) expect(what string, status int) error {
	if r.Status != status {
		return fmt.Errorf("%s: got %d %s, want %d", what, r.Status, truncateBody(r.Body), status)
	}
	return nil
}

func truncateBody(b []byte) string {
	const max = 300
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// tokenSet is the answer of sign-in and refresh.
type tokenSet struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// signIn signs u in and returns the tokens.
func (a *apiClient) signIn(ctx context.Context, h doer, u user) (tokenSet, error) {
	r, err := a.call(ctx, h, http.MethodPost, "/api/auth/signin", map[string]string{"email": u.Email, "password": u.Password}, "")
	if err != nil {
		return tokenSet{}, fmt.Errorf("sign in %s: %w", u.Email, err)
	}
	if err := r.expect("sign in "+u.Email, http.StatusOK); err != nil {
		return tokenSet{}, err
	}
	var t tokenSet
	if err := json.Unmarshal(r.Body, &t); err != nil || t.AccessToken == "" || t.RefreshToken == "" {
		return tokenSet{}, fmt.Errorf("sign in %s: unexpected answer %s", u.Email, truncateBody(r.Body))
	}
	return t, nil
}

// user is a confirmed account the driver can sign in with.
type user struct {
	Email, Password string
	Sub             string
}

// codePattern finds the 6-digit confirmation code in the sign-up email.
var codePattern = regexp.MustCompile(`\b(\d{6})\b`)

// createUser signs a user up, reads the confirmation code from the email
// Mailpit caught and confirms, all through the public API. Each user comes
// from a fresh address: sign-ups are limited per address too.
func createUser(ctx context.Context, api *apiClient, mail *devstack.Mailpit, pool *addrPool, email, password string) (user, error) {
	h := newAgent(pool, 0, 30*time.Second)
	defer h.Close()
	u := user{Email: email, Password: password}
	r, err := api.call(ctx, h, http.MethodPost, "/api/auth/signup", map[string]string{"email": email, "password": password}, "")
	if err != nil {
		return u, fmt.Errorf("sign up %s: %w", email, err)
	}
	if err := r.expect("sign up "+email, http.StatusCreated); err != nil {
		return u, err
	}
	code, err := waitForCode(ctx, mail, email)
	if err != nil {
		return u, err
	}
	r, err = api.call(ctx, h, http.MethodPost, "/api/auth/confirm", map[string]string{"email": email, "code": code}, "")
	if err != nil {
		return u, fmt.Errorf("confirm %s: %w", email, err)
	}
	if err := r.expect("confirm "+email, http.StatusOK); err != nil {
		return u, err
	}
	tokens, err := api.signIn(ctx, h, u)
	if err != nil {
		return u, err
	}
	r, err = api.call(ctx, h, http.MethodGet, "/api/me", nil, tokens.AccessToken)
	if err != nil {
		return u, fmt.Errorf("profile of %s: %w", email, err)
	}
	if err := r.expect("profile of "+email, http.StatusOK); err != nil {
		return u, err
	}
	var me struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(r.Body, &me); err != nil || me.Sub == "" {
		return u, fmt.Errorf("profile of %s has no sub: %s", email, truncateBody(r.Body))
	}
	u.Sub = me.Sub
	return u, nil
}

// waitForCode polls Mailpit for the message to email and returns its code.
func waitForCode(ctx context.Context, mail *devstack.Mailpit, email string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		msgs, err := mail.Messages(ctx)
		if err != nil {
			return "", err
		}
		for _, m := range msgs {
			for _, to := range m.To {
				if to != email {
					continue
				}
				text, err := mail.Text(ctx, m.ID)
				if err != nil {
					return "", err
				}
				if c := codePattern.FindStringSubmatch(text); c != nil {
					return c[1], nil
				}
				return "", fmt.Errorf("no 6-digit code in the mail to %s", email)
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no confirmation mail to %s: %w", email, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
