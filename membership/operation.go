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
	// OperationOrgAdd and OperationOrgRemove change a membership of an
	// organization, one level above the space.
	OperationOrgAdd
	OperationOrgRemove
	// OperationRead reads one space: GetSpace, and each space a list of
	// spaces considers.
	OperationRead
	// OperationAudit reads the account's audit log: ListAuditLogs and
	// Changes. It is about neither a space nor an organization.
	OperationAudit
)

var operationNames = [...]string{
	OperationAdd:       "add",
	OperationRemove:    "remove",
	OperationList:      "list",
	OperationOrgAdd:    "org_add",
	OperationOrgRemove: "org_remove",
	OperationRead:      "read",
	OperationAudit:     "audit",
}

// String returns the operation's name as the policy input spells it: add,
// remove, list, org_add, org_remove, read or audit ("" for the zero
// Operation).
func (o Operation) String() string {
	if int(o) < len(operationNames) {
		return operationNames[o]
	}
	return ""
}

// Level says whether the operation changes a membership of an organization
// (LevelOrganization) or works on a space (LevelSpace); zero for none.
func (o Operation) Level() Level {
	switch o {
	case OperationAdd, OperationRemove, OperationList, OperationRead:
		return LevelSpace
	case OperationOrgAdd, OperationOrgRemove:
		return LevelOrganization
	}
	return 0
}
