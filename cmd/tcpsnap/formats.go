package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// formatsCmd is `tcpsnap formats`.
type formatsCmd struct {
	Format string `short:"f" enum:"text,json" default:"text" help:"Output format: ${enum}."`
}

func (c *formatsCmd) Run(e *env) error {
	if c.Format == "json" {
		type formatJSON struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Example     string `json:"example"`
		}
		out := []formatJSON{}
		for _, f := range analyze.Formats() {
			out = append(out, formatJSON{f.Name, f.Description, f.Example})
		}
		return writeJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION\tEXAMPLE")
	for _, f := range analyze.Formats() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, f.Description, f.Example)
	}
	return tw.Flush()
}
