package storage

import (
	"errors"
	"fmt"
	"testing"

	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestSTSStartingIsAnOutage: MinIO's "not initialized yet" answer (HTTP 400
// while it loads IAM after a restart) counts as unavailable, not refused.
func TestSTSStartingIsAnOutage(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"STSNotInitialized": true, "STSIAMNotInitialized": true, "XMinioServerNotInitialized": true,
		"AccessDenied": false, "InvalidParameterValue": false,
	} {
		var resp credentials.ErrorResponse
		resp.STSError.Code = code
		if got := stsStarting(fmt.Errorf("wrapped: %w", resp)); got != want {
			t.Errorf("stsStarting(%s) = %v, want %v", code, got, want)
		}
	}
	if stsStarting(errors.New("connection refused")) {
		t.Error("a plain error counted as MinIO starting")
	}
}
