package app

import (
	"testing"

	"github.com/pinhole/pinhole/internal/testenv"
)

// TestMain stops the shared test services (PostgreSQL) after the run.
func TestMain(m *testing.M) { testenv.Main(m) }
