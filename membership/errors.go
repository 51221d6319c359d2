package membership

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Code is the stable, machine-readable error_code of an Error.
type Code string

// The error codes of the operations, in the order in which the checks that
// produce them run, then the failures.
const (
	CodeUnauthenticated         Code = "unauthenticated"
	CodeInvalidJSON             Code = "invalid_json"
	CodeInvalidID               Code = "invalid_id"
	CodeInvalidField            Code = "invalid_field"
	CodeSpaceNotFound           Code = "space_not_found"
	CodeOrganizationNotFound    Code = "organization_not_found"
	CodeForbidden               Code = "forbidden"
	CodeUserNotFound            Code = "user_not_found"
	CodeMembershipNotFound      Code = "membership_not_found"
	CodeRoleNotFound            Code = "role_not_found"
	CodeUserNotInOrganization   Code = "user_not_in_organization"
	CodeAnnotatorRoleRequired   Code = "annotator_role_required"
	CodeAnnotatorRoleNotAllowed Code = "annotator_role_not_allowed"
	CodeInternal                Code = "internal"
	CodeUnavailable             Code = "unavailable"
)

// Sentinels, one per error class. Every error the package returns is an
// *Error that matches exactly one of them (or, for a deny by a host's own
// Rego rule, none of them) under errors.Is. The sentinels themselves must not
// be modified.
var (
	ErrUnauthenticated         = class(CodeUnauthenticated, http.StatusUnauthorized, "Unauthenticated", "the caller is not authenticated")
	ErrInvalidJSON             = class(CodeInvalidJSON, http.StatusBadRequest, "Invalid JSON", "the request body is not valid JSON of the expected types")
	ErrInvalidID               = class(CodeInvalidID, http.StatusBadRequest, "Invalid ID", "the value is not an ID")
	ErrInvalidField            = class(CodeInvalidField, http.StatusUnprocessableEntity, "Invalid field", "a field is missing, unknown, duplicated or has an unknown value")
	ErrSpaceNotFound           = class(CodeSpaceNotFound, http.StatusNotFound, "Space not found", "no such space is visible to the caller")
	ErrOrganizationNotFound    = class(CodeOrganizationNotFound, http.StatusNotFound, "Organization not found", "no such organization is visible to the caller")
	ErrForbidden               = class(CodeForbidden, http.StatusForbidden, "Forbidden", "the caller may not make this change in this space")
	ErrUserNotFound            = class(CodeUserNotFound, http.StatusNotFound, "User not found", "no such user exists in the account")
	ErrMembershipNotFound      = class(CodeMembershipNotFound, http.StatusNotFound, "Membership not found", "the user is not a member of the space")
	ErrRoleNotFound            = class(CodeRoleNotFound, http.StatusNotFound, "Role not found", "no such custom role exists in the account")
	ErrUserNotInOrganization   = class(CodeUserNotInOrganization, http.StatusBadRequest, "User not in organization", "the user is not a member of the space's organization")
	ErrAnnotatorRoleRequired   = class(CodeAnnotatorRoleRequired, http.StatusBadRequest, "Annotator role required", "a user whose account role is ANNOTATOR can only be given the annotator space role")
	ErrAnnotatorRoleNotAllowed = class(CodeAnnotatorRoleNotAllowed, http.StatusBadRequest, "Annotator role not allowed", "only a user whose account role is ANNOTATOR can be given the annotator space role")
	ErrInternal                = class(CodeInternal, http.StatusInternalServerError, "Internal error", "an internal error occurred; nothing was written")
	ErrUnavailable             = class(CodeUnavailable, http.StatusServiceUnavailable, "Service unavailable", "the service is temporarily unavailable; nothing was written")
)

// sentinels indexes the classes by code, in check order.
var sentinels = []*Error{
	ErrUnauthenticated, ErrInvalidJSON, ErrInvalidID, ErrInvalidField,
	ErrSpaceNotFound, ErrOrganizationNotFound, ErrForbidden, ErrUserNotFound, ErrMembershipNotFound, ErrRoleNotFound,
	ErrUserNotInOrganization, ErrAnnotatorRoleRequired, ErrAnnotatorRoleNotAllowed,
	ErrInternal, ErrUnavailable,
}

// Error is the one error type of the package: an error class (Code and
// Status) and an explanation of this occurrence (Detail, and Field or Rule
// where they apply). Detail is written for the API's clients and never holds
// internal detail; the cause of an internal error is reachable only through
// errors.Unwrap, for logs.
type Error struct {
	Code   Code
	Status int
	// Detail explains this occurrence to a client.
	Detail string
	// Field is the JSON path of the offending request field, as in
	// "role.name", for the invalid_* codes.
	Field string
	// Rule names the policy rule that denied, for policy decisions.
	Rule string

	title string
	cause error
}

// class makes the sentinel of an error class.
func class(code Code, status int, title, detail string) *Error {
	return &Error{Code: code, Status: status, title: title, Detail: detail}
}

// NewErrorClass returns the sentinel of an error class of a transport's
// own, such as an HTTP server's route_not_found: an *Error that renders as
// a problem document like the library's own and matches, under errors.Is,
// every *Error with its code. Its code must differ from the library's.
// Like every sentinel it must not be modified; WithDetail makes an
// occurrence.
func NewErrorClass(code Code, status int, title, detail string) *Error {
	return class(code, status, title, detail)
}

// Error implements error. It ends with the cause, if any, for logs: a 503
// logged as "unavailable: ...: dial unix ...: connection refused" says why.
// The client sees Detail alone (see Problem).
func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Detail
	if e.Field != "" {
		msg = fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Detail)
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error of the same class, so that
// errors.Is(err, ErrForbidden) holds for every forbidden error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithDetail returns a copy of e with its own detail, for a transport that
// explains an occurrence of one of the classes itself. The detail is sent to
// the client: it must hold no internal detail.
func (e *Error) WithDetail(detail string) *Error {
	c := *e
	c.Detail = detail
	return &c
}

// with returns a copy of the class e with its own detail and field.
func (e *Error) with(field, detail string) *Error {
	c := *e
	c.Field, c.Detail = field, detail
	return &c
}

// Internal wraps cause as a 500 internal error. The cause stays out of the
// client-facing detail.
func Internal(cause error) *Error {
	c := *ErrInternal
	c.cause = cause
	return &c
}

// Unavailable wraps cause as a 503 unavailable error. A Store returns it (or
// an error wrapping ErrUnavailable) when it cannot serve for a while.
func Unavailable(cause error) *Error {
	c := *ErrUnavailable
	c.cause = cause
	return &c
}

// asError turns any error into an *Error: an *Error is kept as it is, an
// error that wraps one takes its class and keeps the whole chain as the
// cause, a deadline that ran out is 503 unavailable (nothing was written,
// and a retry may succeed), and everything else is hidden behind 500
// internal.
func asError(err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.DeadlineExceeded) {
			return Unavailable(err)
		}
		return Internal(err)
	}
	if error(e) == err {
		return e
	}
	c := *e
	c.cause = err
	return &c
}
