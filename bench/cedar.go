package main

import (
	_ "embed"
	"errors"
	"fmt"

	"github.com/cedar-policy/cedar-go"

	"github.com/spaceauthz/spaceauthz/membership"
)

// cedarSource is the default policy written in Cedar.
//
//go:embed spaceauthz.cedar
var cedarSource []byte

// cedarPolicy is the Cedar policy set and, for each forbid, the violation
// it stands for.
type cedarPolicy struct {
	policies   *cedar.PolicySet
	violations map[cedar.PolicyID]membership.Violation
}

func newCedarPolicy() (*cedarPolicy, error) {
	list, err := cedar.NewPolicyListFromBytes("spaceauthz.cedar", cedarSource)
	if err != nil {
		return nil, err
	}
	cp := &cedarPolicy{policies: cedar.NewPolicySet(), violations: map[cedar.PolicyID]membership.Violation{}}
	for _, p := range list {
		a := p.Annotations()
		id := cedar.PolicyID(a["id"])
		if id == "" || !cp.policies.Add(id, p) {
			return nil, fmt.Errorf("cedar: policy at %v needs a unique @id", p.Position())
		}
		if p.Effect() == cedar.Forbid {
			cp.violations[id] = membership.Violation{Code: membership.Code(a["code"]), Rule: string(a["rule"])}
		}
	}
	return cp, nil
}

// cedarRequest returns the request for f, with the facts as its context.
// The principal, action and resource name the actor, the operation and the
// space, for readers of a request; the policies read only the context.
func cedarRequest(f *membership.Facts) cedar.Request {
	return cedar.Request{
		Principal: cedar.NewEntityUID("User", cedar.String(f.Query.Actor)),
		Action:    cedar.NewEntityUID("Action", cedar.String(f.Query.Operation.String())),
		Resource:  cedar.NewEntityUID("Space", cedar.String(f.Query.SpaceID)),
		Context:   cedarContext(f),
	}
}

// decide authorizes req and names the forbids that applied as violations.
func (cp *cedarPolicy) decide(req cedar.Request) (membership.Decision, error) {
	decision, diag := cedar.Authorize(cp.policies, nil, req)
	if len(diag.Errors) > 0 {
		return membership.Decision{}, fmt.Errorf("cedar: %s: %s", diag.Errors[0].PolicyID, diag.Errors[0].Message)
	}
	if decision == cedar.Allow {
		return membership.Decision{Allow: true}, nil
	}
	var d membership.Decision
	for _, r := range diag.Reasons {
		v, ok := cp.violations[r.PolicyID]
		if !ok {
			return membership.Decision{}, fmt.Errorf("cedar: %s denied without a violation", r.PolicyID)
		}
		d.Violations = append(d.Violations, v)
	}
	if len(d.Violations) == 0 {
		return membership.Decision{}, errors.New("cedar: denied without a reason")
	}
	return d, nil
}

// cedarContext flattens the facts into the record the policies read. It
// mirrors the input document of package policy, with "exists" and "held"
// standing for null: the operation, the records, the requested role and
// the target's current membership of the space.
func cedarContext(f *membership.Facts) cedar.Record {
	actor := cedar.RecordMap{"exists": cedar.False, "account_id": cedar.String(""), "role": cedar.String(""),
		"organization_role": cedarGrant(membership.Grant{}), "space_role": cedarGrant(membership.Grant{})}
	if a := f.Actor; a != nil {
		actor = cedar.RecordMap{
			"exists": cedar.True, "account_id": cedar.String(a.AccountID), "role": cedar.String(a.Role.String()),
			"organization_role": cedarGrant(f.ActorOrganizationRole), "space_role": cedarGrant(f.ActorSpaceRole),
		}
	}
	organization := cedar.RecordMap{"exists": cedar.False, "id": cedar.String(""), "account_id": cedar.String("")}
	if o := f.Organization; o != nil {
		organization = cedar.RecordMap{"exists": cedar.True, "id": cedar.String(o.ID), "account_id": cedar.String(o.AccountID)}
	}
	space := cedar.RecordMap{"exists": cedar.False, "organization_id": cedar.String(""), "is_private": cedar.False}
	if s := f.Space; s != nil {
		space = cedar.RecordMap{"exists": cedar.True, "organization_id": cedar.String(s.OrganizationID), "is_private": cedar.Boolean(s.IsPrivate)}
	}
	target := cedar.RecordMap{"exists": cedar.False, "account_id": cedar.String(""), "role": cedar.String(""),
		"organization_role": cedarGrant(membership.Grant{})}
	if t := f.Target; t != nil {
		target = cedar.RecordMap{
			"exists": cedar.True, "account_id": cedar.String(t.AccountID), "role": cedar.String(t.Role.String()),
			"organization_role": cedarGrant(f.TargetOrganizationRole),
		}
	}
	existing := cedar.RecordMap{"exists": cedar.False, "role": cedar.NewRecord(cedarRole(membership.RoleAssignment{}))}
	if m := f.Existing; m != nil {
		existing = cedar.RecordMap{"exists": cedar.True, "role": cedar.NewRecord(cedarRole(m.Role))}
	}
	return cedar.NewRecord(cedar.RecordMap{
		"operation":    cedar.String(f.Query.Operation.String()),
		"membership":   cedar.NewRecord(existing),
		"actor":        cedar.NewRecord(actor),
		"organization": cedar.NewRecord(organization),
		"space":        cedar.NewRecord(space),
		"target":       cedar.NewRecord(target),
		"role":         cedar.NewRecord(cedarRole(f.Query.Role)),
		"custom_role":  cedarCustomRole(f.CustomRole),
	})
}

func cedarRole(r membership.RoleAssignment) cedar.RecordMap {
	m := cedar.RecordMap{"type": cedar.String(r.Kind.String()), "name": cedar.String(""), "id": cedar.String("")}
	if r.Kind == membership.RoleKindCustom {
		m["id"] = cedar.String(r.ID)
	} else {
		m["name"] = cedar.String(r.Name.String())
	}
	return m
}

func cedarGrant(g membership.Grant) cedar.Record {
	m := cedarRole(g.Role)
	m["held"] = cedar.Boolean(g.Held())
	m["custom_role"] = cedarCustomRole(g.CustomRole)
	return cedar.NewRecord(m)
}

func cedarCustomRole(r *membership.CustomRole) cedar.Record {
	if r == nil {
		return cedar.NewRecord(cedar.RecordMap{
			"exists": cedar.False, "id": cedar.String(""), "account_id": cedar.String(""), "permissions": cedar.NewSet(),
		})
	}
	permissions := make([]cedar.Value, len(r.Permissions))
	for i, p := range r.Permissions {
		permissions[i] = cedar.String(p)
	}
	return cedar.NewRecord(cedar.RecordMap{
		"exists": cedar.True, "id": cedar.String(r.ID), "account_id": cedar.String(r.AccountID),
		"permissions": cedar.NewSet(permissions...),
	})
}
