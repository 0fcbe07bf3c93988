package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// decodeJSON reads a request body into dst, strictly: the body must be
// declared as JSON, be one well-formed object with no unknown fields, and fit
// in maxBodyBytes. Each failure is a 4xx with the usual error shape, never a
// 500, and nothing is half-applied because handlers decode before acting.
func decodeJSON(c echo.Context, dst any) error {
	req := c.Request()
	mediaType, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != echo.MIMEApplicationJSON {
		return &APIError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "Send the request body as application/json."}
	}
	dec := json.NewDecoder(req.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	// Exactly one JSON value: trailing data usually means a client bug.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "The body must hold exactly one JSON object."}
	}
	return nil
}

// jsonError explains a decoding failure in terms a client developer can act on.
func jsonError(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
	)
	switch {
	case errors.As(err, &maxErr):
		return &APIError{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large", Message: "The request body is too large."}
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "The body is not valid JSON."}
	case errors.Is(err, io.EOF):
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "The request body is empty."}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		return &APIError{Status: http.StatusBadRequest, Code: "validation_failed",
			Message: fmt.Sprintf("%s must be a %s.", field, typeErr.Type),
			Fields:  map[string]string{field: fmt.Sprintf("Must be a %s.", typeErr.Type)}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &APIError{Status: http.StatusBadRequest, Code: "unknown_field",
			Message: fmt.Sprintf("Unknown field %q.", field), Fields: map[string]string{field: "Unknown field."}}
	}
	return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "The body could not be read as JSON."}
}
