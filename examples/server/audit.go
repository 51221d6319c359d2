package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
)

// requestOrigin returns what the audit log keeps of r: the client's
// address and body, the bytes of the body exactly as the handler read them
// (empty for a request that has none).
//
// The address is the host part of r.RemoteAddr, the peer of the
// connection. X-Forwarded-For and its kin are not read: any client can
// send them with whatever address it likes, and an audit entry must not
// take a client's word for where it is. A host behind its own proxy knows
// which of those headers that proxy sets and can trust it there. A
// RemoteAddr that is not host:port (a listener other than TCP) leaves the
// address empty rather than recording something that is not one.
func requestOrigin(r *http.Request, body []byte) membership.Origin {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = ""
	}
	return membership.Origin{IP: ip, Body: string(body)}
}

// listAuditLogs serves
// GET /v2/audit-logs?start_time=&end_time=&user_id=&operation_type=&limit=&cursor=
// for an authenticated actor: the checks of a read of the audit log
// through membership.ParseListAuditLogsRequest and Service.ListAuditLogs,
// which gets timeout to finish and decides that the actor is an account
// ADMIN. The answer is 200 with the page, newest first.
//
// The query string is parsed strictly, as for the list of spaces (see
// parseQueryOf), and every input check comes before the 403 of a caller
// who may not read the log, which only the policy decides.
func listAuditLogs(svc *membership.Service, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := parseQueryOf(r, membership.ParseListAuditLogsRequest)
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		page, err := svc.ListAuditLogs(ctx, req)
		writeResult(w, r, page, err, "the page")
	})
}
