package membership_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

func ExampleService_AddUserToSpace() {
	ctx := context.Background()
	store := memstore.New()
	if err := fixture.Seed(ctx, store, fixture.Demo()); err != nil {
		panic(err)
	}
	engine, err := policy.New()
	if err != nil {
		panic(err)
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		panic(err)
	}

	// Ada, the demo account's admin, makes Grace a member of llm-evals.
	m, err := svc.AddUserToSpace(ctx, membership.AddUserRequest{
		Actor:   "VXNlcjox",
		SpaceID: "U3BhY2U6MQ==",
		UserID:  "VXNlcjoy",
		Role:    membership.Predefined(membership.RoleMember),
	})
	fmt.Println(m.UserID, m.Role, err)

	// Barbara, a plain member of the space, may not do the same.
	_, err = svc.AddUserToSpace(ctx, membership.AddUserRequest{
		Actor:   "VXNlcjo0",
		SpaceID: "U3BhY2U6MQ==",
		UserID:  "VXNlcjoy",
		Role:    membership.Predefined(membership.RoleMember),
	})
	var e *membership.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code, errors.Is(err, membership.ErrForbidden))
	}
	// Output:
	// VXNlcjoy PREDEFINED/MEMBER <nil>
	// 403 forbidden true
}

func ExampleParseAddUserRequest() {
	body := []byte(`{"user_id": "VXNlcjoy", "role": {"type": "PREDEFINED", "name": "READ_ONLY"}}`)
	req, err := membership.ParseAddUserRequest("VXNlcjox", "U3BhY2U6MQ==", body)
	fmt.Println(req.UserID, req.Role, err)

	_, err = membership.ParseAddUserRequest("VXNlcjox", "U3BhY2U6MQ==", []byte(`{"user_id": "VXNlcjoy"}`))
	fmt.Println(err)
	// Output:
	// VXNlcjoy PREDEFINED/READ_ONLY <nil>
	// invalid_field: role: role is required
}

func ExampleError_Problem() {
	p := membership.ProblemFor(membership.ErrRoleNotFound)
	fmt.Printf("%s\n%s\n%d %s\n", p.Type, p.Title, p.Status, p.ErrorCode)
	// Output:
	// urn:spaceauthz:problem:role_not_found
	// Role not found
	// 404 role_not_found
}
