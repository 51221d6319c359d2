package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spaceauthz/spaceauthz/membership"
)

// errLostRace marks an attempt that lost to a concurrent transaction and
// may be tried again.
var errLostRace = errors.New("pgstore: lost to a concurrent transaction")

// classify turns the error of a statement on conn into the error of the
// operation op: a lost race is marked with errLostRace, a done ctx is
// reported as such, and anything that says the database is out of reach
// for now wraps membership.ErrUnavailable. Everything else (a constraint
// violation, a missing table) is returned as it is: a bug or a schema that
// was not migrated, not an outage.
func classify(ctx context.Context, conn *pgx.Conn, op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case isLostRace(pgErr.Code):
			return fmt.Errorf("pgstore: %s: %w: %w", op, errLostRace, err)
		case isOutage(pgErr.Code) && ctx.Err() == nil:
			return fmt.Errorf("pgstore: %s: %w", op, membership.Unavailable(err))
		}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("pgstore: %s: %w (%v)", op, ctxErr, err)
	}
	if pgErr != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	var netErr net.Error
	if (conn != nil && conn.IsClosed()) || errors.As(err, &netErr) || pgconn.Timeout(err) {
		return fmt.Errorf("pgstore: %s: %w", op, membership.Unavailable(err))
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// isLostRace reports whether a SQLSTATE says the transaction lost to a
// concurrent one: serialization_failure or deadlock_detected.
func isLostRace(code string) bool {
	return code == "40001" || code == "40P01"
}

// isOutage reports whether a SQLSTATE says the server cannot serve for
// now: a connection exception (class 08), insufficient resources (53), an
// operator intervention such as a shutdown or a statement or lock timeout
// (57, 55P03), or a transaction whose completion is unknown (40003).
func isOutage(code string) bool {
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") || strings.HasPrefix(code, "57") ||
		code == "55P03" || code == "40003"
}
