package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

// completionCmd is `tcpsnap completion SHELL`: a completion script made
// from the command tree, so it never falls behind the flags.
type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: ${enum}."`
}

// completionNode is a command with its flags and subcommands.
type completionNode struct {
	path  string // "analyze", "rules list"
	flags []string
	enums map[string][]string // flag -> its values
	subs  []string
}

func (c *completionCmd) Run(e *env) error {
	var nodes []completionNode
	var walk func(n *kong.Node, path string)
	walk = func(n *kong.Node, path string) {
		cn := completionNode{path: path, enums: map[string][]string{}}
		for _, f := range n.Flags {
			if f.Hidden {
				continue
			}
			cn.flags = append(cn.flags, "--"+f.Name)
			if f.Short != 0 {
				cn.flags = append(cn.flags, "-"+string(f.Short))
			}
			if f.Enum != "" {
				vals := strings.Split(f.Enum, ",")
				cn.enums["--"+f.Name] = vals
				if f.Short != 0 {
					cn.enums["-"+string(f.Short)] = vals
				}
			}
		}
		for _, ch := range n.Children {
			if ch.Hidden {
				continue
			}
			cn.subs = append(cn.subs, ch.Name)
			walk(ch, strings.TrimSpace(path+" "+ch.Name))
		}
		sort.Strings(cn.flags)
		nodes = append(nodes, cn)
	}
	walk(e.model.Node, "")
	switch c.Shell {
	case "fish":
		return writeFish(e.stdout, nodes)
	case "zsh":
		fmt.Fprintln(e.stdout, "#compdef tcpsnap")
		fmt.Fprintln(e.stdout, "autoload -U +X bashcompinit && bashcompinit")
	}
	return writeBash(e.stdout, nodes)
}

// writeBash writes a bash completion function (zsh runs it through
// bashcompinit): the words so far select a command; then its
// subcommands, flags, a flag's values, or file names.
func writeBash(w io.Writer, nodes []completionNode) error {
	var b strings.Builder
	b.WriteString("# tcpsnap completion for bash: source <(tcpsnap completion bash)\n")
	b.WriteString("_tcpsnap() {\n\tlocal cur prev path w\n\tcur=${COMP_WORDS[COMP_CWORD]}\n\tprev=${COMP_WORDS[COMP_CWORD-1]}\n\tpath=\"\"\n")
	b.WriteString("\tfor w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n\t\tcase \"$path $w\" in\n")
	for _, n := range nodes {
		for _, s := range n.subs {
			fmt.Fprintf(&b, "\t\t%q) path=%q ;;\n", strings.TrimSpace(n.path+" "+s), strings.TrimSpace(n.path+" "+s))
		}
	}
	b.WriteString("\t\tesac\n\tdone\n\tpath=${path# }\n\tcase \"$path\" in\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "\t%q)\n\t\tcase \"$prev\" in\n", n.path)
		for _, f := range sortedKeys(n.enums) {
			fmt.Fprintf(&b, "\t\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", f, strings.Join(n.enums[f], " "))
		}
		b.WriteString("\t\tesac\n")
		words := append(append([]string{}, n.subs...), n.flags...)
		fmt.Fprintf(&b, "\t\tif [[ $cur == -* || -n %q ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n", strings.Join(n.subs, " "), strings.Join(words, " "))
		b.WriteString("\t\tCOMPREPLY=($(compgen -f -- \"$cur\")) ;;\n")
	}
	b.WriteString("\tesac\n}\ncomplete -o filenames -F _tcpsnap tcpsnap\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFish writes fish completions: commands where none is given yet,
// each command's subcommands and flags after it.
func writeFish(w io.Writer, nodes []completionNode) error {
	var b strings.Builder
	b.WriteString("# tcpsnap completion for fish: tcpsnap completion fish | source\n")
	for _, n := range nodes {
		cond := "__fish_use_subcommand"
		if n.path != "" {
			parts := strings.Fields(n.path)
			cond = "__fish_seen_subcommand_from " + parts[len(parts)-1]
		}
		for _, s := range n.subs {
			fmt.Fprintf(&b, "complete -c tcpsnap -n %q -f -a %q\n", cond, s)
		}
		for _, f := range n.flags {
			if !strings.HasPrefix(f, "--") {
				continue
			}
			line := fmt.Sprintf("complete -c tcpsnap -n %q -l %s", cond, strings.TrimPrefix(f, "--"))
			if vals := n.enums[f]; len(vals) > 0 {
				line += fmt.Sprintf(" -x -a %q", strings.Join(vals, " "))
			}
			b.WriteString(line + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedKeys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
