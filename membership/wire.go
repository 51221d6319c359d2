package membership

import (
	"bytes"
	"errors"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// This file holds the JSON shapes of an add's body and of a role
// assignment, and the two-pass decoding that keeps the 400/422 split of an
// add's checks: every syntax and type
// error (400 invalid_json) is found before any duplicate or unknown member
// (422 invalid_field), whichever comes first in the text.

// wireRole is a role assignment as JSON types allow it; nil means absent or
// null.
type wireRole struct {
	Type *string `json:"type"`
	ID   *string `json:"id"`
	Name *string `json:"name"`
}

// wireAddUserBody is the body of POST /v2/spaces/{space_id}/users.
type wireAddUserBody struct {
	UserID *string   `json:"user_id"`
	Role   *wireRole `json:"role"`
}

// decodeTypes decodes the JSON object data, found at the field path prefix
// ("" for a request body), into v, tolerating duplicate and unknown members,
// and reports syntax and type errors as 400 invalid_json.
func decodeTypes(data []byte, v any, prefix string) error {
	if k := jsontext.Value(bytes.TrimLeft(data, " \t\r\n")).Kind(); k != '{' {
		// Unmarshal would take null as an empty object.
		if prefix == "" {
			return ErrInvalidJSON.with("", "the body must be a JSON object")
		}
		return ErrInvalidJSON.with(prefix, prefix+" must be a JSON object")
	}
	err := json.Unmarshal(data, v, jsontext.AllowDuplicateNames(true))
	if err == nil {
		return nil
	}
	var serr *json.SemanticError
	if errors.As(err, &serr) && serr.JSONPointer != "" {
		field := fieldPath(prefix, serr.JSONPointer)
		return ErrInvalidJSON.with(field, field+" has the wrong JSON type")
	}
	return ErrInvalidJSON.with(prefix, "the JSON text is not valid")
}

// checkMembers reports the first duplicate or unknown member of data, which
// decodeTypes has accepted, as 422 invalid_field. fresh must point to a zero
// value of the type given to decodeTypes.
func checkMembers(data []byte, fresh any, prefix string) error {
	err := json.Unmarshal(data, fresh, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var (
		serr *json.SemanticError
		xerr *jsontext.SyntacticError
	)
	switch {
	case errors.As(err, &xerr) && errors.Is(err, jsontext.ErrDuplicateName):
		field := clip(fieldPath(prefix, xerr.JSONPointer))
		return ErrInvalidField.with(field, QuoteInput(field)+" appears more than once")
	case errors.As(err, &serr) && errors.Is(err, json.ErrUnknownName):
		field := clip(fieldPath(prefix, serr.JSONPointer))
		return ErrInvalidField.with(field, QuoteInput(field)+" is not a known field")
	}
	// decodeTypes accepted the text, so nothing else can fail here.
	return Internal(err)
}

// fieldPath turns a JSON pointer such as /role/name, found under prefix,
// into a field path such as role.name.
func fieldPath(prefix string, p jsontext.Pointer) string {
	var b strings.Builder
	b.WriteString(prefix)
	for tok := range p.Tokens() {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// checkIDs reports a present role id that is not an ID (400 invalid_id).
func (w *wireRole) checkIDs(field string) error {
	if w != nil && w.ID != nil && !ID(*w.ID).Valid() {
		return ErrInvalidID.with(field+".id", field+".id is not an ID")
	}
	return nil
}

// assignment turns a type-checked wire role into a RoleAssignment, or a 422
// invalid_field naming the field that is missing or unknown. The type and the
// name must share a spelling.
func (w *wireRole) assignment(field string) (RoleAssignment, error) {
	if w == nil {
		return RoleAssignment{}, ErrInvalidField.with(field, field+" is required")
	}
	if w.Type == nil {
		return RoleAssignment{}, ErrInvalidField.with(field+".type", field+".type is required")
	}
	kind, sp, ok := parseEnum[RoleKind](kindNames[:], *w.Type)
	if !ok {
		return RoleAssignment{}, ErrInvalidField.with(field+".type", field+".type must be predefined or custom")
	}
	r := RoleAssignment{Kind: kind, Spelling: sp}
	switch kind {
	case RoleKindPredefined:
		if w.ID != nil {
			return RoleAssignment{}, ErrInvalidField.with(field+".id", "a predefined role takes a name, not an id")
		}
		if w.Name == nil {
			return RoleAssignment{}, ErrInvalidField.with(field+".name", field+".name is required for a predefined role")
		}
		name, nameSp, ok := parseEnum[PredefinedRole](predefinedNames[:], *w.Name)
		if !ok || nameSp != sp {
			return RoleAssignment{}, ErrInvalidField.with(field+".name", field+".name is not a predefined role in the spelling of "+field+".type")
		}
		r.Name = name
	case RoleKindCustom:
		if w.Name != nil {
			return RoleAssignment{}, ErrInvalidField.with(field+".name", "a custom role takes an id, not a name")
		}
		if w.ID == nil {
			return RoleAssignment{}, ErrInvalidField.with(field+".id", field+".id is required for a custom role")
		}
		r.ID = ID(*w.ID)
	}
	return r, nil
}

// decodeRole decodes a role assignment object standing on its own, with the
// same checks as inside a request body.
func decodeRole(data []byte, field string) (RoleAssignment, error) {
	var w wireRole
	if err := decodeTypes(data, &w, field); err != nil {
		return RoleAssignment{}, err
	}
	if err := w.checkIDs(field); err != nil {
		return RoleAssignment{}, err
	}
	if err := checkMembers(data, new(wireRole), field); err != nil {
		return RoleAssignment{}, err
	}
	return w.assignment(field)
}

// UnmarshalJSON decodes a role assignment in either spelling, strictly: no
// unknown or duplicate members, type and name in the same spelling, a name
// for a predefined role and an id for a custom one. Errors are *Error values
// (invalid_json, invalid_id or invalid_field).
func (r *RoleAssignment) UnmarshalJSON(data []byte) error {
	v, err := decodeRole(data, "role")
	if err == nil {
		*r = v
	}
	return err
}

// MarshalJSON writes the assignment in its Spelling; a custom role carries
// its display name when it is known.
func (r RoleAssignment) MarshalJSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	w := wireRole{Type: ptr(spell(kindNames[:], r.Kind, r.Spelling))}
	if r.Kind == RoleKindPredefined {
		w.Name = ptr(spell(predefinedNames[:], r.Name, r.Spelling))
	} else {
		w.ID = ptr(string(r.ID))
		if r.DisplayName != "" {
			w.Name = ptr(r.DisplayName)
		}
	}
	return json.Marshal(w, json.OmitZeroStructFields(true))
}

func ptr[T any](v T) *T { return &v }
