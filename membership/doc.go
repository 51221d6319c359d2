// Package membership is the façade of spaceauthz: the domain of SPEC section 2,
// the AddUserToSpace operation of section 3, its typed errors, and the small
// interfaces it consumes (Store, Authorizer).
//
// A host builds a Service once, from a Store (for example memstore.New) and an
// Authorizer (for example the Rego engine of package policy), and calls
// AddUserToSpace from any number of goroutines:
//
//	engine, err := policy.New()
//	svc, err := membership.NewService(memstore.New(), engine)
//	m, err := svc.AddUserToSpace(ctx, membership.AddUserRequest{...})
//
// Every error returned by the Service is an *Error that carries its HTTP
// status and error_code; compare with errors.Is against the Err* sentinels,
// or take it apart with errors.As.
package membership
