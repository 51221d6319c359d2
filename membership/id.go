package membership

import "encoding/base64"

// MaxIDLength is the longest string accepted as an ID.
const MaxIDLength = 512

// ID is an opaque identifier: standard base64 (RFC 4648 section 4, padded)
// of a non-empty byte string. IDs are compared, never parsed for meaning.
// The zero ID is empty and is not valid.
type ID string

// ParseID returns s as an ID if it is one, and ErrInvalidID otherwise.
func ParseID(s string) (ID, error) {
	id := ID(s)
	if !id.Valid() {
		return "", ErrInvalidID
	}
	return id, nil
}

// Valid reports whether id is standard, padded base64 of at least one byte
// and at most MaxIDLength characters long.
func (id ID) Valid() bool {
	n := len(id)
	if n == 0 || n > MaxIDLength || n%4 != 0 {
		return false
	}
	for i := 0; i < n; i++ {
		// The decoder skips '\r' and '\n'; an ID never contains them.
		if c := id[i]; c == '\r' || c == '\n' {
			return false
		}
	}
	// Strict rejects non-zero padding bits, so every valid ID has exactly one
	// spelling and two spellings never name the same entity. The decoded
	// bytes are not kept: IDs are opaque.
	var buf [MaxIDLength / 4 * 3]byte
	m, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(id))
	return err == nil && m > 0
}

// String returns the ID as it is written on the wire.
func (id ID) String() string { return string(id) }
