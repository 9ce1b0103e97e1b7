package fleet

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// A Job is one host to analyze: a bundle, a capture folder or a listing
// file. Err is set when the argument could not even be found (a glob
// with no match, a missing path): the job becomes an error row.
type Job struct {
	Path string
	Err  string
}

// maxDepth bounds how deep Expand looks into folders of folders.
const maxDepth = 4

// maxListBytes bounds the list of paths read from standard input.
const maxListBytes = 64 << 20

// archiveExts are the names of files Expand treats as bundles inside a
// folder it expands.
var archiveExts = []string{".tar.gz", ".tgz", ".tar", ".zip"}

// IsBundleName reports whether a file name looks like a bundle.
func IsBundleName(name string) bool {
	n := strings.ToLower(name)
	for _, e := range archiveExts {
		if strings.HasSuffix(n, e) {
			return true
		}
	}
	return false
}

// Expand turns the arguments into jobs, one per host, without
// duplicates, in argument order: a file is one host; a folder that is
// itself a capture (it holds a manifest.json or listing files directly)
// is one host; any other folder is expanded into the bundles and host
// folders it holds (up to maxDepth levels); an argument with glob
// characters that names no file is expanded as a glob; "-" reads a list
// of paths, one a line, from stdin, each expanded the same way. It fails
// only when stdin cannot be read; a path that does not exist becomes a
// Job with Err set.
func Expand(args []string, stdin io.Reader) ([]Job, error) {
	var jobs []Job
	seen := map[string]bool{}
	add := func(j Job) {
		key := j.Path
		if j.Err == "" {
			key = filepath.Clean(j.Path)
		}
		if seen[key] {
			return
		}
		seen[key] = true
		jobs = append(jobs, j)
	}
	var one func(arg string)
	one = func(arg string) {
		if _, err := os.Lstat(arg); err != nil && strings.ContainsAny(arg, "*?[") {
			matches, gerr := filepath.Glob(arg)
			if gerr != nil {
				add(Job{Path: arg, Err: fmt.Sprintf("bad pattern: %v", gerr)})
				return
			}
			if len(matches) == 0 {
				add(Job{Path: arg, Err: "no file matches this pattern"})
				return
			}
			for _, m := range matches {
				expandPath(m, 0, add)
			}
			return
		}
		expandPath(arg, 0, add)
	}
	for _, arg := range args {
		if arg != "-" {
			one(arg)
			continue
		}
		if stdin == nil {
			return nil, fmt.Errorf("reading the list of inputs: no standard input")
		}
		sc := bufio.NewScanner(io.LimitReader(stdin, maxListBytes))
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
			if line == "" || strings.HasPrefix(line, "#") || line == "-" {
				continue
			}
			one(line)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading the list of inputs from stdin: %w", err)
		}
	}
	return jobs, nil
}

// expandPath adds the host or hosts one path names.
func expandPath(p string, depth int, add func(Job)) {
	fi, err := os.Stat(p)
	if err != nil {
		add(Job{Path: p, Err: cleanErr(err)})
		return
	}
	if !fi.IsDir() {
		add(Job{Path: p})
		return
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		add(Job{Path: p, Err: cleanErr(err)})
		return
	}
	if isCapture(ents) {
		add(Job{Path: p})
		return
	}
	if depth >= maxDepth {
		add(Job{Path: p, Err: fmt.Sprintf("folders nested deeper than %d levels: not expanded", maxDepth)})
		return
	}
	var subs []string
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		full := filepath.Join(p, name)
		switch t := e.Type(); {
		case t.IsDir():
			subs = append(subs, full)
		case t.IsRegular() && IsBundleName(name):
			add(Job{Path: full})
		case t&os.ModeSymlink != 0:
			// A link to a bundle counts; a link to a folder is not
			// followed (no loops).
			if st, err := os.Stat(full); err == nil && st.Mode().IsRegular() && IsBundleName(name) {
				add(Job{Path: full})
			}
		}
	}
	sort.Strings(subs)
	for _, s := range subs {
		expandPath(s, depth+1, add)
	}
}

// isCapture reports whether a folder is one host's capture: it holds a
// manifest.json, or files other than bundles directly.
func isCapture(ents []os.DirEntry) bool {
	for _, e := range ents {
		name := e.Name()
		if name == "manifest.json" {
			return true
		}
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		if !IsBundleName(name) {
			return true
		}
	}
	return false
}

// cleanErr turns an os error into a short lowercase message.
func cleanErr(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
