package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The token_use claim, as in Cognito: it tells the two kinds of token apart, so
// that one can never be passed off as the other.
const (
	tokenUseAccess = "access"
	tokenUseID     = "id"
)

// customPrefix starts the name of every custom attribute claim. No standard
// claim starts with it, so custom attributes can never shadow one.
const customPrefix = "custom:"

// AccessClaims is what an access token says: which user, through which app
// client, in which session, with which scopes and groups.
//
// Callers of SignAccess fill Subject, SessionID, Scope and Groups; SignAccess
// sets the rest from the Config and the clock, replacing whatever was there.
// The token_use claim is implied by the type: always "access".
type AccessClaims struct {
	Subject   string   // sub: the user's immutable UUID
	SessionID string   // sid: the session the token belongs to; the identity service checks it is still active
	Scope     string   // scope: space-separated scopes, e.g. "openid email profile pinhole/photos"
	Groups    []string // groups: the user's groups; omitted from the token when empty, as Cognito does

	Issuer    string    // iss: Config.Issuer
	ClientID  string    // client_id: Config.ClientID
	ID        string    // jti: random and unique per token
	IssuedAt  time.Time // iat: whole seconds
	ExpiresAt time.Time // exp: IssuedAt + Config.AccessTTL
}

// IDClaims is what an ID token says about the user to the app client.
//
// Callers of SignID fill everything from Subject to AuthTime; SignID sets the
// rest from the Config and the clock, replacing whatever was there. The
// token_use claim is implied by the type: always "id".
type IDClaims struct {
	Subject             string         // sub: the user's immutable UUID
	SessionID           string         // sid: the session the token belongs to
	Email               string         // email
	EmailVerified       bool           // email_verified
	PhoneNumber         string         // phone_number (E.164); empty means none, and then phone_number_verified is left out too
	PhoneNumberVerified bool           // phone_number_verified
	Custom              map[string]any // custom attributes keyed "custom:<name>", each a top-level claim; numbers verify back as float64
	Groups              []string       // groups: omitted from the token when empty
	AuthTime            time.Time      // auth_time: when the user last proved who they are (a refresh keeps it); required

	Issuer    string    // iss: Config.Issuer
	Audience  string    // aud: Config.ClientID
	ID        string    // jti: random and unique per token
	IssuedAt  time.Time // iat: whole seconds
	ExpiresAt time.Time // exp: IssuedAt + Config.IDTTL
}

// The types below are the JSON payloads as they travel inside the tokens.
// They are kept apart from AccessClaims and IDClaims so that callers work with
// time.Time and never see token_use or golang-jwt's types, while golang-jwt
// gets the jwt.Claims methods it uses to check exp, nbf, iat, iss and aud.

// commonPayload holds the claims both kinds of token carry.
type commonPayload struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	TokenUse  string           `json:"token_use"`
	Groups    []string         `json:"groups,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ExpiresAt *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"` // never issued; decoded so that a token carrying one is held to it
	ID        string           `json:"jti"`
	SessionID string           `json:"sid"`
}

// GetExpirationTime implements jwt.Claims.
func (p commonPayload) GetExpirationTime() (*jwt.NumericDate, error) { return p.ExpiresAt, nil }

// GetIssuedAt implements jwt.Claims.
func (p commonPayload) GetIssuedAt() (*jwt.NumericDate, error) { return p.IssuedAt, nil }

// GetNotBefore implements jwt.Claims.
func (p commonPayload) GetNotBefore() (*jwt.NumericDate, error) { return p.NotBefore, nil }

// GetIssuer implements jwt.Claims.
func (p commonPayload) GetIssuer() (string, error) { return p.Issuer, nil }

// GetSubject implements jwt.Claims.
func (p commonPayload) GetSubject() (string, error) { return p.Subject, nil }

// GetAudience implements jwt.Claims. Access tokens have no aud (they name
// their client in client_id); idPayload overrides this.
func (p commonPayload) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

// validate checks what golang-jwt does not: the token kind, and the claims
// Pinhole requires although RFC 7519 makes them optional.
func (p commonPayload) validate(wantUse string) error {
	var errs []error
	if p.TokenUse != wantUse {
		errs = append(errs, fmt.Errorf("token_use is %q, want %q", p.TokenUse, wantUse))
	}
	for _, c := range []struct{ name, value string }{
		{"sub", p.Subject}, {"sid", p.SessionID}, {"jti", p.ID},
	} {
		if c.value == "" {
			errs = append(errs, fmt.Errorf("%s is missing", c.name))
		}
	}
	if p.IssuedAt == nil {
		errs = append(errs, errors.New("iat is missing"))
	}
	return errors.Join(errs...)
}

// golang-jwt runs the Validate methods only if the payloads implement
// jwt.ClaimsValidator; make the compiler check that they do.
var (
	_ jwt.ClaimsValidator = (*accessPayload)(nil)
	_ jwt.ClaimsValidator = (*idPayload)(nil)
)

// accessPayload is the JSON payload of an access token.
type accessPayload struct {
	commonPayload
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// Validate implements jwt.ClaimsValidator; golang-jwt calls it after the
// signature and the registered claims have been checked.
func (p *accessPayload) Validate() error {
	err := p.validate(tokenUseAccess)
	if p.ClientID == "" {
		err = errors.Join(err, errors.New("client_id is missing"))
	}
	return err
}

func (c *AccessClaims) payload() *accessPayload {
	return &accessPayload{
		commonPayload: commonPayload{
			Issuer:    c.Issuer,
			Subject:   c.Subject,
			TokenUse:  tokenUseAccess,
			Groups:    c.Groups,
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
			ID:        c.ID,
			SessionID: c.SessionID,
		},
		ClientID: c.ClientID,
		Scope:    c.Scope,
	}
}

func (p *accessPayload) claims() *AccessClaims {
	return &AccessClaims{
		Subject:   p.Subject,
		SessionID: p.SessionID,
		Scope:     p.Scope,
		Groups:    p.Groups,
		Issuer:    p.Issuer,
		ClientID:  p.ClientID,
		ID:        p.ID,
		IssuedAt:  p.IssuedAt.Time,
		ExpiresAt: p.ExpiresAt.Time,
	}
}

// idPayload is the JSON payload of an ID token. Its custom attributes are
// flattened into top-level "custom:<name>" claims by MarshalJSON and gathered
// back by UnmarshalJSON.
type idPayload struct {
	commonPayload
	Audience            string           `json:"aud"`
	Email               string           `json:"email"`
	EmailVerified       bool             `json:"email_verified"`
	PhoneNumber         string           `json:"phone_number,omitempty"`
	PhoneNumberVerified *bool            `json:"phone_number_verified,omitempty"` // nil when there is no phone number
	AuthTime            *jwt.NumericDate `json:"auth_time"`
	Custom              map[string]any   `json:"-"`
}

// GetAudience implements jwt.Claims.
func (p idPayload) GetAudience() (jwt.ClaimStrings, error) {
	if p.Audience == "" {
		return nil, nil
	}
	return jwt.ClaimStrings{p.Audience}, nil
}

// Validate implements jwt.ClaimsValidator; golang-jwt calls it after the
// signature and the registered claims have been checked.
func (p *idPayload) Validate() error {
	err := p.validate(tokenUseID)
	if p.AuthTime == nil {
		err = errors.Join(err, errors.New("auth_time is missing"))
	}
	return err
}

// MarshalJSON writes the standard claims, then each custom attribute as a
// top-level claim, in name order so that equal claims give equal tokens.
func (p idPayload) MarshalJSON() ([]byte, error) {
	type standard idPayload // the same fields without these methods, so json.Marshal does not recurse
	out, err := json.Marshal(standard(p))
	if err != nil || len(p.Custom) == 0 {
		return out, err
	}

	var buf bytes.Buffer
	buf.Write(out[:len(out)-1]) // everything up to the closing brace
	for _, name := range slices.Sorted(maps.Keys(p.Custom)) {
		if err := checkCustomName(name); err != nil {
			return nil, err
		}
		value, err := json.Marshal(p.Custom[name])
		if err != nil {
			return nil, fmt.Errorf("token: custom attribute %q: %w", name, err)
		}
		key, _ := json.Marshal(name) // marshalling a string cannot fail
		buf.WriteByte(',')
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(value)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads the standard claims into their fields and every
// "custom:<name>" claim into Custom. Other claims are ignored, as RFC 7519
// asks of claims a recipient does not understand.
func (p *idPayload) UnmarshalJSON(data []byte) error {
	type standard idPayload
	if err := json.Unmarshal(data, (*standard)(p)); err != nil {
		return err
	}

	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	p.Custom = nil
	for name, raw := range all {
		if !strings.HasPrefix(name, customPrefix) {
			continue
		}
		if err := checkCustomName(name); err != nil {
			return err
		}
		var value any
		if err := json.Unmarshal(raw, &value); err != nil {
			return fmt.Errorf("token: custom attribute %q: %w", name, err)
		}
		if p.Custom == nil {
			p.Custom = make(map[string]any)
		}
		p.Custom[name] = value
	}
	return nil
}

// checkCustomName refuses a custom attribute name that could be mistaken for
// a standard claim: it must be "custom:" followed by at least one character.
func checkCustomName(name string) error {
	if !strings.HasPrefix(name, customPrefix) || len(name) == len(customPrefix) {
		return fmt.Errorf("token: custom attribute %q: want %q followed by a name", name, customPrefix)
	}
	return nil
}

func (c *IDClaims) payload() *idPayload {
	p := &idPayload{
		commonPayload: commonPayload{
			Issuer:    c.Issuer,
			Subject:   c.Subject,
			TokenUse:  tokenUseID,
			Groups:    c.Groups,
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
			ID:        c.ID,
			SessionID: c.SessionID,
		},
		Audience:      c.Audience,
		Email:         c.Email,
		EmailVerified: c.EmailVerified,
		AuthTime:      jwt.NewNumericDate(c.AuthTime),
		Custom:        c.Custom,
	}
	if c.PhoneNumber != "" {
		p.PhoneNumber = c.PhoneNumber
		p.PhoneNumberVerified = &c.PhoneNumberVerified
	}
	return p
}

func (p *idPayload) claims() *IDClaims {
	return &IDClaims{
		Subject:             p.Subject,
		SessionID:           p.SessionID,
		Email:               p.Email,
		EmailVerified:       p.EmailVerified,
		PhoneNumber:         p.PhoneNumber,
		PhoneNumberVerified: p.PhoneNumberVerified != nil && *p.PhoneNumberVerified,
		Custom:              p.Custom,
		Groups:              p.Groups,
		AuthTime:            p.AuthTime.Time,
		Issuer:              p.Issuer,
		Audience:            p.Audience,
		ID:                  p.ID,
		IssuedAt:            p.IssuedAt.Time,
		ExpiresAt:           p.ExpiresAt.Time,
	}
}
