package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// formatsCmd is `tcpsnap formats`.
type formatsCmd struct{}

func (c *formatsCmd) Run(e *env) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION\tEXAMPLE")
	for _, f := range analyze.Formats() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, f.Description, f.Example)
	}
	return tw.Flush()
}
