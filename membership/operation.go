package membership

// Operation names what a request does. The policy decides every operation
// with one decision document, and reads the operation from its input.
type Operation uint8

// The operations. The zero Operation is none, and the default policy denies
// it.
const (
	OperationAdd Operation = iota + 1
	OperationRemove
	OperationList
)

var operationNames = [...]string{
	OperationAdd:    "add",
	OperationRemove: "remove",
	OperationList:   "list",
}

// String returns the operation's name as the policy input spells it: add,
// remove or list ("" for the zero Operation).
func (o Operation) String() string {
	if int(o) < len(operationNames) {
		return operationNames[o]
	}
	return ""
}
