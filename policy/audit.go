package policy

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// AuditSink receives one DecisionRecord per decision (see WithAudit).
type AuditSink interface {
	Audit(context.Context, DecisionRecord)
}

// AuditFunc makes a function an AuditSink.
type AuditFunc func(context.Context, DecisionRecord)

// Audit calls f.
func (f AuditFunc) Audit(ctx context.Context, r DecisionRecord) { f(ctx, r) }

// DecisionRecord is what an audit sink receives: who asked for what, the
// answer, and under which policy. Building it costs nothing beyond the
// decision itself: its fields point into the facts and the decision, and
// InputDigest does the hashing, only for a sink that calls it.
type DecisionRecord struct {
	// Operation, Actor, SpaceID, OrganizationID, UserID and Role are the
	// request, as in membership.Query: SpaceID is empty for an
	// organization operation and OrganizationID for any other, UserID is
	// empty for a list, Role is the zero assignment unless an add asks for
	// one.
	Operation      membership.Operation
	Actor          membership.ID
	SpaceID        membership.ID
	OrganizationID membership.ID
	UserID         membership.ID
	Role           membership.RoleAssignment
	// Allow is the answer; a failed decision is a deny.
	Allow bool
	// Violations are the rules the facts broke, in no particular order;
	// the caller answers with the first in its operation's check order.
	Violations []membership.Violation
	// Err is the evaluation failure, if any.
	Err error
	// Revision is the revision of the policy that decided (see
	// Engine.Revision).
	Revision string
	// Duration is the time the decision took.
	Duration time.Duration
	// Cached is set when the decision was remembered, not evaluated.
	Cached bool
	// Facts are the facts decided on. Like all facts they must not be
	// modified; a sink may keep them.
	Facts *membership.Facts
}

// SlogAuditOptions configures NewSlogAudit.
type SlogAuditOptions struct {
	// Level is the level of a decision's record (default slog.LevelInfo);
	// a failed decision is logged at slog.LevelError.
	Level slog.Level
	// InputDigest adds the digest of the input document (see
	// DecisionRecord.InputDigest). It costs about as much as a small
	// evaluation, so it is off by default.
	InputDigest bool
	// Queue, when positive, has records written by a goroutine of the
	// sink's own, off the deciding goroutine, with up to Queue records
	// waiting: a decision then pays for a send on a channel rather than
	// for encoding its record. A full queue makes Audit wait, so no record
	// is dropped. Close writes what waits. Zero writes each record on the
	// deciding goroutine.
	Queue int
}

// SlogAudit is the AuditSink NewSlogAudit returns. It is safe for
// concurrent use.
type SlogAudit struct {
	logger *slog.Logger
	opts   SlogAuditOptions

	// mu guards closed against a send on the queue Close closes.
	mu     sync.RWMutex
	closed bool
	queue  chan queuedRecord
	done   chan struct{}
}

type queuedRecord struct {
	ctx    context.Context
	level  slog.Level
	record DecisionRecord
}

// NewSlogAudit returns a sink that writes each decision as one structured
// log record, message "decision", with the attributes operation, actor,
// space (or organization, for an organization operation), user (for all
// but a list), role (when an add asks for one),
// allow, violations (the rules that fired, as rule=code), revision,
// duration, cached, error (for a failure) and input_digest (when asked
// for). With opts.Queue, call Close when done, so that no record is lost.
func NewSlogAudit(logger *slog.Logger, opts SlogAuditOptions) *SlogAudit {
	s := &SlogAudit{logger: logger, opts: opts}
	if opts.Queue > 0 {
		s.queue = make(chan queuedRecord, opts.Queue)
		s.done = make(chan struct{})
		go s.drain()
	}
	return s
}

// Audit writes r, or queues it.
func (s *SlogAudit) Audit(ctx context.Context, r DecisionRecord) {
	level := s.opts.Level
	if r.Err != nil {
		level = slog.LevelError
	}
	if !s.logger.Enabled(ctx, level) {
		return
	}
	if s.queue != nil {
		s.mu.RLock()
		if !s.closed {
			s.queue <- queuedRecord{ctx, level, r}
			s.mu.RUnlock()
			return
		}
		s.mu.RUnlock()
	}
	s.write(ctx, level, r)
}

// Close writes the records that wait and stops the sink's goroutine; a
// record audited after Close is written on the deciding goroutine. It
// returns nil, and does nothing for a sink without a queue.
func (s *SlogAudit) Close() error {
	if s.queue == nil {
		return nil
	}
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.done
	return nil
}

func (s *SlogAudit) drain() {
	defer close(s.done)
	for q := range s.queue {
		s.write(q.ctx, q.level, q.record)
	}
}

func (s *SlogAudit) write(ctx context.Context, level slog.Level, r DecisionRecord) {
	attrs := make([]slog.Attr, 0, 13)
	attrs = append(attrs,
		slog.String("operation", r.Operation.String()),
		slog.String("actor", string(r.Actor)),
	)
	// An organization operation names no space: its record says which
	// organization instead, and a space operation's record stays as it was.
	if r.OrganizationID != "" && r.SpaceID == "" {
		attrs = append(attrs, slog.String("organization", string(r.OrganizationID)))
	} else {
		attrs = append(attrs, slog.String("space", string(r.SpaceID)))
	}
	if r.UserID != "" {
		attrs = append(attrs, slog.String("user", string(r.UserID)))
	}
	if r.Role != (membership.RoleAssignment{}) {
		attrs = append(attrs, slog.String("role", r.Role.String()))
	}
	attrs = append(attrs, slog.Bool("allow", r.Allow))
	if len(r.Violations) > 0 {
		attrs = append(attrs, slog.Any("violations", violationsValue(r.Violations)))
	}
	attrs = append(attrs,
		slog.String("revision", r.Revision),
		slog.Duration("duration", r.Duration),
		slog.Bool("cached", r.Cached),
	)
	if r.Err != nil {
		attrs = append(attrs, slog.String("error", r.Err.Error()))
	}
	if s.opts.InputDigest {
		attrs = append(attrs, slog.String("input_digest", r.InputDigest()))
	}
	s.logger.LogAttrs(ctx, level, "decision", attrs...)
}

// violationsValue logs violations as a list of "rule=code" strings, built
// only when a handler writes them.
type violationsValue []membership.Violation

func (vs violationsValue) LogValue() slog.Value {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Rule + "=" + string(v.Code)
	}
	return slog.AnyValue(out)
}
