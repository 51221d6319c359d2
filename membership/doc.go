// Package membership is the façade of spaceauthz: the domain, the
// operations on space memberships (AddUserToSpace, RemoveUserFromSpace,
// ListSpaceMembers) and on organization memberships
// (AddUserToOrganization, RemoveUserFromOrganization, which removes the
// user from the organization's spaces too, in one atomic step), their typed
// errors, and the small interfaces they
// consume (Store, Seeder, Authorizer). docs/contract.md states the checks
// of each operation and their order.
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
//
// A transport authenticates the caller and hands the rest over through
// ParseAddUserRequest, ParseRemoveUserRequest, ParseListMembersRequest,
// ParseAddOrganizationUserRequest and ParseRemoveOrganizationUserRequest,
// which run each operation's input checks.
//
// Every error returned by the Service is an *Error that carries its HTTP
// status and error_code; compare with errors.Is against the Err* sentinels,
// or take it apart with errors.As. A transport defines error classes of its
// own with NewErrorClass.
package membership
