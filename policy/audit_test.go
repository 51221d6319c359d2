package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/policy"
)

func TestAuditRecords(t *testing.T) {
	t.Parallel()
	var records []policy.DecisionRecord
	e := newEngine(t, policy.WithAudit(policy.AuditFunc(func(_ context.Context, r policy.DecisionRecord) {
		records = append(records, r)
	})))
	denied := allowedFacts()
	denied.Target = nil
	for _, f := range []*membership.Facts{allowedFacts(), allowedFacts(), denied} {
		if _, err := e.Decide(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	if len(records) != 3 {
		t.Fatalf("audit called %d times, want 3", len(records))
	}
	q := allowedFacts().Query
	for i, r := range records {
		got := []any{r.Operation, r.Actor, r.SpaceID, r.UserID, r.Role, r.Revision}
		want := []any{q.Operation, q.Actor, q.SpaceID, q.UserID, q.Role, e.Revision()}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("record %d (-want +got):\n%s", i, diff)
		}
		if r.Duration <= 0 {
			t.Errorf("record %d: duration %v, want positive", i, r.Duration)
		}
	}
	if !strings.HasPrefix(e.Revision(), "sha256:") {
		t.Errorf("revision %q of the default policy, want a digest", e.Revision())
	}
	digests := []string{records[0].InputDigest(), records[1].InputDigest(), records[2].InputDigest()}
	if digests[0] == "" || digests[0] != digests[1] || digests[0] == digests[2] {
		t.Errorf("digests %q: want equal for equal inputs only", digests)
	}
	if records[0].Cached || !records[1].Cached {
		t.Errorf("cached %v, %v: want the repeated decision from memory", records[0].Cached, records[1].Cached)
	}
	want := []membership.Violation{{Code: membership.CodeUserNotFound, Rule: "user_exists"}}
	if !records[0].Allow || records[2].Allow || !cmp.Equal(records[2].Violations, want) {
		t.Errorf("audit decisions %+v", records)
	}
}

func TestSlogAudit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	e := newEngine(t, policy.WithAudit(policy.NewSlogAudit(logger, policy.SlogAuditOptions{InputDigest: true})))
	denied := allowedFacts()
	denied.Target = nil
	for _, f := range []*membership.Facts{allowedFacts(), denied} {
		if _, err := e.Decide(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), buf.String())
	}
	var got []map[string]any
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		for _, k := range []string{"time", "duration", "input_digest"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("record lacks %s: %s", k, line)
			}
			delete(rec, k)
		}
		got = append(got, rec)
	}
	q := allowedFacts().Query
	common := func(allow bool) map[string]any {
		return map[string]any{
			"level": "INFO", "msg": "decision", "operation": "add",
			"actor": string(q.Actor), "space": string(q.SpaceID), "user": string(q.UserID),
			"role": q.Role.String(), "allow": allow, "revision": e.Revision(), "cached": false,
		}
	}
	deniedRec := common(false)
	deniedRec["violations"] = []any{"user_exists=user_not_found"}
	if diff := cmp.Diff([]map[string]any{common(true), deniedRec}, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}

func TestSlogAuditFailureAndLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := newEngine(t, policy.WithAudit(policy.NewSlogAudit(logger, policy.SlogAuditOptions{})))
	if _, err := e.Decide(context.Background(), allowedFacts()); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("a decision at Info reached a Warn logger: %s", buf.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Decide(ctx, allowedFacts()); err == nil {
		t.Fatal("Decide on a cancelled context succeeded")
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("want one JSON record for the failure, got %q", buf.String())
	}
	if rec["level"] != "ERROR" || rec["allow"] != false || !strings.Contains(rec["error"].(string), "context canceled") {
		t.Errorf("failure record %v", rec)
	}
}

// syncBuffer is a bytes.Buffer safe for the sink's goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// TestSlogAuditQueue: a queued sink loses no record, not even of decisions
// made while it closes, and writes them all by the time Close returns.
func TestSlogAuditQueue(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	sink := policy.NewSlogAudit(slog.New(slog.NewJSONHandler(&out, nil)), policy.SlogAuditOptions{Queue: 4})
	e := newEngine(t, policy.WithAudit(sink))
	const deciders, each = 4, 50
	var wg sync.WaitGroup
	for range deciders {
		wg.Go(func() {
			for range each {
				if _, err := e.Decide(context.Background(), allowedFacts()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		if err := sink.Close(); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	lines := out.lines()
	if len(lines) != deciders*each {
		t.Fatalf("%d records written, want %d", len(lines), deciders*each)
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] != "decision" || rec["allow"] != true {
			t.Fatalf("record %q", line)
		}
	}
}

// gatedWriter holds every write until release is closed.
type gatedWriter struct {
	release chan struct{}
	syncBuffer
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.release
	return g.syncBuffer.Write(p)
}

// TestSlogAuditCloseWaits: Close returns only once every queued record is
// written.
func TestSlogAuditCloseWaits(t *testing.T) {
	t.Parallel()
	out := &gatedWriter{release: make(chan struct{})}
	sink := policy.NewSlogAudit(slog.New(slog.NewJSONHandler(out, nil)), policy.SlogAuditOptions{Queue: 8})
	e := newEngine(t, policy.WithAudit(sink))
	for range 5 {
		if _, err := e.Decide(context.Background(), allowedFacts()); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan struct{})
	go func() {
		_ = sink.Close()
		close(closed)
	}()
	close(out.release)
	<-closed
	if n := len(out.lines()); n != 5 {
		t.Errorf("Close returned with %d of 5 records written", n)
	}
}

// TestSlogAuditOfAnOrganizationOperation: the record of an organization
// operation names the organization, since there is no space.
func TestSlogAuditOfAnOrganizationOperation(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var records []policy.DecisionRecord
	sink := policy.NewSlogAudit(slog.New(slog.NewJSONHandler(&buf, nil)), policy.SlogAuditOptions{})
	e := newEngine(t, policy.WithAudit(policy.AuditFunc(func(ctx context.Context, r policy.DecisionRecord) {
		records = append(records, r)
		sink.Audit(ctx, r)
	})))
	f := allowedFacts()
	f.Query = membership.Query{Operation: membership.OperationOrgRemove, Actor: f.Query.Actor, OrganizationID: f.Organization.ID, UserID: f.Query.UserID}
	f.Space, f.Existing, f.ActorSpaceRole = nil, nil, membership.Grant{}
	if _, err := e.Decide(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %s", buf.String())
	}
	if rec["operation"] != "org_remove" || rec["organization"] != string(f.Organization.ID) || rec["user"] != string(f.Query.UserID) {
		t.Errorf("log record %v, want org_remove of the user in the organization", rec)
	}
	if _, ok := rec["space"]; ok {
		t.Errorf("log record %v names a space", rec)
	}
	if len(records) != 1 || records[0].OrganizationID != f.Organization.ID || records[0].SpaceID != "" {
		t.Errorf("records %+v, want one naming the organization and no space", records)
	}
}
