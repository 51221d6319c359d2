# The target's current membership of the space (input.membership), which an
# add replaces and a remove deletes; null when the target is not a member.
package spaceauthz

# The target is a member of the space. (A rule rather than an inline
# is_object test, so that its negation also holds when the member is absent
# from the input altogether.)
target_is_member if is_object(input.membership)

# The target's membership holds the predefined ADMIN role: the target is a
# space admin through it.
membership_is_admin if is_predefined(input.membership.role, "ADMIN")
