package membership

import "fmt"

// RoleKind says which arm of a RoleAssignment is in use.
type RoleKind uint8

// The kinds of role assignment. The zero RoleKind is not a kind.
const (
	RoleKindPredefined RoleKind = iota + 1
	RoleKindCustom
)

// PredefinedRole is one of the roles every space has.
type PredefinedRole uint8

// The predefined roles. The zero PredefinedRole is not a role.
const (
	RoleAdmin PredefinedRole = iota + 1
	RoleMember
	RoleReadOnly
	RoleAnnotator
)

// AccountRole is a user's role in their account.
type AccountRole uint8

// The account roles. The zero AccountRole is not a role.
const (
	AccountAdmin AccountRole = iota + 1
	AccountMember
	AccountAnnotator
)

// Spelling is one of the two accepted wire spellings of the enum values:
// lower-case ("predefined", "read-only") or upper-case ("PREDEFINED",
// "READ_ONLY"), the latter used by current Arize clients.
type Spelling uint8

// The spellings. The zero Spelling is lower-case.
const (
	SpellingLower Spelling = iota
	SpellingUpper
)

// The wire forms of every enum value, indexed by value and Spelling. They
// are the only place where these strings appear; arrays rather than maps,
// because String runs on every authorization.
var (
	kindNames = [...][2]string{
		RoleKindPredefined: {"predefined", "PREDEFINED"},
		RoleKindCustom:     {"custom", "CUSTOM"},
	}
	predefinedNames = [...][2]string{
		RoleAdmin:     {"admin", "ADMIN"},
		RoleMember:    {"member", "MEMBER"},
		RoleReadOnly:  {"read-only", "READ_ONLY"},
		RoleAnnotator: {"annotator", "ANNOTATOR"},
	}
	accountRoleNames = [...][2]string{
		AccountAdmin:     {"admin", "ADMIN"},
		AccountMember:    {"member", "MEMBER"},
		AccountAnnotator: {"annotator", "ANNOTATOR"},
	}
)

// parseEnum finds the value whose wire form is s, and the spelling s used.
// Index 0 of every table is the invalid zero value.
func parseEnum[E ~uint8](names [][2]string, s string) (E, Spelling, bool) {
	for v := 1; v < len(names); v++ {
		for sp, form := range names[v] {
			if form == s {
				return E(v), Spelling(sp), true
			}
		}
	}
	return 0, 0, false
}

// spell returns the wire form of v in spelling sp ("" for an invalid v).
func spell[E ~uint8](names [][2]string, v E, sp Spelling) string {
	if int(v) >= len(names) {
		return ""
	}
	return names[v][sp&1]
}

// known reports whether v is a valid value of its enum.
func known[E ~uint8](names [][2]string, v E) bool {
	return v != 0 && int(v) < len(names)
}

// String returns the upper-case wire form, which is also the form the
// policy input uses.
func (k RoleKind) String() string { return spell(kindNames[:], k, SpellingUpper) }

// String returns the upper-case wire form, which is also the form the
// policy input uses.
func (r PredefinedRole) String() string { return spell(predefinedNames[:], r, SpellingUpper) }

// String returns the upper-case wire form, which is also the form the
// policy input uses.
func (r AccountRole) String() string { return spell(accountRoleNames[:], r, SpellingUpper) }

// Valid reports whether r is one of the account roles.
func (r AccountRole) Valid() bool { return known(accountRoleNames[:], r) }

// ParseAccountRole parses an account role in either spelling. An unknown
// value is an invalid_field *Error.
func ParseAccountRole(s string) (AccountRole, error) {
	r, _, ok := parseEnum[AccountRole](accountRoleNames[:], s)
	if !ok {
		return 0, ErrInvalidField.with("role", fmt.Sprintf("unknown account role %q", s))
	}
	return r, nil
}

// ParsePredefinedRole parses a predefined role name in either spelling
// ("read-only" or "READ_ONLY"). An unknown value is an invalid_field *Error.
func ParsePredefinedRole(s string) (PredefinedRole, error) {
	r, _, ok := parseEnum[PredefinedRole](predefinedNames[:], s)
	if !ok {
		return 0, ErrInvalidField.with("role.name", fmt.Sprintf("unknown predefined role %q", s))
	}
	return r, nil
}

// MarshalText writes the upper-case form, the one stores and the policy use.
func (r AccountRole) MarshalText() ([]byte, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("invalid account role %d", r)
	}
	return []byte(r.String()), nil
}

// UnmarshalText accepts either spelling.
func (r *AccountRole) UnmarshalText(b []byte) error {
	v, err := ParseAccountRole(string(b))
	if err == nil {
		*r = v
	}
	return err
}

// RoleAssignment is a discriminated union: a predefined
// role (Kind RoleKindPredefined, Name set) or a custom role (Kind
// RoleKindCustom, ID set). Build one with Predefined or Custom.
type RoleAssignment struct {
	Kind RoleKind
	Name PredefinedRole
	ID   ID
	// DisplayName is the custom role's name. It is filled in responses and
	// never read from requests.
	DisplayName string
	// Spelling is how the assignment is written on the wire: a decoded
	// assignment remembers the spelling it arrived in, so that a response
	// can answer in kind. It is not part of the role's identity.
	Spelling Spelling
}

// Predefined returns the assignment of a predefined role.
func Predefined(name PredefinedRole) RoleAssignment {
	return RoleAssignment{Kind: RoleKindPredefined, Name: name}
}

// Custom returns the assignment of the custom role with the given id.
func Custom(id ID) RoleAssignment {
	return RoleAssignment{Kind: RoleKindCustom, ID: id}
}

// Is reports whether r is the predefined role name.
func (r RoleAssignment) Is(name PredefinedRole) bool {
	return r.Kind == RoleKindPredefined && r.Name == name
}

// SameRole reports whether r and o assign the same role, whatever their
// spelling and display name.
func (r RoleAssignment) SameRole(o RoleAssignment) bool {
	return r.Kind == o.Kind && r.Name == o.Name && r.ID == o.ID
}

// Canonical returns the role alone, without spelling or display name: the
// form a Store keeps.
func (r RoleAssignment) Canonical() RoleAssignment {
	return RoleAssignment{Kind: r.Kind, Name: r.Name, ID: r.ID}
}

// Validate reports an invalid_field *Error if r is not a well-formed
// assignment: a known kind, with a known name for a predefined role or a
// valid ID for a custom one, and not both.
func (r RoleAssignment) Validate() error {
	switch r.Kind {
	case RoleKindPredefined:
		if !known(predefinedNames[:], r.Name) {
			return ErrInvalidField.with("role.name", "a predefined role needs a known name")
		}
		if r.ID != "" {
			return ErrInvalidField.with("role.id", "a predefined role takes a name, not an id")
		}
	case RoleKindCustom:
		if r.Name != 0 {
			return ErrInvalidField.with("role.name", "a custom role takes an id, not a name")
		}
		if r.ID == "" {
			return ErrInvalidField.with("role.id", "role.id is required for a custom role")
		}
		if !r.ID.Valid() {
			return ErrInvalidID.with("role.id", "the custom role id is not an ID")
		}
	default:
		return ErrInvalidField.with("role.type", "the role type must be predefined or custom")
	}
	return nil
}

// String returns a short description for logs, such as "PREDEFINED/ADMIN".
func (r RoleAssignment) String() string {
	if r.Kind == RoleKindCustom {
		return r.Kind.String() + "/" + string(r.ID)
	}
	return r.Kind.String() + "/" + r.Name.String()
}
