package linearizable

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/anishathalye/porcupine"
)

// CheckTimeout bounds the check of one history. The workloads' histories
// check in far less: a check that runs out of it fails, so a history too
// large to check is found at once rather than passed.
const CheckTimeout = 30 * time.Second

// A Verdict is the outcome of checking a history.
type Verdict struct {
	// Result is porcupine's: Ok, Illegal, or Unknown when the check ran
	// out of time.
	Result porcupine.CheckResult
	model  porcupine.Model
	info   porcupine.LinearizationInfo
}

// Check checks whether h is linearizable within timeout. Only a history
// that is not (or whose check timed out) is checked a second time, for the
// visualisation, which costs more.
func Check(h *History, timeout time.Duration) Verdict {
	return check(NewModel(h.World), h.Operations, timeout)
}

func check(m porcupine.Model, ops []porcupine.Operation, timeout time.Duration) Verdict {
	v := Verdict{Result: porcupine.CheckOperationsTimeout(m, ops, timeout), model: m}
	if v.Result != porcupine.Ok {
		_, v.info = porcupine.CheckOperationsVerbose(m, ops, timeout)
	}
	return v
}

// Linearizable reports whether the check found an order of the history
// that the model accepts. A check that timed out found none: it is not a
// pass.
func (v Verdict) Linearizable() bool { return v.Result == porcupine.Ok }

// Visualize writes porcupine's visualisation of a history that is not
// linearizable to a file named after the history in dir, and returns its
// path.
func (v Verdict) Visualize(dir string, h *History) (string, error) {
	if v.Linearizable() {
		return "", fmt.Errorf("linearizable: history %d is linearizable: there is nothing to show", h.Number)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-seed%d-history%d.html", h.Workload.Name, h.Seed, h.Number))
	if err := porcupine.VisualizePath(v.model, v.info, path); err != nil {
		return "", fmt.Errorf("linearizable: writing the visualisation: %w", err)
	}
	return path, nil
}
