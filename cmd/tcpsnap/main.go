// Command tcpsnap collects a host's TCP socket state and diagnoses it:
// CLOSE_WAIT leaks, TIME_WAIT churn, ephemeral port exhaustion, full accept
// queues and the rest, from ss, netstat and /proc listings of many systems.
//
// Usage:
//
//	tcpsnap collect [-o FILE]              write a snapshot bundle of this host
//	tcpsnap analyze INPUT...               diagnose bundles, folders, listings or - (stdin)
//	tcpsnap diff BEFORE AFTER              compare two snapshots: findings new, resolved, changed
//	tcpsnap fleet INPUT... [--out DIR]     many hosts at once: findings per rule, both ends matched, Parquet
//	tcpsnap parse INPUT... [-f json|csv]   the normalized sockets, one record per socket
//	tcpsnap rules list | explain ID        the built-in rules
//	tcpsnap formats                        the listing formats it reads
//	tcpsnap completion bash|zsh|fish       a shell completion script
//
// Exit codes: 0 ran fine and found nothing at or above --fail-on; 1 findings
// at or above --fail-on; 2 the input could not be read or a rule is bad;
// 80 usage error.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1
	exitError    = 2
	exitNoData   = 3 // the input holds too little to judge: see the report's "Could not check"
	exitUsage    = 80
)

// cli is the command tree; each command lives in its own file.
type cli struct {
	Analyze    analyzeCmd       `cmd:"" help:"Diagnose snapshots: bundles (.tar.gz, .tgz, .tar, .zip), folders, listing files, or - for stdin."`
	Diff       diffCmd          `cmd:"" help:"Compare two snapshots, say before and after a fix: states, findings new, resolved and changed, and what moved most."`
	Fleet      fleetCmd         `cmd:"" help:"Analyze many hosts at once (bundles, folders of them, globs, - for a list): findings per rule across hosts, both ends of connections matched, --out DIR for NDJSON and Parquet."`
	Parse      parseCmd         `cmd:"" help:"Print the normalized sockets of listings, tickets or bundles as JSON lines or CSV (data, no diagnosis)."`
	Collect    collectCmd       `cmd:"" help:"Collect this host's TCP state into a bundle to attach to a ticket."`
	Rules      rulesCmd         `cmd:"" help:"List and explain the diagnosis rules."`
	Formats    formatsCmd       `cmd:"" help:"List the listing formats tcpsnap detects."`
	Completion completionCmd    `cmd:"" help:"Print a shell completion script: tcpsnap completion bash|zsh|fish (e.g. source <(tcpsnap completion bash))."`
	Version    kong.VersionFlag `help:"Print the version and exit."`
}

// env carries the process's I/O to the commands, so tests can run them.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	model  *kong.Application // the command tree, for completion
}

// versionString is what --version prints: the version, the module
// version and the VCS revision the binary was built from, when the build
// recorded them (go build in a clone does; go run does not).
func versionString() string {
	v := "tcpsnap " + version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	var extra []string
	if m := bi.Main.Version; m != "" && m != "(devel)" {
		extra = append(extra, "module "+m)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		if t := settings["vcs.time"]; t != "" {
			rev += " " + t
		}
		extra = append(extra, "commit "+rev)
	}
	extra = append(extra, bi.GoVersion)
	return v + " (" + strings.Join(extra, ", ") + ")"
}

// exitError carries an exit code through kong's Run.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

func main() {
	stop, err := startDevProfile()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tcpsnap: %v\n", err)
		os.Exit(exitError)
	}
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args and runs the chosen command; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var c cli
	exited := false
	parser, err := kong.New(&c,
		kong.Name("tcpsnap"),
		kong.Description("Diagnose TCP socket-state problems (CLOSE_WAIT leaks, TIME_WAIT churn, port exhaustion, full accept queues) from ss/netstat/proc snapshots."),
		kong.Vars{"version": versionString()},
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { exited, code = true, c; panic(kongExit{}) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintf(stderr, "tcpsnap: %v\n", err)
		return exitError
	}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(kongExit); !ok || !exited {
				panic(r)
			}
		}
	}()
	if len(args) == 0 {
		args = []string{"--help"} // tcpsnap alone: what it does and how
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "tcpsnap: %v\n", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) {
			return exitUsage
		}
		return exitError
	}
	kctx.Bind(&env{stdin: stdin, stdout: stdout, stderr: stderr, model: parser.Model})
	if err := kctx.Run(); err != nil {
		var ec *exitCodeError
		if errors.As(err, &ec) {
			if ec.err != nil {
				fmt.Fprintf(stderr, "tcpsnap: %v\n", ec.err)
			}
			return ec.code
		}
		fmt.Fprintf(stderr, "tcpsnap: %v\n", err)
		return exitError
	}
	return exitOK
}

type kongExit struct{}
