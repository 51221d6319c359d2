package pgstore

import (
	"testing"

	"github.com/spaceauthz/spaceauthz/membership/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return newTestStore(t) })
}
