package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// writeTable writes the report for people: the machine, the stream, one
// table per group with each result's ratio to its baseline, and the
// targets.
func writeTable(w io.Writer, r Report) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "spaceauthz benchmarks: %s/%s, %d CPUs, GOMAXPROCS %d, %s, median of %d run(s)\n",
		m.GOOS, m.GOARCH, m.NumCPU, m.GOMAXPROCS, m.GoVersion, r.Count)
	for _, s := range r.Seeding {
		if s.Spaces > 0 {
			var members string
			if s.Memberships > 0 {
				members = " and " + count(s.Memberships) + " space memberships"
			}
			fmt.Fprintf(&b, "seeded %s with %s spaces%s in %.1fs\n", s.Store, count(s.Spaces), members, s.Seconds)
			continue
		}
		if s.Accounts > 0 {
			fmt.Fprintf(&b, "seeded %s: %s accounts, %s space memberships, in %.1fs\n", s.Store, count(s.Accounts), count(s.Memberships), s.Seconds)
			continue
		}
		fmt.Fprintf(&b, "seeded %s with %s memberships in %.1fs\n", s.Store, count(s.Memberships), s.Seconds)
	}
	if r.Traffic != nil {
		b.WriteString("\n")
		writeStream(&b, r.Traffic)
	}

	for _, g := range r.Groups {
		var rows [][]string
		for _, res := range r.Results {
			if res.Group != g.Name {
				continue
			}
			if res.Runs == 0 {
				rows = append(rows, []string{res.Name, "failed"})
				continue
			}
			row := []string{res.Name}
			for _, metric := range g.Columns {
				v, ok := res.value(metric)
				row = append(row, map[bool]string{true: metricText(metric, v), false: "-"}[ok])
			}
			rows = append(rows, append(row, ratioText(res), baselineText(res)))
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", g.Title)
		header := append([]string{"benchmark"}, g.Columns...)
		writeColumns(&b, append(header, g.Ratio), "baseline", rows)
	}

	b.WriteString("\n")
	var rows [][]string
	for _, t := range r.Targets {
		value := "-"
		if t.Status != "SKIP" {
			value = metricText(t.Unit, t.Value)
		}
		rows = append(rows, []string{t.Name, t.Unit, value, t.Op + " " + metricText(t.Unit, t.Limit), t.Status})
	}
	writeColumns(&b, []string{"target", "unit", "value", "limit"}, "result", rows)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeStream describes the stream the traffic benchmarks run on and what
// the check before timing found.
func writeStream(b *strings.Builder, t *TrafficCheck) {
	s := t.Shape
	fmt.Fprintf(b, "The stream: %s add requests across %s accounts (popularity by a Zipf law), the same on every run.\n",
		count(s.Requests), count(t.Accounts))
	fmt.Fprintf(b, "  allowed %s; naming a space, user or role of another account %s\n", percent(s.share(s.Allowed)), percent(s.share(s.CrossAccount)))
	var denied []string
	for _, code := range deniedCodes {
		denied = append(denied, fmt.Sprintf("%s %s", code, percent(s.share(s.Denied[code]))))
	}
	fmt.Fprintf(b, "  denied: %s\n", strings.Join(denied, ", "))
	var checked []string
	for _, a := range t.Agreement {
		checked = append(checked, fmt.Sprintf("%s on %s", a.Decider, count(a.Checked)))
	}
	fmt.Fprintf(b, "  checked before timing against the hand-written check: %s requests; %s differ\n", strings.Join(checked, ", "), count(t.differing()))
	for _, a := range t.Agreement {
		if a.FirstDifference != "" {
			fmt.Fprintf(b, "    first difference of %s: %s\n", a.Decider, a.FirstDifference)
		}
	}
	fmt.Fprintf(b, "  engine cache hit ratio after the first %s requests: %s\n", count(t.Warmup), metricText("share", t.HitRatio))
}

func percent(share float64) string { return fmt.Sprintf("%.1f%%", 100*share) }

// metricText writes a value of a metric: shares and hit ratios with four
// decimals (0.9990 and 1 are far apart for a cache), ratios with three
// significant digits, the rest with num.
func metricText(metric string, v float64) string {
	switch metric {
	case "hit-ratio", "share":
		return fmt.Sprintf("%.4f", v)
	case "ratio":
		return strings.TrimSuffix(ratio(v), "x")
	}
	return num(v)
}

// writeColumns writes a header and rows: the first column left-aligned, the
// middle ones right-aligned, the last (named last) left-aligned.
func writeColumns(b *strings.Builder, header []string, last string, rows [][]string) {
	header = append(header, last)
	widths := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range append([][]string{header}, rows...) {
		var line strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			switch {
			case i == 0:
				line.WriteString(cell + pad)
			case i == len(header)-1:
				line.WriteString("  " + cell)
			default:
				line.WriteString("  " + pad + cell)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
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
	switch res.Baseline {
	case "":
		return ""
	case res.Name:
		return "baseline"
	}
	return "vs " + res.Baseline
}

// num writes a number with about three significant digits, integers as
// integers, and thousands separated: 4.12, 12.5, 375, 25,000.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return count(int(math.Round(v)))
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

// The chart: one panel per group, one horizontal bar per benchmark on a
// logarithmic axis of the group's metric, baselines in grey.
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
	title  string
	metric string // the group's Compare
	bars   []bar
}

// panels draws one panel per group that has results.
func panels(r Report) []panel {
	var ps []panel
	for _, g := range r.Groups {
		p := panel{title: fmt.Sprintf("%s (%s, log scale)", g.Title, g.Compare), metric: g.Compare}
		for _, res := range r.Results {
			if res.Group != g.Name || res.Runs == 0 {
				continue
			}
			if v, ok := res.value(g.Compare); ok && v > 0 {
				p.bars = append(p.bars, bar{res.Name, v, res.Ratio, res.Baseline == res.Name})
			}
		}
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
	text(&b, 10, 40, "start", "fill=\"#555\"", fmt.Sprintf("%s/%s, %d CPUs, %s, median of %d run(s); grey bars are baselines, ratios are to the baseline on the panel's measure",
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
		text(b, x(d), float64(bottom+14), "middle", "fill=\"#555\"", quantity(d, p.metric))
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
		label := quantity(bar.value, p.metric)
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

// quantity writes a value of a metric with a prefix: 4.12 ns, 24.1 µs,
// 612 B, 1.25 M/s.
func quantity(v float64, metric string) string {
	unit, prefixes := "", []string{"", "k", "M", "G"}
	switch {
	case metric == "ns/op":
		unit, prefixes = "s", []string{"n", "µ", "m", ""}
	case strings.HasPrefix(metric, "B/"):
		unit = "B"
	case strings.HasSuffix(metric, "/s"):
		unit = "/s"
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
