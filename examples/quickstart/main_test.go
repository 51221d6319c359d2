package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQuickstart checks the answer to every step: the allowed adds first,
// then one denial per check of SPEC section 3, in check order.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^    (\d{3} [a-z_]*)`).FindAllStringSubmatch(out.String(), -1) {
		got = append(got, m[1])
	}
	want := []string{
		"200 ", "200 ", "200 ",
		"401 unauthenticated", "400 invalid_id", "422 invalid_field",
		"404 space_not_found", "403 forbidden", "404 user_not_found", "404 role_not_found",
		"400 user_not_in_organization", "400 annotator_role_required", "400 annotator_role_not_allowed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s\noutput:\n%s", diff, out.String())
	}
	for _, role := range []string{`"type":"predefined","name":"annotator"`, `"type":"PREDEFINED","name":"READ_ONLY"`, `"type":"custom","id":"Um9sZToy","name":"Reviewer"`} {
		if !bytes.Contains(out.Bytes(), []byte(role)) {
			t.Errorf("output lacks the role %s in the request's spelling:\n%s", role, out.String())
		}
	}
}
