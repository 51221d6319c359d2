package membership

// ProblemTypePrefix starts the "type" URI of every problem document; the
// error_code completes it. The URIs are stable identifiers of the error
// classes, documented in the README, and are not meant to be dereferenced.
const ProblemTypePrefix = "urn:spaceauthz:problem:"

// ProblemContentType is the media type of a problem document (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem document with the error_code extension
// member. Marshal it with encoding/json.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	ErrorCode Code   `json:"error_code"`
}

// Problem renders e as a problem document. Titles are stable per class; a
// code defined by a host's own policy gets the title "Denied by policy".
func (e *Error) Problem() Problem {
	title := e.title
	if title == "" {
		title = "Denied by policy"
	}
	return Problem{
		Type:      ProblemTypePrefix + string(e.Code),
		Title:     title,
		Status:    e.Status,
		Detail:    e.Detail,
		ErrorCode: e.Code,
	}
}

// ProblemFor renders any error as a problem document: an *Error (or an error
// wrapping one) as its class, anything else as 500 internal with a generic
// detail.
func ProblemFor(err error) Problem { return asError(err).Problem() }
