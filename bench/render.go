package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// writeTable writes the report for people: the machine, one line per
// benchmark with its ratio to its baseline, and the targets.
func writeTable(w io.Writer, r Report) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "spaceauthz benchmarks: %s/%s, %d CPUs, GOMAXPROCS %d, %s, median of %d run(s)\n",
		m.GOOS, m.GOARCH, m.NumCPU, m.GOMAXPROCS, m.GoVersion, r.Count)
	for _, s := range r.Seeding {
		fmt.Fprintf(&b, "seeded %s with %d memberships in %.1fs\n", s.Store, s.Memberships, s.Seconds)
	}
	b.WriteString("\n")

	metrics := customMetrics(r)
	header := append([]string{"ns/op", "allocs/op", "B/op"}, metrics...)
	header = append(header, "ratio")
	rows := [][]string{}
	for _, res := range r.Results {
		if res.Runs == 0 {
			rows = append(rows, []string{res.Name, "failed"})
			continue
		}
		row := []string{res.Name, num(res.NsPerOp), num(res.AllocsPerOp), num(res.BytesPerOp)}
		for _, k := range metrics {
			v, ok := res.Metrics[k]
			row = append(row, map[bool]string{true: num(v), false: "-"}[ok])
		}
		row = append(row, ratioText(res), baselineText(res))
		rows = append(rows, row)
	}
	writeColumns(&b, append([]string{"benchmark"}, header...), "baseline", rows)

	b.WriteString("\n")
	rows = rows[:0]
	for _, t := range r.Targets {
		value := "-"
		if t.Status != "SKIP" {
			value = num(t.Value)
		}
		rows = append(rows, []string{t.Name, value, t.Op + " " + num(t.Limit), t.Status})
	}
	writeColumns(&b, []string{"target (issue 4)", "value", "target"}, "result", rows)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeColumns writes a header and rows: the first column left-aligned, the
// middle ones right-aligned, the last (named last) left-aligned.
func writeColumns(b *strings.Builder, header []string, last string, rows [][]string) {
	header = append(header, last)
	widths := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, cell := range row {
			widths[i] = max(widths[i], len(cell))
		}
	}
	for _, row := range append([][]string{header}, rows...) {
		var line strings.Builder
		for i, cell := range row {
			switch {
			case i == 0:
				fmt.Fprintf(&line, "%-*s", widths[i], cell)
			case i == len(header)-1:
				fmt.Fprintf(&line, "  %s", cell)
			default:
				fmt.Fprintf(&line, "  %*s", widths[i], cell)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// customMetrics lists the metrics of the results beyond the standard ones.
func customMetrics(r Report) []string {
	set := map[string]bool{}
	for _, res := range r.Results {
		for k := range res.Metrics {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func ratioText(res Result) string {
	if res.Ratio == 0 {
		return "-"
	}
	return ratio(res.Ratio)
}

// ratio writes a ratio with three significant digits: 1.00x, 12.5x, 375x.
func ratio(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fx", v)
	case v >= 10:
		return fmt.Sprintf("%.1fx", v)
	}
	return fmt.Sprintf("%.2fx", v)
}

func baselineText(res Result) string {
	metric := ""
	if res.Metric != "" {
		metric = " (" + res.Metric + ")"
	}
	switch res.Baseline {
	case "":
		return ""
	case res.Name:
		return "baseline" + metric
	}
	return "vs " + res.Baseline + metric
}

// num writes a number with about three significant digits, and integers as
// integers.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// writeJSON writes the report for machines.
func writeJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// The chart: one panel per unit, one horizontal bar per benchmark on a
// logarithmic axis, baselines in grey.
const (
	chartWidth  = 960
	labelWidth  = 330 // the benchmark names, left of the bars
	barsWidth   = 470
	rowHeight   = 22
	barHeight   = 14
	panelMargin = 36
)

type bar struct {
	label    string
	value    float64
	ratio    float64
	baseline bool
}

type panel struct {
	title string
	unit  string // "ns" or "B"
	bars  []bar
}

// panels sorts the results into the time panel and the memory panel.
func panels(r Report) []panel {
	timePanel := panel{title: "time per operation (ns/op, log scale)", unit: "ns"}
	memoryPanel := panel{title: "memory per membership (B/membership, log scale)", unit: "B"}
	for _, res := range r.Results {
		if res.Runs == 0 {
			continue
		}
		if v, ok := res.Metrics["B/membership"]; ok {
			memoryPanel.bars = append(memoryPanel.bars, bar{res.Name, v, res.Ratio, res.Baseline == res.Name})
			continue
		}
		timePanel.bars = append(timePanel.bars, bar{res.Name, res.NsPerOp, res.Ratio, res.Baseline == res.Name})
	}
	var ps []panel
	for _, p := range []panel{timePanel, memoryPanel} {
		if len(p.bars) > 0 {
			ps = append(ps, p)
		}
	}
	return ps
}

// writeSVG draws the report as a bar chart.
func writeSVG(w io.Writer, r Report) error {
	ps := panels(r)
	height := 56
	for _, p := range ps {
		height += panelMargin + len(p.bars)*rowHeight + 24
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartWidth, height)
	m := r.Machine
	text(&b, 10, 22, "start", "font-size=\"15\" font-weight=\"bold\"", "spaceauthz benchmarks")
	text(&b, 10, 40, "start", "fill=\"#555\"", fmt.Sprintf("%s/%s, %d CPUs, %s, median of %d run(s); grey bars are baselines, ratios are to the baseline",
		m.GOOS, m.GOARCH, m.NumCPU, m.GoVersion, r.Count))
	y := 56
	for _, p := range ps {
		y = drawPanel(&b, p, y+panelMargin)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// drawPanel draws p with its title at y and returns where it ends.
func drawPanel(b *strings.Builder, p panel, y int) int {
	text(b, 10, float64(y-10), "start", "font-weight=\"bold\"", p.title)
	lo, hi := decades(p.bars)
	x := func(v float64) float64 {
		return labelWidth + barsWidth*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
	}
	bottom := y + len(p.bars)*rowHeight
	for d := lo; d <= hi*1.001; d *= 10 {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(d), y-4, x(d), bottom)
		text(b, x(d), float64(bottom+14), "middle", "fill=\"#555\"", quantity(d, p.unit))
	}
	for i, bar := range p.bars {
		top := y + i*rowHeight
		text(b, labelWidth-8, float64(top+barHeight-2), "end", "", bar.label)
		fill := "#4063d8"
		if bar.baseline {
			fill = "#9e9e9e"
		}
		end := x(bar.value)
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n",
			labelWidth, top, max(end-labelWidth, 1), barHeight, fill)
		label := quantity(bar.value, p.unit)
		if bar.ratio != 0 && !bar.baseline {
			label += " (" + ratio(bar.ratio) + ")"
		}
		text(b, end+6, float64(top+barHeight-2), "start", "", label)
	}
	return bottom + 24
}

// decades returns the powers of ten around the values of bars.
func decades(bars []bar) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, b := range bars {
		lo, hi = min(lo, b.value), max(hi, b.value)
	}
	least := max(lo, 0.1)
	lo = math.Pow(10, math.Floor(math.Log10(least)))
	if least < 2*lo {
		lo /= 10 // so that the shortest bar is not a sliver
	}
	hi = math.Pow(10, math.Ceil(math.Log10(max(hi, 0.1))))
	if hi <= lo {
		hi = lo * 10
	}
	return lo, hi
}

// quantity writes a number of ns or B with a prefix: 4.12 ns, 24.1 µs, 612 B.
func quantity(v float64, unit string) string {
	prefixes := []string{"", "k", "M", "G"}
	if unit == "ns" {
		unit, prefixes = "s", []string{"n", "µ", "m", ""}
	}
	i := 0
	for v >= 1000 && i < len(prefixes)-1 {
		v /= 1000
		i++
	}
	return num(v) + " " + prefixes[i] + unit
}

func text(b *strings.Builder, x, y float64, anchor, attrs, s string) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s"`, x, y, anchor)
	if attrs != "" {
		b.WriteString(" " + attrs)
	}
	b.WriteString(">")
	xml.EscapeText(b, []byte(s))
	b.WriteString("</text>\n")
}
