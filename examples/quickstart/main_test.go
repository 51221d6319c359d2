package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQuickstart checks the answer to every step: for each operation the
// allowed requests first, then one denial per check, in check order.
func TestQuickstart(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^    (\d{3} [a-z_]*)`).FindAllStringSubmatch(out.String(), -1) {
		got = append(got, m[1])
	}
	want := []string{
		// add
		"200 ", "200 ", "200 ",
		"401 unauthenticated", "400 invalid_id", "422 invalid_field",
		"404 space_not_found", "403 forbidden", "403 forbidden", "404 user_not_found", "404 role_not_found",
		"400 user_not_in_organization", "400 annotator_role_required", "400 annotator_role_not_allowed",
		// remove
		"204 ",
		"401 unauthenticated", "400 invalid_id", "404 space_not_found", "403 forbidden",
		"404 user_not_found", "404 membership_not_found",
		// list: two pages of two and one member
		"200 ", "200 ",
		"401 unauthenticated", "400 invalid_id", "422 invalid_field", "404 space_not_found",
		// organization add: a new member, then an upsert
		"200 ", "200 ",
		"401 unauthenticated", "400 invalid_id", "422 invalid_field", "404 organization_not_found",
		"403 forbidden", "404 user_not_found", "404 role_not_found",
		"400 annotator_role_required", "400 annotator_role_not_allowed",
		// organization remove, then the space it emptied of Barbara
		"204 ", "200 ",
		"401 unauthenticated", "400 invalid_id", "404 organization_not_found", "403 forbidden",
		"404 user_not_found", "404 membership_not_found",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s\noutput:\n%s", diff, out.String())
	}
	for _, role := range []string{`"type":"predefined","name":"annotator"`, `"type":"PREDEFINED","name":"READ_ONLY"`, `"type":"custom","id":"Um9sZToy","name":"Reviewer"`} {
		if !bytes.Contains(out.Bytes(), []byte(role)) {
			t.Errorf("output lacks the role %s in the request's spelling:\n%s", role, out.String())
		}
	}

	// The list shows the space as the adds and the remove left it: Barbara,
	// Grace and Linus, by user id, in the upper-case spelling, and no Ann.
	pages := regexp.MustCompile(`(?m)^    200 (\{"space_memberships".*)$`).FindAllStringSubmatch(out.String(), -1)
	if len(pages) != 3 {
		t.Fatalf("%d pages listed, want 2 and the one after the cascade:\n%s", len(pages), out.String())
	}
	first, last := pages[0][1], pages[1][1]
	for _, want := range []string{`"user_id":"VXNlcjo0"`, `"name":"READ_ONLY"`, `"user_id":"VXNlcjoy"`, `"type":"CUSTOM"`, `"has_more":true`, `"next_cursor":`} {
		if !strings.Contains(first, want) {
			t.Errorf("the first page lacks %s: %s", want, first)
		}
	}
	for _, want := range []string{`"user_id":"VXNlcjoz"`, `"name":"ADMIN"`, `"has_more":false`} {
		if !strings.Contains(last, want) {
			t.Errorf("the last page lacks %s: %s", want, last)
		}
	}
	if strings.Contains(last, "next_cursor") || strings.Contains(first+last, `"user_id":"VXNlcjo2"`) {
		t.Errorf("the last page has a cursor, or Ann is listed:\n%s\n%s", first, last)
	}

	// The cascade: after her removal from Research, Barbara is no member of
	// llm-evals, and Grace and Linus still are.
	after := pages[2][1]
	if strings.Contains(after, `"user_id":"VXNlcjo0"`) || !strings.Contains(after, `"user_id":"VXNlcjoy"`) || !strings.Contains(after, `"user_id":"VXNlcjoz"`) {
		t.Errorf("after the organization removal llm-evals lists %s, want Grace and Linus and not Barbara", after)
	}
	ids := regexp.MustCompile(`(?m)^    200 \{"id":"([^"]+)","organization_id"`).FindAllStringSubmatch(out.String(), -1)
	if len(ids) != 2 || ids[0][1] != ids[1][1] {
		t.Errorf("the organization upsert answered ids %v, want one id twice", ids)
	}
}
