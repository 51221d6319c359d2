package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The input document is built as an ast.Value straight from the typed
// facts: no maps, no JSON, no reflection on the request path.

// inputValue builds the input document of f (see the package doc).
func inputValue(f *membership.Facts) ast.Value {
	return ast.NewObject(
		item("actor", actorTerm(f)),
		item("organization", organizationTerm(f.Organization)),
		item("space", spaceTerm(f.Space)),
		item("target", targetTerm(f)),
		item("role", roleTerm(f.Request.Role)),
		item("custom_role", customRoleTerm(f.CustomRole)),
		item("membership", membershipTerm(f.Existing)),
	)
}

func item(key string, value *ast.Term) [2]*ast.Term {
	return ast.Item(ast.InternedTerm(key), value)
}

func str(s string) *ast.Term { return ast.StringTerm(s) }

func userItems(u *membership.User) [][2]*ast.Term {
	return [][2]*ast.Term{
		item("id", str(string(u.ID))),
		item("account_id", str(string(u.AccountID))),
		item("name", str(u.Name)),
		item("email", str(u.Email)),
		item("role", ast.InternedTerm(u.Role.String())),
	}
}

func actorTerm(f *membership.Facts) *ast.Term {
	if f.Actor == nil {
		return ast.NullTerm()
	}
	items := append(userItems(f.Actor),
		item("organization_role", grantTerm(f.ActorOrganizationRole)),
		item("space_role", grantTerm(f.ActorSpaceRole)),
	)
	return ast.ObjectTerm(items...)
}

func targetTerm(f *membership.Facts) *ast.Term {
	if f.Target == nil {
		return ast.NullTerm()
	}
	items := append(userItems(f.Target),
		item("organization_role", grantTerm(f.TargetOrganizationRole)),
	)
	return ast.ObjectTerm(items...)
}

func organizationTerm(o *membership.Organization) *ast.Term {
	if o == nil {
		return ast.NullTerm()
	}
	return ast.ObjectTerm(
		item("id", str(string(o.ID))),
		item("account_id", str(string(o.AccountID))),
		item("name", str(o.Name)),
	)
}

func spaceTerm(s *membership.Space) *ast.Term {
	if s == nil {
		return ast.NullTerm()
	}
	return ast.ObjectTerm(
		item("id", str(string(s.ID))),
		item("organization_id", str(string(s.OrganizationID))),
		item("name", str(s.Name)),
		item("is_private", ast.InternedTerm(s.IsPrivate)),
	)
}

func roleItems(r membership.RoleAssignment) [][2]*ast.Term {
	if r.Kind == membership.RoleKindCustom {
		return [][2]*ast.Term{
			item("type", ast.InternedTerm(r.Kind.String())),
			item("id", str(string(r.ID))),
		}
	}
	return [][2]*ast.Term{
		item("type", ast.InternedTerm(r.Kind.String())),
		item("name", ast.InternedTerm(r.Name.String())),
	}
}

func roleTerm(r membership.RoleAssignment) *ast.Term {
	return ast.ObjectTerm(roleItems(r)...)
}

func grantTerm(g membership.Grant) *ast.Term {
	if !g.Held() {
		return ast.NullTerm()
	}
	items := roleItems(g.Role)
	if g.Role.Kind == membership.RoleKindCustom {
		items = append(items, item("custom_role", customRoleTerm(g.CustomRole)))
	}
	return ast.ObjectTerm(items...)
}

func customRoleTerm(r *membership.CustomRole) *ast.Term {
	if r == nil {
		return ast.NullTerm()
	}
	perms := make([]*ast.Term, len(r.Permissions))
	for i, p := range r.Permissions {
		perms[i] = str(string(p))
	}
	return ast.ObjectTerm(
		item("id", str(string(r.ID))),
		item("account_id", str(string(r.AccountID))),
		item("name", str(r.Name)),
		item("permissions", ast.ArrayTerm(perms...)),
	)
}

func membershipTerm(m *membership.Membership) *ast.Term {
	if m == nil {
		return ast.NullTerm()
	}
	return ast.ObjectTerm(
		item("id", str(string(m.ID))),
		item("user_id", str(string(m.UserID))),
		item("space_id", str(string(m.SpaceID))),
		item("role", roleTerm(m.Role)),
	)
}

// InputDocument returns the input document the engine evaluates for f, as
// plain JSON values (map[string]any, []any, string, bool, nil). Use it to
// look at what a policy sees, to feed `opa eval`, or to build test inputs.
func InputDocument(f *membership.Facts) map[string]any {
	doc, err := ast.JSON(inputValue(f))
	if err != nil {
		// inputValue builds only objects, arrays, strings, booleans and null,
		// which ast.JSON always converts.
		panic("policy: input document: " + err.Error())
	}
	return doc.(map[string]any)
}
