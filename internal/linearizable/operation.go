package linearizable

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spaceauthz/spaceauthz/internal/model"
	"github.com/spaceauthz/spaceauthz/membership"
)

// Kind is what an operation does.
type Kind int

// The operations of a history.
const (
	Add Kind = iota
	Remove
	ListMembers
	OrgAdd
	OrgRemove
	GetSpace
	ListSpaces
)

var kindNames = [...]string{"add", "remove", "list_members", "org_add", "org_remove", "get_space", "list_spaces"}

func (k Kind) String() string { return kindNames[k] }

// Input is an operation as a client called it.
type Input struct {
	Kind      Kind
	Partition int
	Actor     string
	// Space is the space of a space operation, Org the organization of an
	// organization operation.
	Space, Org string
	User       string
	Role       model.Role
}

// Output is what an operation observed.
type Output struct {
	// Code and Status are the answer's error_code and HTTP status: OK and
	// 200 on success.
	Code   model.Code
	Status int
	// Unexpected describes an answer the contract never gives to these
	// operations: an error that is not a *membership.Error, a 500 or 503,
	// or a page that does not hold everything. The model accepts no
	// operation that has one.
	Unexpected string
	// ID is the membership id an add answered.
	ID string
	// Members is the page a list of members answered, in its order.
	Members []Member
	// Spaces are the ids of the spaces a list of spaces answered, in its
	// order.
	Spaces []string
}

// Member is a line of a list of members.
type Member struct {
	User, ID string
	Role     model.Role
}

// execute runs in through svc and returns what it observed.
func execute(ctx context.Context, svc *membership.Service, in Input) Output {
	actor, user := membership.ID(in.Actor), membership.ID(in.User)
	switch in.Kind {
	case Add:
		m, err := svc.AddUserToSpace(ctx, membership.AddUserRequest{
			Actor: actor, SpaceID: membership.ID(in.Space), UserID: user, Role: assignment(in.Role),
		})
		out := answer(err)
		out.ID = string(m.ID)
		return out
	case Remove:
		return answer(svc.RemoveUserFromSpace(ctx, membership.RemoveUserRequest{
			Actor: actor, SpaceID: membership.ID(in.Space), UserID: user,
		}))
	case ListMembers:
		return listMembers(ctx, svc, in)
	case OrgAdd:
		m, err := svc.AddUserToOrganization(ctx, membership.AddOrganizationUserRequest{
			Actor: actor, OrganizationID: membership.ID(in.Org), UserID: user, Role: assignment(in.Role),
		})
		out := answer(err)
		out.ID = string(m.ID)
		return out
	case OrgRemove:
		return answer(svc.RemoveUserFromOrganization(ctx, membership.RemoveOrganizationUserRequest{
			Actor: actor, OrganizationID: membership.ID(in.Org), UserID: user,
		}))
	case GetSpace:
		_, err := svc.GetSpace(ctx, membership.GetSpaceRequest{Actor: actor, SpaceID: membership.ID(in.Space)})
		return answer(err)
	case ListSpaces:
		return listSpaces(ctx, svc, in)
	}
	return Output{Unexpected: fmt.Sprintf("unknown operation %d", in.Kind)}
}

// A page of MaxPageSize holds a whole space, and every space of an
// account, in the worlds of this package.
func listMembers(ctx context.Context, svc *membership.Service, in Input) Output {
	page, err := svc.ListSpaceMembers(ctx, membership.ListMembersRequest{
		Actor: membership.ID(in.Actor), SpaceID: membership.ID(in.Space), Limit: membership.MaxPageSize,
	})
	out := answer(err)
	if page.HasMore {
		out.Unexpected = "the list of members does not fit one page"
	}
	for _, m := range page.Members {
		out.Members = append(out.Members, Member{User: string(m.UserID), ID: string(m.ID), Role: modelRole(m.Role)})
	}
	return out
}

func listSpaces(ctx context.Context, svc *membership.Service, in Input) Output {
	page, err := svc.ListSpaces(ctx, membership.ListSpacesRequest{Actor: membership.ID(in.Actor), Limit: membership.MaxPageSize})
	out := answer(err)
	if page.HasMore {
		out.Unexpected = "the list of spaces does not fit one page"
	}
	for _, s := range page.Spaces {
		out.Spaces = append(out.Spaces, string(s.ID))
	}
	return out
}

// answer is the code and status of err.
func answer(err error) Output {
	if err == nil {
		return Output{Code: model.OK, Status: model.Status(model.OK)}
	}
	var me *membership.Error
	if !errors.As(err, &me) {
		return Output{Unexpected: fmt.Sprintf("not a *membership.Error: %v", err)}
	}
	out := Output{Code: model.Code(me.Code), Status: me.Status}
	if me.Code == membership.CodeInternal || me.Code == membership.CodeUnavailable {
		out.Unexpected = err.Error()
	}
	return out
}

// describe renders an operation for a failure and for the visualisation,
// with the world's short names.
func (w *World) describe(in Input, out Output) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s by %s", in.Kind, w.Name(in.Actor))
	switch in.Kind {
	case Add, OrgAdd:
		fmt.Fprintf(&b, ": %s in %s as %s", w.Name(in.User), w.Name(in.Space+in.Org), in.Role.Name)
	case Remove, OrgRemove:
		fmt.Fprintf(&b, ": %s from %s", w.Name(in.User), w.Name(in.Space+in.Org))
	case ListMembers, GetSpace:
		fmt.Fprintf(&b, " of %s", w.Name(in.Space))
	}
	b.WriteString(" → ")
	switch {
	case out.Unexpected != "":
		fmt.Fprintf(&b, "UNEXPECTED %s", out.Unexpected)
	case out.Code != model.OK:
		fmt.Fprintf(&b, "%d %s", out.Status, out.Code)
	case in.Kind == Remove || in.Kind == OrgRemove:
		b.WriteString("204")
	default:
		fmt.Fprintf(&b, "%d", out.Status)
	}
	if out.Code == model.OK && out.Unexpected == "" {
		switch in.Kind {
		case Add, OrgAdd:
			fmt.Fprintf(&b, " id %s", shortID(out.ID))
		case ListMembers:
			b.WriteString(" [" + w.members(out.Members) + "]")
		case ListSpaces:
			b.WriteString(" [" + w.nameAll(out.Spaces) + "]")
		}
	}
	return b.String()
}

func (w *World) members(ms []Member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s %s %s", w.Name(m.User), m.Role.Name, shortID(m.ID))
	}
	return strings.Join(parts, ", ")
}

func (w *World) nameAll(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = w.Name(id)
	}
	return strings.Join(parts, ", ")
}

// shortID is enough of a membership id to tell ids apart in a description.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
