package main

import (
	"errors"

	"github.com/spaceauthz/spaceauthz/internal/native"
	"github.com/spaceauthz/spaceauthz/membership"
)

// StreamShape says what a stream asks for, by the answers of the
// hand-written check: how many adds are allowed, how many are denied with
// each error_code, and how many cross accounts. The report prints it so
// that a reader can judge how realistic the traffic is.
type StreamShape struct {
	Requests     int                     `json:"requests"`
	Allowed      int                     `json:"allowed"`
	CrossAccount int                     `json:"cross_account"`
	Denied       map[membership.Code]int `json:"denied"`
}

// deniedCodes are the error_codes the policy answers, in check order.
var deniedCodes = []membership.Code{
	membership.CodeUnauthenticated,
	membership.CodeSpaceNotFound,
	membership.CodeForbidden,
	membership.CodeUserNotFound,
	membership.CodeRoleNotFound,
	membership.CodeUserNotInOrganization,
	membership.CodeAnnotatorRoleRequired,
	membership.CodeAnnotatorRoleNotAllowed,
}

func shapeOf(cases []trafficCase) StreamShape {
	shape := StreamShape{Requests: len(cases), Denied: map[membership.Code]int{}}
	for _, c := range cases {
		if c.crossAccount {
			shape.CrossAccount++
		}
		code := answer(native.Decide(c.facts))
		if code == "" {
			shape.Allowed++
			continue
		}
		shape.Denied[code]++
	}
	return shape
}

// answer returns the error_code a client receives for d, or "" for an
// allow.
func answer(d membership.Decision) membership.Code {
	var e *membership.Error
	if errors.As(d.Err(), &e) {
		return e.Code
	}
	return ""
}

func (s StreamShape) share(n int) float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(n) / float64(s.Requests)
}
