package memdbkey

import (
	"bytes"
	"testing"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
)

var (
	_ memdb.SingleIndexer = (*Index)(nil)
	_ memdb.PrefixIndexer = (*Index)(nil)
)

func TestKeysMatchTheirLookups(t *testing.T) {
	t.Parallel()
	pair := ByPair(func(m *membership.Membership) (membership.ID, membership.ID) { return m.SpaceID, m.UserID })
	ok, key, err := pair.FromObject(&membership.Membership{SpaceID: "QUJD", UserID: "REVG"})
	if !ok || err != nil {
		t.Fatalf("FromObject = %v, %v", ok, err)
	}
	args, err := pair.FromArgs("QUJD", "REVG")
	if err != nil || !bytes.Equal(key, args) || string(key) != "QUJD\x00REVG\x00" {
		t.Errorf("FromObject %q and FromArgs %q (%v) differ, or are not ID NUL ID NUL", key, args, err)
	}
	prefix, err := pair.PrefixFromArgs("QUJD", "")
	if err != nil || !bytes.HasPrefix(key, prefix) || string(prefix) != "QUJD\x00" {
		t.Errorf("PrefixFromArgs = %q, %v; want the space's exact prefix", prefix, err)
	}
	if ok, _, _ := pair.FromObject(&membership.Membership{SpaceID: "QUJD"}); ok {
		t.Error("a record without its second ID is indexed")
	}
	one := ByID(func(u *membership.User) membership.ID { return u.ID })
	if _, key, _ := one.FromObject(&membership.User{ID: "QUJD"}); string(key) != "QUJD\x00" {
		t.Errorf("ByID key %q", key)
	}
	for _, bad := range [][]any{{}, {"a", "b"}, {42}} {
		if _, err := one.FromArgs(bad...); err == nil {
			t.Errorf("FromArgs(%v) succeeded", bad)
		}
	}
}
