package app

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/password"
	"github.com/pinhole/pinhole/storage"
	"github.com/pinhole/pinhole/views"
)

// APIError is the JSON body of every failed API call:
//
//	{"error": "storage_unavailable", "message": "Photo storage is unavailable right now."}
//
// Code is stable and snake_case, for programs; Message is for people and may
// change. Fields carries per-field validation problems.
type APIError struct {
	Status  int               `json:"-"`
	Code    string            `json:"error"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// retryAfter, when set, becomes the Retry-After header of a 429 or 503.
	retryAfter time.Duration
}

// Error makes *APIError usable as an error value returned by handlers.
func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// errNotConfigured is returned by a readiness check whose dependency is absent.
var errNotConfigured = errors.New("app: dependency not configured")

// errorTable maps domain errors (the private half) to what clients may see
// (the public half). It is the only place that decides a status code for a
// domain error; anything not listed is a 500 with a generic message.
var errorTable = []struct {
	err    error
	public APIError
}{
	{storage.ErrUnavailable, APIError{Status: http.StatusServiceUnavailable, Code: "storage_unavailable", Message: "Photo storage is unavailable right now. Please try again shortly."}},
	// Photos. A *storage.PhotoError also names the field at fault; see publicError.
	{storage.ErrInvalidPhoto, APIError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "The photo's details are not valid."}},
	{storage.ErrInvalidKey, APIError{Status: http.StatusBadRequest, Code: "invalid_key", Message: "A photo must be stored at users/<your id>/photos/<photo id>.<ext>, its thumbnail at users/<your id>/thumbs/<photo id>.jpg."}},
	{storage.ErrObjectMissing, APIError{Status: http.StatusBadRequest, Code: "object_missing", Message: "The upload was not found in photo storage. Upload the photo and its thumbnail, then register them."}},
	{storage.ErrNotAnImage, APIError{Status: http.StatusBadRequest, Code: "not_an_image", Message: "That file is not a photo we can take: use JPEG, PNG, GIF, WebP, HEIC or AVIF, with a JPEG thumbnail."}},
	{storage.ErrTooLarge, APIError{Status: http.StatusBadRequest, Code: "photo_too_large", Message: "The photo or its thumbnail is larger than allowed."}},
	{storage.ErrPhotoExists, APIError{Status: http.StatusConflict, Code: "photo_exists", Message: "A photo with this id is already registered."}},
	{storage.ErrPhotoNotFound, APIError{Status: http.StatusNotFound, Code: "photo_not_found", Message: "There is no such photo."}},
	{storage.ErrInvalidCursor, APIError{Status: http.StatusBadRequest, Code: "invalid_cursor", Message: "That page of photos does not exist. Start again from the first page."}},
	{identity.ErrInvalidCredentials, APIError{Status: http.StatusUnauthorized, Code: "invalid_credentials", Message: "Incorrect email or password."}},
	{identity.ErrUserNotConfirmed, APIError{Status: http.StatusForbidden, Code: "user_not_confirmed", Message: "Confirm your email address first. We can send you a new code."}},
	{identity.ErrInvalidCode, APIError{Status: http.StatusBadRequest, Code: "invalid_code", Message: "That code is wrong or has expired. Check the latest email or request a new code."}},
	{identity.ErrRefreshTokenReused, APIError{Status: http.StatusUnauthorized, Code: "refresh_token_reused", Message: "This refresh token was already used, so the session was ended for safety. Please sign in again."}},
	{identity.ErrInvalidRefreshToken, APIError{Status: http.StatusUnauthorized, Code: "invalid_refresh_token", Message: "The refresh token is invalid or expired. Please sign in again."}},
	{identity.ErrUnauthenticated, APIError{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "Sign in to continue: the access token is missing, invalid or expired."}},
	{identity.ErrSessionNotFound, APIError{Status: http.StatusNotFound, Code: "session_not_found", Message: "There is no such session."}},
	{identity.ErrIncorrectPassword, APIError{Status: http.StatusBadRequest, Code: "incorrect_password", Message: "Your current password is incorrect.", Fields: map[string]string{"current_password": "This is not your current password."}}},
	{password.ErrBusy, APIError{Status: http.StatusTooManyRequests, Code: "busy", Message: "We are handling many sign-ins right now. Please try again in a moment."}},
}

// httpErrors maps the errors Echo itself raises (routing, body limits, binding).
var httpErrors = map[int]APIError{
	http.StatusBadRequest:            {Code: "bad_request", Message: "The request could not be understood."},
	http.StatusForbidden:             {Code: "forbidden", Message: "This request is not allowed."},
	http.StatusNotFound:              {Code: "not_found", Message: "There is nothing at this address."},
	http.StatusMethodNotAllowed:      {Code: "method_not_allowed", Message: "This address does not accept that method."},
	http.StatusRequestEntityTooLarge: {Code: "request_too_large", Message: "The request body is too large."},
	http.StatusUnsupportedMediaType:  {Code: "unsupported_media_type", Message: "Send the body as application/json."},
	http.StatusTooManyRequests:       {Code: "too_many_requests", Message: "Too many requests. Please wait and try again."},
	http.StatusServiceUnavailable:    {Code: "service_unavailable", Message: "The service is unavailable right now."},
}

var internalError = APIError{Status: http.StatusInternalServerError, Code: "internal_error", Message: "Something went wrong on our side. Please try again."}

// publicError finds the public half of err.
func publicError(err error) APIError {
	var api *APIError
	if errors.As(err, &api) {
		return *api
	}
	var verr *identity.ValidationError
	if errors.As(err, &verr) {
		return APIError{Status: http.StatusBadRequest, Code: verr.Code, Message: verr.Message(), Fields: verr.Fields}
	}
	var terr *identity.ThrottledError
	if errors.As(err, &terr) {
		return APIError{Status: http.StatusTooManyRequests, Code: "too_many_requests",
			Message: "Too many attempts. Please wait a little and try again.", retryAfter: terr.RetryAfter}
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			pub := row.public
			var perr *storage.PhotoError
			if errors.As(err, &perr) && perr.Field != "" {
				// The table says what kind of refusal it is; the domain
				// says which field and, in words fit to show, why.
				pub.Fields = map[string]string{perr.Field: perr.Problem}
				if errors.Is(err, storage.ErrInvalidPhoto) {
					// As for the user pool's validation errors, the
					// field's problem is the most useful message.
					pub.Message = perr.Problem
				}
			}
			return pub
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if pub, ok := httpErrors[he.Code]; ok {
			pub.Status = he.Code
			return pub
		}
	}
	return internalError
}

// retryWait is how long a client refused with a 429 or 503 should wait: what
// the domain said, else a guess (a moment for a throttle, longer for an
// outage), and never under a second.
func (e APIError) retryWait() time.Duration {
	wait := e.retryAfter
	if wait <= 0 && e.Status == http.StatusServiceUnavailable {
		wait = 5 * time.Second
	}
	return max(wait, time.Second)
}

// setRetryAfter sets the Retry-After header in whole seconds, rounded up so
// a client never comes back before the wait is over.
func setRetryAfter(c echo.Context, wait time.Duration) {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
}

// handleError is Echo's error handler: every error a handler returns ends here
// and leaves as JSON (API and non-HTML clients) or an HTML error page.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	pub := publicError(err)
	req := c.Request()
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if pub.Status >= http.StatusInternalServerError {
		// The real error is for operators only.
		s.log.ErrorContext(req.Context(), "request failed", "err", err, "status", pub.Status,
			"method", req.Method, "path", req.URL.Path, "request_id", reqID)
	}
	if pub.Status == http.StatusServiceUnavailable || pub.Status == http.StatusTooManyRequests {
		setRetryAfter(c, pub.retryWait())
	}
	if _, bearer := bearerToken(c); bearer && pub.Status == http.StatusUnauthorized {
		// RFC 6750 §3: tell OAuth clients why the bearer token failed.
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
	}

	if wantsJSON(req) {
		err = c.JSON(pub.Status, pub)
	} else if req.Method == http.MethodHead {
		err = c.NoContent(pub.Status)
	} else {
		err = render(c, pub.Status, views.Error(views.Nav{}, errorPage(pub, reqID)))
	}
	if err != nil {
		s.log.ErrorContext(req.Context(), "write error response", "err", err)
	}
}

// wantsJSON decides the error format: API and OAuth routes always speak
// JSON, and so do clients that do not ask for HTML.
func wantsJSON(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/oauth2/") {
		return true
	}
	accept := r.Header.Get(echo.HeaderAccept)
	return accept != "" && !strings.Contains(accept, "text/html") && strings.Contains(accept, "json")
}

// errorPage turns the public error into friendly page copy.
func errorPage(pub APIError, reqID string) views.ErrorPage {
	page := views.ErrorPage{Status: pub.Status, Title: "Something went wrong", Message: pub.Message, RequestID: reqID}
	switch pub.Status {
	case http.StatusNotFound:
		page.Title = "Page not found"
		page.Message = "We looked everywhere, but there is no page at this address."
		page.RequestID = ""
	case http.StatusInternalServerError:
		page.Message = "Something broke on our side. It has been logged; please try again in a moment."
	case http.StatusServiceUnavailable:
		page.Title = "Temporarily unavailable"
	}
	return page
}
