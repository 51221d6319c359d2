// Package membership is the façade of spaceauthz: the domain, the
// operations on space memberships (AddUserToSpace, RemoveUserFromSpace,
// ListSpaceMembers) and on organization memberships
// (AddUserToOrganization, RemoveUserFromOrganization, which removes the
// user from the organization's spaces too, in one atomic step), the spaces a
// caller can see (GetSpace, ListSpaces), their typed errors, and the small
// interfaces they consume (Store, Seeder, Authorizer, and ReadFilterer for
// an Authorizer that can turn its read rule into a filter). docs/contract.md
// states the checks of each operation and their order.
//
// A host builds a Service once, from a Store (for example memstore.New) and an
// Authorizer (for example the Rego engine of package policy), and calls it
// from any number of goroutines:
//
//	engine, err := policy.New()
//	svc, err := membership.NewService(memstore.New(), engine)
//	m, err := svc.AddUserToSpace(ctx, membership.AddUserRequest{...})
//	err = svc.RemoveUserFromSpace(ctx, membership.RemoveUserRequest{...})
//	page, err := svc.ListSpaceMembers(ctx, membership.ListMembersRequest{...})
//	om, err := svc.AddUserToOrganization(ctx, membership.AddOrganizationUserRequest{...})
//	err = svc.RemoveUserFromOrganization(ctx, membership.RemoveOrganizationUserRequest{...})
//	sp, err := svc.GetSpace(ctx, membership.GetSpaceRequest{...})
//	spaces, err := svc.ListSpaces(ctx, membership.ListSpacesRequest{...})
//
// A transport authenticates the caller and hands the rest over through
// ParseAddUserRequest, ParseRemoveUserRequest, ParseListMembersRequest,
// ParseAddOrganizationUserRequest, ParseRemoveOrganizationUserRequest,
// ParseGetSpaceRequest and ParseListSpacesRequest, which run each
// operation's input checks.
//
// # Lists that cost what their filter costs
//
// ListSpaces answers exactly the spaces GetSpace would answer for, but it
// does not decide every space of the account. The policy hands the Store
// its read rule as a Condition (ReadFilter, from package policy's engine);
// the Store plans from it which records to read (Condition.Plan: the
// caller's own memberships, one organization, or the whole account only
// for a caller whom the rule lets read it all) and tests it on each space
// it finds, in space id order, one snapshot per page. A rule the engine
// cannot translate still filters what it can, and the Store asks the
// Authorizer about each space that passes.
//
// Every error returned by the Service is an *Error that carries its HTTP
// status and error_code; compare with errors.Is against the Err* sentinels,
// or take it apart with errors.As. A transport defines error classes of its
// own with NewErrorClass.
package membership
