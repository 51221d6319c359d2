package memstore

import (
	"testing"

	"github.com/spaceauthz/spaceauthz/internal/faultstore/faulttest"
)

// TestFaults runs the fault matrix: a failure at any point of an operation
// answers 500 or 503 and leaves the store as it was.
func TestFaults(t *testing.T) {
	t.Parallel()
	faulttest.Run(t, func(*testing.T) faulttest.Target { return faulttest.Target{Store: New()} })
}
