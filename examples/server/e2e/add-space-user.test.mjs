// End-to-end test: the published TypeScript client of the Arize API,
// @arizeai/ax-client, talks to examples/server over loopback: its own calls
// addSpaceUser (POST /v2/spaces/{space_id}/users), removeSpaceUser
// (DELETE /v2/spaces/{space_id}/users/{user_id}), addOrganizationUser
// (POST /v2/organizations/{org_id}/users) and removeOrganizationUser
// (DELETE /v2/organizations/{org_id}/users/{user_id}). The client has no
// call for listing a space's members, so the list is left to the Go tests,
// and the cascade of an organization removal is seen here through the space
// calls: a removed membership answers 404, a kept one upserts with its id.
// spaces.test.mjs covers the client's getSpace and listSpaces; harness.mjs
// builds, starts and stops the server.
//
// Run with `npm ci && npm test` in this folder.

import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  addOrganizationUser,
  addSpaceUser,
  removeOrganizationUser,
  removeSpaceUser,
  APIError,
  AuthenticationError,
  AuthorizationError,
  BadRequestError,
  NotFoundError,
} from "@arizeai/ax-client";

import { clientFor, key, org, rejectsWith, role, space, user, useServer } from "./harness.mjs";

describe("@arizeai/ax-client addSpaceUser against examples/server", () => {
  const demo = useServer();

  let graceMembershipId;

  test("a predefined role", async () => {
    const m = await addSpaceUser({
      client: clientFor(demo.addr, key.admin),
      spaceId: space.llmEvals,
      userId: user.grace,
      role: { type: "PREDEFINED", name: "MEMBER" },
    });
    assert.match(m.id, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.deepEqual(m, {
      id: m.id,
      userId: user.grace,
      spaceId: space.llmEvals,
      role: { type: "PREDEFINED", name: "MEMBER" },
    });
    graceMembershipId = m.id;
  });

  test("an upsert keeps the id and takes the new role", async () => {
    const m = await addSpaceUser({
      client: clientFor(demo.addr, key.admin),
      spaceId: space.llmEvals,
      userId: user.grace,
      role: { type: "PREDEFINED", name: "ADMIN" },
    });
    assert.deepEqual(m, {
      id: graceMembershipId,
      userId: user.grace,
      spaceId: space.llmEvals,
      role: { type: "PREDEFINED", name: "ADMIN" },
    });
  });

  test("a custom role, assigned by a holder of ROLE_BINDING_CREATE", async () => {
    const m = await addSpaceUser({
      client: clientFor(demo.addr, key.binder),
      spaceId: space.llmEvals,
      userId: user.barbara,
      role: { type: "CUSTOM", id: role.reviewer },
    });
    assert.deepEqual(m, {
      id: m.id,
      userId: user.barbara,
      spaceId: space.llmEvals,
      role: { type: "CUSTOM", id: role.reviewer, name: "Reviewer" },
    });
  });

  // One error of each status class, each raised as the client's own error
  // type: [name, API key, space, user, role, error class, status, detail].
  const errorCases = [
    ["400: the user is not in the space's organization", key.admin, space.llmEvals, user.ken,
      { type: "PREDEFINED", name: "MEMBER" }, BadRequestError, 400, "not a member of the space's organization"],
    ["400: the user id is not an ID", key.admin, space.llmEvals, "User:2",
      { type: "PREDEFINED", name: "MEMBER" }, BadRequestError, 400, "user_id is not an ID"],
    ["401: an unknown API key", "not-a-demo-key", space.llmEvals, user.grace,
      { type: "PREDEFINED", name: "MEMBER" }, AuthenticationError, 401, "the API key is not valid"],
    ["403: a space member may not assign roles", key.member, space.llmEvals, user.grace,
      { type: "PREDEFINED", name: "READ_ONLY" }, AuthorizationError, 403, undefined],
    ["404: a private space the caller cannot read", key.binder, space.redTeam, user.barbara,
      { type: "CUSTOM", id: role.binder }, NotFoundError, 404, "no such space"],
    ["404: a user that does not exist", key.admin, space.llmEvals, user.missing,
      { type: "PREDEFINED", name: "MEMBER" }, NotFoundError, 404, "no such user"],
    ["422: an unknown predefined role", key.admin, space.llmEvals, user.grace,
      { type: "PREDEFINED", name: "OWNER" }, APIError, 422, "role.name"],
  ];
  for (const [name, apiKey, spaceId, userId, assigned, errorClass, status, detail] of errorCases) {
    test(name, async () => {
      await rejectsWith(addSpaceUser({ client: clientFor(demo.addr, apiKey), spaceId, userId, role: assigned }), errorClass, status, detail);
    });
  }
});

describe("@arizeai/ax-client removeSpaceUser against examples/server", () => {
  const demo = useServer({ route: "DELETE /v2/spaces/{space_id}/users/{user_id}" });

  test("a space admin removes a member", async () => {
    const result = await removeSpaceUser({
      client: clientFor(demo.addr, key.spaceAdmin),
      spaceId: space.llmEvals,
      userId: user.barbara,
    });
    // 204: the call resolves with nothing.
    assert.equal(result, undefined);
  });

  // The client's errors, each raised as its own error type, in the order of
  // the checks of a remove: [name, API key, space, user, error class,
  // status, detail]. The tests run in order, after the remove above.
  const errorCases = [
    ["401: an unknown API key", "not-a-demo-key", space.llmEvals, user.linus,
      AuthenticationError, 401, "the API key is not valid"],
    ["400: the user id is not an ID", key.admin, space.llmEvals, "User:4",
      BadRequestError, 400, "user_id is not an ID"],
    ["404: a private space the caller cannot read", key.member, space.redTeam, user.grace,
      NotFoundError, 404, "no such space"],
    ["403: a space member may not remove", key.member, space.llmEvals, user.linus,
      AuthorizationError, 403, "may not make this change"],
    ["403: ROLE_BINDING_CREATE is not the authority to remove", key.binder, space.llmEvals, user.linus,
      AuthorizationError, 403, "may not make this change"],
    ["404: a user that does not exist", key.admin, space.llmEvals, user.missing,
      NotFoundError, 404, "no such user"],
    ["404: removing again (membership_not_found)", key.spaceAdmin, space.llmEvals, user.barbara,
      NotFoundError, 404, "the user is not a member of the space"],
  ];
  for (const [name, apiKey, spaceId, userId, errorClass, status, detail] of errorCases) {
    test(name, async () => {
      await rejectsWith(removeSpaceUser({ client: clientFor(demo.addr, apiKey), spaceId, userId }), errorClass, status, detail);
    });
  }
});

describe("ids with '/' and '+' in the path", () => {
  const demo = useServer({ fixture: "reserved_chars.json" });

  for (const spaceId of ["U3BhY2U6+/+/", "U3BhY2U6++//AQ=="]) {
    test(`space ${spaceId}`, async () => {
      const m = await addSpaceUser({
        client: clientFor(demo.addr, "reserved-admin-key"),
        spaceId,
        userId: "VXNlcjr7/74=",
        role: { type: "CUSTOM", id: "Um9sZTr7/w==" },
      });
      assert.deepEqual(m, {
        id: m.id,
        userId: "VXNlcjr7/74=",
        spaceId,
        role: { type: "CUSTOM", id: "Um9sZTr7/w==", name: "Slasher" },
      });
    });
  }

  // The memberships added above, removed through both encoded ids.
  for (const spaceId of ["U3BhY2U6+/+/", "U3BhY2U6++//AQ=="]) {
    test(`remove from space ${spaceId}`, async () => {
      const client = clientFor(demo.addr, "reserved-admin-key");
      assert.equal(await removeSpaceUser({ client, spaceId, userId: "VXNlcjr7/74=" }), undefined);
      await rejectsWith(removeSpaceUser({ client, spaceId, userId: "VXNlcjr7/74=" }), NotFoundError, 404, "not a member of the space");
    });
  }
});

describe("@arizeai/ax-client addOrganizationUser against examples/server", () => {
  const demo = useServer();

  // The adds, in order: [name, API key, user, role, role answered]. Each
  // add of Ken after the first is an upsert, which keeps the first id.
  const adds = [
    ["a predefined role", key.admin, user.ken, { type: "PREDEFINED", name: "MEMBER" }, undefined],
    ["an organization admin's upsert takes the new role", key.orgAdmin, user.ken,
      { type: "PREDEFINED", name: "READ_ONLY" }, undefined],
    ["a custom role, answered with its name", key.orgAdmin, user.ken,
      { type: "CUSTOM", id: role.reviewer }, { type: "CUSTOM", id: role.reviewer, name: "Reviewer" }],
    ["an annotator gets the annotator role", key.admin, user.ann, { type: "PREDEFINED", name: "ANNOTATOR" }, undefined],
  ];
  const firstIds = new Map();
  for (const [name, apiKey, userId, assigned, answered] of adds) {
    test(name, async () => {
      const m = await addOrganizationUser({ client: clientFor(demo.addr, apiKey), organizationId: org.research, userId, role: assigned });
      assert.match(m.id, /^[A-Za-z0-9+/]+={0,2}$/);
      if (!firstIds.has(userId)) {
        firstIds.set(userId, m.id);
      }
      assert.deepEqual(m, { id: firstIds.get(userId), userId, organizationId: org.research, role: answered ?? assigned });
    });
  }

  // Each error the client raises for the call, as its own error type:
  // [name, API key, organization, user, role, error class, status, detail].
  const member = { type: "PREDEFINED", name: "MEMBER" };
  const errorCases = [
    ["400: the organization id is not an ID", key.admin, "Org:1", user.ken, member,
      BadRequestError, 400, "organization_id is not an ID"],
    ["400: the user id is not an ID", key.admin, org.research, "User:7", member,
      BadRequestError, 400, "user_id is not an ID"],
    ["400: an annotator may only be an annotator", key.admin, org.research, user.ann, member,
      BadRequestError, 400, "can only be given the annotator organization role"],
    ["400: only an annotator may be an annotator", key.admin, org.research, user.ken,
      { type: "PREDEFINED", name: "ANNOTATOR" }, BadRequestError, 400, "only a user whose account role is ANNOTATOR"],
    ["401: an unknown API key", "not-a-demo-key", org.research, user.ken, member,
      AuthenticationError, 401, "the API key is not valid"],
    ["403: an organization member is no organization admin", key.member, org.research, user.ken, member,
      AuthorizationError, 403, "may not change the members of this organization"],
    ["403: neither is a holder of a custom role", key.binder, org.research, user.ken,
      { type: "CUSTOM", id: role.binder }, AuthorizationError, 403, "may not change the members of this organization"],
    ["404: an organization of another account", key.admin, org.other, user.ken, member,
      NotFoundError, 404, "no such organization"],
    ["404: an actor of another account", key.other, org.research, user.ken, member,
      NotFoundError, 404, "no such organization"],
    ["404: a user that does not exist", key.admin, org.research, user.missing, member,
      NotFoundError, 404, "no such user"],
    ["404: a custom role that does not exist", key.admin, org.research, user.ken,
      { type: "CUSTOM", id: role.missing }, NotFoundError, 404, "no such custom role"],
    ["422: an unknown predefined role", key.admin, org.research, user.ken,
      { type: "PREDEFINED", name: "OWNER" }, APIError, 422, "role.name"],
  ];
  for (const [name, apiKey, organizationId, userId, assigned, errorClass, status, detail] of errorCases) {
    test(name, async () => {
      await rejectsWith(
        addOrganizationUser({ client: clientFor(demo.addr, apiKey), organizationId, userId, role: assigned }),
        errorClass, status, detail,
      );
    });
  }
});

describe("@arizeai/ax-client removeOrganizationUser against examples/server", () => {
  const demo = useServer({ route: "DELETE /v2/organizations/{org_id}/users/{user_id}" });

  test("an organization admin removes a member", async () => {
    const result = await removeOrganizationUser({
      client: clientFor(demo.addr, key.orgAdmin),
      organizationId: org.research,
      userId: user.barbara,
    });
    assert.equal(result, undefined);
  });

  test("the removal took her out of the organization's space", async () => {
    const client = clientFor(demo.addr, key.admin);
    await rejectsWith(removeSpaceUser({ client, spaceId: space.llmEvals, userId: user.barbara }),
      NotFoundError, 404, "the user is not a member of the space");
    await rejectsWith(
      addSpaceUser({ client, spaceId: space.llmEvals, userId: user.barbara, role: { type: "PREDEFINED", name: "MEMBER" } }),
      BadRequestError, 400, "not a member of the space's organization",
    );
  });

  // The client's errors in the order of the checks of a remove: [name, API
  // key, organization, user, error class, status, detail]. They run after
  // the removal above, so Barbara is no member any more.
  const errorCases = [
    ["401: an unknown API key", "not-a-demo-key", org.research, user.linus,
      AuthenticationError, 401, "the API key is not valid"],
    ["400: the organization id is not an ID", key.admin, "Org:1", user.linus,
      BadRequestError, 400, "organization_id is not an ID"],
    ["400: the user id is not an ID", key.admin, org.research, "User:3",
      BadRequestError, 400, "user_id is not an ID"],
    ["404: an organization of another account", key.admin, org.other, user.linus,
      NotFoundError, 404, "no such organization"],
    ["404: a removed member can no longer see the organization", key.member, org.research, user.linus,
      NotFoundError, 404, "no such organization"],
    ["403: an organization member is no organization admin", key.spaceAdmin, org.research, user.grace,
      AuthorizationError, 403, "may not change the members of this organization"],
    ["404: a user that does not exist", key.orgAdmin, org.research, user.missing,
      NotFoundError, 404, "no such user"],
    ["404: removing again (membership_not_found)", key.orgAdmin, org.research, user.barbara,
      NotFoundError, 404, "the user is not a member of the organization"],
    ["404: a user who never was a member", key.admin, org.research, user.ken,
      NotFoundError, 404, "the user is not a member of the organization"],
  ];
  for (const [name, apiKey, organizationId, userId, errorClass, status, detail] of errorCases) {
    test(name, async () => {
      await rejectsWith(removeOrganizationUser({ client: clientFor(demo.addr, apiKey), organizationId, userId }), errorClass, status, detail);
    });
  }
});

describe("removeOrganizationUser stops at the organization", () => {
  // testdata/two_organizations.json: Barbara is a member of Research and of
  // Lab, of both spaces of Research and of lab-evals in Lab.
  const labEvals = "U3BhY2U6NA==";
  const adminKey = "two-organizations-admin-key";
  const member = { type: "PREDEFINED", name: "MEMBER" };
  const running = useServer({ fixture: "two_organizations.json", route: "DELETE /v2/organizations/{org_id}/users/{user_id}" });

  test("every space of the organization loses her, a space of another keeps her", async () => {
    const client = clientFor(running.addr, adminKey);
    // Adding the same role again changes nothing and tells the id.
    const kept = await addSpaceUser({ client, spaceId: labEvals, userId: user.barbara, role: member });

    assert.equal(await removeOrganizationUser({ client, organizationId: org.research, userId: user.barbara }), undefined);

    for (const spaceId of [space.llmEvals, space.redTeam]) {
      await rejectsWith(removeSpaceUser({ client, spaceId, userId: user.barbara }), NotFoundError, 404, "the user is not a member of the space");
    }
    const again = await addSpaceUser({ client, spaceId: labEvals, userId: user.barbara, role: member });
    assert.deepEqual(again, kept);
    const lab = await addOrganizationUser({ client, organizationId: org.lab, userId: user.barbara, role: member });
    assert.equal(lab.organizationId, org.lab);
  });
});
